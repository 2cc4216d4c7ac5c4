// `clatbar status` as scripts and people use it: `--json` with no engine gives JSON too (a
// script piping into jq used to get empty stdout), and every drop reason the translator counts
// is shown in words, including the ones newer than the shared table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatus } from '../helpers/control.js';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function status(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [clatbar, 'status', ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('status --json with no engine: JSON on stdout saying so, exit 1, the fix on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-status-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'none.sock');
  const r = await status(['--json', '--control-socket', sock]);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout) as { running: boolean; controlSocket: string; error: string; fix: string };
  assert.equal(j.running, false);
  assert.equal(j.controlSocket, sock);
  assert.match(j.error, /no engine is running/);
  assert.match(j.fix, /clatbar run/);
  assert.match(r.stderr, /no engine is running/);
  // Without --json: words only, nothing on stdout.
  const plain = await status(['--control-socket', sock]);
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, '');
});

/**
 * `clatbar status` against a control socket that answers status with doc (an engine of pid 4242
 * just started, no transitions, unless doc says otherwise); removed afterwards.
 */
async function statusOf(
  t: { after(fn: () => unknown): void },
  doc: Record<string, unknown>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-status-'));
  const sock = join(dir, 'engine.sock');
  const server = await serveStatus(sock, () => ({
    transitions: [],
    pid: 4242,
    startedAt: new Date().toISOString(),
    ...doc,
  }));
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return status(['--control-socket', sock]);
}

test('every drop reason is shown in words, the new ones too', async (t) => {
  const r = await statusOf(t, {
    state: 'active',
    mode: 'foreground',
    reason: { code: 'active.foreground', text: 'translating' },
    uplink: 'up0',
    tun: 'clat0',
    prefix: '2001:db8:64::/96',
    prefixSource: 'configured',
    clatIpv4: '192.0.0.4',
    clatIpv6: '2001:db8:1::c1a7',
    checksumNeutral: true,
    ipv6Mtu: 1500,
    ipv4Mtu: 1472,
    forwarding: 'per-interface (force_forwarding)',
    firewallWarnings: [],
    counters: {
      translated46: 10,
      translated64: 10,
      'drop.ttl-expired': 60,
      'drop.icmp-rate-limited': 10,
      'drop.icmp-fragment-expired': 2,
      'drop.udp-checksum-zero': 1,
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rate limit.*\(icmp-rate-limited\)/);
  assert.match(r.stdout, /fragmented ping.*\(icmp-fragment-expired\)/);
  assert.match(r.stdout, /zero checksum.*\(udp-checksum-zero\)/);
  assert.doesNotMatch(r.stdout, /IPv4 UDP without checksum/, 'the engine drops IPv6 ones, not IPv4');
});

test('daemon status: what DHCPv4 asks of an IPv6-mostly network (option 108) is shown', async (t) => {
  const r = await statusOf(t, {
    state: 'standby',
    mode: 'daemon',
    reason: { code: 'standby.dual-stack', text: 'not needed: the network has native IPv4' },
    network: { id: 'nm-3c1e5b7a-0d2f-4e8a-9b6c-5a4d3e2f1a0b', name: 'IETF', idSource: 'networkmanager' },
    classification: 'dual-stack',
    classificationText: { code: 'network.dual-stack', text: 'the network has native IPv4' },
    dhcpV6OnlyPreferred: {
      code: 'v6only.requested',
      params: { connection: 'IETF', version: '1.52.0' },
      text: 'DHCPv4 asks for option 108 (IPv6-only preferred, RFC 8925) on IETF',
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /option 108 +DHCPv4 asks for option 108 \(IPv6-only preferred, RFC 8925\) on IETF/);
});
