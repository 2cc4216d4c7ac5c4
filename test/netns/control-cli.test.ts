// The CLI against a live engine in a network namespace: the engine started with `ip netns exec
// NS clatbar run` (no --control-socket) listens at /run/clatbar-netns/NS/engine.sock and `ip
// netns exec NS clatbar ...` finds it without being told (shared/control.ts controlSocketPath).
// And the reason commands must be asynchronous: while the engine runs a command that takes 3 s
// (an `nft` that hangs, bind-mounted over the real one in the engine's own mount namespace), a
// ping through the CLAT goes on without a stall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { buildClatLab, startServers, waitFor, nsh, PREFIX, SERVER_V4, CLATBAR } from '../helpers/clat-lab.js';
import { controlSocketPath } from '../../src-main/shared/control.js';
import { assertCodedLines } from '../helpers/coded-log.js';
import type { LogLine } from '../../src-main/shared/status.js';

/** `ip netns exec NS clatbar ARGS` with its exit status and output (asynchronous). */
function cli(ns: string, args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, CLATBAR, ...args]);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (status) => resolve({ status, out, err }));
  });
}

test(
  'the CLI finds its namespace engine by default; selftest, logs, diag, and a ping that does not stall while a slow command runs',
  { timeout: 180_000 },
  async (t) => {
    if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat', 'nft', 'unshare', 'ping'] }))
      return;
    const cl = await buildClatLab('cc');
    t.after(() => cl.dispose());
    await startServers(cl);
    const ns = cl.laptop;
    const sockDir = join('/run/clatbar-netns', ns);
    t.after(() => rmSync(sockDir, { recursive: true, force: true }));
    const base = join(cl.wwwDir, '..');
    const stateDir = join(base, 'state');
    // An nft that takes 3 s, in place of the real one for the engine only.
    const slow = join(base, 'slow-nft');
    mkdirSync(slow, { mode: 0o755 });
    chmodSync(base, 0o755);
    copyFileSync('/usr/sbin/nft', join(slow, 'nft.real'));
    writeFileSync(join(slow, 'nft'), `#!/bin/sh\nsleep 3\nexec ${join(slow, 'nft.real')} "$@"\n`, {
      mode: 0o755,
    });

    // Before any engine: the message says what to do, with the namespace's own path.
    const none = await cli(ns, ['status']);
    assert.equal(none.status, 1);
    assert.match(
      none.err,
      new RegExp(`no engine is running \\(nothing listens on ${controlSocketPath(ns)}\\)`),
    );
    assert.match(none.err, /sudo systemctl start clatbar-engine/);

    const engine = cl.lab.spawn(ns, 'unshare', [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount --bind ${join(slow, 'nft')} /usr/sbin/nft && exec ${process.execPath} ${CLATBAR} run --uplink ${cl.uplink} --prefix ${PREFIX} --state-dir ${stateDir} --selftest-target ${SERVER_V4}:80 --selftest-name localhost`,
    ]);
    let log = '';
    engine.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    engine.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(
      'the CLAT to come up',
      () => log.includes('CLAT is up') || engine.exitCode !== null,
      60_000,
    );
    await waitFor('the control socket', () => log.includes('status: clatbar status'), 10_000);
    assert.match(log, new RegExp(`JSON-RPC "status" on ${controlSocketPath(ns)}`));

    const st = await cli(ns, ['status']);
    assert.equal(st.status, 0, st.err);
    assert.match(st.out, new RegExp(`clatbar is active: .* via ${cl.uplink}`));

    // A ping every 50 ms through the CLAT while the engine runs its self-test, whose firewall
    // check waits 3 s for the slow nft. With commands run synchronously the engine's event loop
    // (which carries the packets) would stop for those 3 s.
    const ping = spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-c', '80', '-i', '0.05', SERVER_V4]);
    let pingOut = '';
    ping.stdout.on('data', (d: Buffer) => (pingOut += d.toString()));
    const pinged = new Promise((r) => ping.on('close', r));
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const self = await cli(ns, ['selftest', '--json']);
    const took = Date.now() - started;
    await pinged;
    assert.ok(took >= 3000, `the self-test waited for the slow nft (${took} ms)`);
    const report = JSON.parse(self.out) as { checks: Array<{ id: string; result: string; text: string }> };
    const result = (id: string) => report.checks.find((c) => c.id === id)?.result;
    assert.equal(result('ipv4-icmp'), 'pass', self.out);
    assert.equal(result('ipv4-tcp'), 'pass', self.out);
    assert.equal(result('path-mtu'), 'pass', self.out);
    assert.equal(result('dns64-stub'), 'skipped', 'no --dns64');
    assert.ok(['pass', 'fail'].includes(result('firewall') ?? ''), self.out);
    const loss = /(\d+) packets transmitted, (\d+) received/.exec(pingOut);
    const max = Number(/= [\d.]+\/[\d.]+\/([\d.]+)\//.exec(pingOut)?.[1]);
    t.diagnostic(`ping during the self-test: ${loss?.[0]}, max RTT ${max} ms`);
    assert.equal(loss?.[1], loss?.[2], pingOut);
    assert.ok(max < 1000, `max RTT ${max} ms: the data path stalled`);

    // logs and diag as root, found the same way.
    const logs = await cli(ns, ['logs', '--limit', '5']);
    assert.equal(logs.status, 0, logs.err);
    assert.equal(logs.out.trim().split('\n').length, 5);
    const diag = await cli(ns, ['diag', '--json']);
    assert.equal(diag.status, 0, diag.err);
    const d = JSON.parse(diag.out) as {
      versions: { node: string };
      logs: LogLine[];
      selfTest: unknown;
      made: { tun: string };
    };
    assert.equal(d.versions.node, process.versions.node);
    assert.ok(d.logs.length > 5);
    // The foreground engine's bring-up, line by line, as codes with the catalog's words.
    assertCodedLines(d.logs);
    assert.ok(d.logs.some((l) => l.code === 'clat.up'));
    assert.ok(d.selfTest, 'the latest self-test is in the report');
    assert.equal(d.made.tun, 'clat0');
    assert.doesNotMatch(diag.out, /\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/i, 'no MAC address in the report');
    assert.match(nsh(cl.lab, ns, 'ip -br link show up0'), /([0-9a-f]{2}:){5}/, 'while the uplink has one');

    engine.kill('SIGTERM');
    await new Promise((r) => engine.once('exit', r));
    const gone = await cli(ns, ['enable']);
    assert.equal(gone.status, 1);
    assert.match(gone.err, /no engine is running/);
    assert.match(gone.err, /sudo systemctl start clatbar-engine/);
  },
);
