// The app's engine client against the engine's real control socket server (ControlServer on a
// Unix socket in a temporary directory): mapping, no engine yet, engine restart, a peer that
// talks garbage, a peer that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatus } from '../../helpers/control.js';
import { ControlError, RPC_ERROR } from '../../../src-main/shared/control.js';
import type { EngineStatusDoc } from '../../../src-main/shared/status.js';
import type { EngineStatus, EngineStatusSource } from '../../../src-main/shared/ipc.js';

import { EngineClient, toEngineStatus } from '../../../src-main/app/engine-client.js';

function engineStatus(
  over: Partial<EngineStatusDoc> = {},
): EngineStatusDoc & { counters: Record<string, number> } {
  return {
    state: 'active',
    mode: 'foreground',
    reason: { code: 'active.foreground', text: 'translating on wlan0' },
    transitions: [],
    pid: 4242,
    startedAt: '2026-11-26T07:00:00.000Z',
    uplink: 'wlan0',
    tun: 'clat0',
    prefix: '64:ff9b::/96',
    clatIpv4: '192.0.0.4',
    clatIpv6: '2001:db8:1::c1a7',
    checksumNeutral: true,
    ipv6Mtu: 1500,
    ipv4Mtu: 1472,
    forwarding: 'global (net.ipv6.conf.all.forwarding)',
    firewallWarnings: [],
    counters: {
      translated46: 10,
      translated64: 9,
      icmpErrorsSent: 1,
      fragmentsEmitted: 0,
      writeRefused: 0,
      writeErrors: 2,
      'drop.ttl-expired': 1,
      'drop.not-ip': 0,
      'tun.rxPackets': 20,
      'tun.rxBytes': 1700,
      'tun.txPackets': 19,
      'tun.txBytes': 1680,
    },
    ...over,
  };
}

/** Resolves with the first status (current or coming) that matches. */
function until(
  client: EngineStatusSource,
  what: string,
  match: (s: EngineStatus) => boolean,
): Promise<EngineStatus> {
  if (match(client.status)) return Promise.resolve(client.status);
  return new Promise((resolve, reject) => {
    // A safety net so a broken client fails the test instead of hanging it; not a timing check.
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no status where ${what}; last: ${JSON.stringify(client.status)}`));
    }, 20000);
    const off = client.onStatus((s) => {
      if (!match(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/**
 * Stops a server the way an engine's exit does: open connections end too (server.close alone
 * waits for them, and the client would keep polling).
 */
function stoppable(server: Server | { stop(): Promise<void> }): () => Promise<void> {
  if ('stop' in server) return () => server.stop();
  const conns = new Set<import('node:net').Socket>();
  server.on('connection', (c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
  });
  let done: Promise<void> | null = null;
  return () =>
    (done ??= new Promise<void>((r) => {
      server.close(() => r());
      for (const c of conns) c.destroy();
    }));
}

function tmpSocket(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'run', 'engine.sock');
}

const fast = { pollMs: 50, retryMinMs: 20, retryMaxMs: 100, timeoutMs: 500 };

test('maps the engine status into what the tray and window show', async (t) => {
  const path = tmpSocket(t);
  let reply = engineStatus();
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  t.after(stoppable(await serveStatus(path, () => reply)));
  client.start();
  const s = await until(client, 'active', (x) => x.state === 'active');
  assert.match(s.reason, /NAT64 \(64:ff9b::\/96\) via wlan0/);
  assert.deepEqual(s.prefix, { prefix: '64:ff9b::/96', source: 'configured' });
  assert.deepEqual(s.clat, {
    ipv4: '192.0.0.4',
    ipv6: '2001:db8:1::c1a7',
    tun: 'clat0',
    mtu: 1500,
    ipv4Mtu: 1472,
    checksumNeutral: true,
  });
  assert.equal(s.uplink, 'wlan0');
  assert.deepEqual(s.engine, { pid: 4242, startedAt: '2026-11-26T07:00:00.000Z', controlSocket: path });
  assert.equal(s.traffic?.packets4to6, 10);
  assert.equal(s.traffic?.packets6to4, 9);
  assert.deepEqual(s.traffic?.tunIn, { packets: 20, bytes: 1700 });
  assert.deepEqual(s.traffic?.tunOut, { packets: 19, bytes: 1680 });
  assert.equal(s.traffic?.icmpErrorsSent, 1);
  // Zero counters are not drops; data path refusals are, under DROP_REASONS' names.
  assert.deepEqual(s.drops, { 'ttl-expired': 1, 'write-errors': 2 });
  assert.equal(s.dns64, undefined);
  assert.equal(s.warnings, undefined);

  // Polling: new counters, a prefix source, DNS64 stats and a firewall warning show up.
  reply = engineStatus({
    counters: { ...reply.counters, translated46: 11 },
    firewallWarnings: ['nftables inet filter forward: policy drop'],
    ...({
      prefixSource: 'pref64',
      dns64: { mode: 'auto', queries: 7, synthesized: 3, cacheHits: 2, upstream: { timeouts: 1 } },
    } as object),
  });
  const next = await until(client, 'the new counters', (x) => x.traffic?.packets4to6 === 11);
  assert.equal(next.prefix?.source, 'pref64');
  assert.deepEqual(next.warnings, ['nftables inet filter forward: policy drop']);
  assert.equal(next.dns64?.queries, 7);
  assert.equal(next.dns64?.synthesized, 3);
  assert.equal(next.dns64?.upstreamTimeouts, 1);
  assert.equal(next.dns64?.mode, 'auto');
  assert.ok((next.traffic?.sampledAt ?? 0) >= (s.traffic?.sampledAt ?? Infinity));

  reply = engineStatus({ state: 'stopping' });
  const stopping = await until(client, 'stopping', (x) => x.state === 'standby');
  assert.match(stopping.reason, /stopping/);
});

test('no engine yet: says so with the fix, then connects when it starts', async (t) => {
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  const seen: EngineStatus[] = [];
  client.onStatus((s) => seen.push(s));
  client.start();
  const down = await until(
    client,
    'disconnected',
    (x) => x.state === 'disconnected' && /no engine/.test(x.reason),
  );
  assert.match(down.reason, new RegExp(`nothing answers on ${path}`));
  assert.match(down.problem ?? '', /clatbar run/);
  // Let a few retries fail: the same outage is reported once, not once per retry.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.filter((s) => s.state === 'disconnected').length, 1);

  t.after(stoppable(await serveStatus(path, () => engineStatus())));
  await until(client, 'active', (x) => x.state === 'active');
});

test('engine restart: disconnected, then the new engine', async (t) => {
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  const first = stoppable(await serveStatus(path, () => engineStatus({ pid: 1 })));
  t.after(first);
  client.start();
  await until(client, 'the first engine', (x) => x.engine?.pid === 1);
  await first();
  const down = await until(client, 'disconnected', (x) => x.state === 'disconnected');
  assert.match(down.reason, /closed the connection|no engine/);
  t.after(stoppable(await serveStatus(path, () => engineStatus({ pid: 2 }))));
  const up = await until(client, 'the second engine', (x) => x.engine?.pid === 2);
  assert.equal(up.state, 'active');
});

/** A Unix socket server that answers every line with what `answer` returns (or nothing). */
async function rawServer(path: string, answer: (line: string) => string | null): Promise<Server> {
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((sock) => {
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    let buf = '';
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const out = answer(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (out !== null) sock.write(out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

test('a peer that talks garbage is an error, and the real engine afterwards is found', async (t) => {
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());

  const cases: Array<[string, (line: string) => string | null, RegExp]> = [
    ['not JSON', () => 'HTTP/1.1 400 Bad Request\r\n\r\n', /not JSON/],
    ['JSON, not JSON-RPC', () => '{"hello":"world"}\n', /not JSON-RPC/],
    [
      'a reply to another id',
      () => `${JSON.stringify({ jsonrpc: '2.0', id: 999999, result: engineStatus() })}\n`,
      /never made/,
    ],
    [
      'a result that is no status',
      (l) =>
        `${JSON.stringify({ jsonrpc: '2.0', id: (JSON.parse(l) as { id: number }).id, result: { state: 'active' } })}\n`,
      /"mode" is missing or wrong/,
    ],
    ['an endless line', () => 'x'.repeat(300_000), /without a line end|not JSON/],
  ];
  client.start();
  for (const [name, answer, problem] of cases) {
    const stop = stoppable(await rawServer(path, answer));
    t.after(stop);
    const s = await until(client, name, (x) => x.state === 'error' && problem.test(x.problem ?? ''));
    assert.match(s.reason, /answers, but not as a clatbar engine/, name);
    await stop();
  }

  // An engine without `status` (another JSON-RPC service): the error names the refusal.
  const other = stoppable(
    await serveStatus(path, () => {
      throw new ControlError(RPC_ERROR.methodNotFound, 'method not found');
    }),
  );
  t.after(other);
  const refused = await until(
    client,
    'refused',
    (x) => x.state === 'error' && /refused/.test(x.problem ?? ''),
  );
  assert.match(refused.problem ?? '', /method not found/);
  await other();

  t.after(stoppable(await serveStatus(path, () => engineStatus())));
  await until(client, 'active after the garbage', (x) => x.state === 'active');
});

test('a peer that never answers is a stuck engine, reported as an error', async (t) => {
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast, timeoutMs: 200 });
  t.after(() => client.close());
  t.after(stoppable(await rawServer(path, () => null)));
  client.start();
  const s = await until(client, 'timeout', (x) => x.state === 'error');
  assert.match(s.reason, /did not answer within 200 ms/);
});

test('toEngineStatus refuses what is not a status', () => {
  assert.throws(() => toEngineStatus(null, '/x', 0), /not an object/);
  assert.throws(
    () => toEngineStatus({ ...engineStatus(), state: 'dancing' }, '/x', 0),
    /unknown engine state/,
  );
  assert.throws(() => toEngineStatus({ ...engineStatus(), ipv6Mtu: '1500' }, '/x', 0), /"ipv6Mtu"/);
  // A newer engine's extra fields do not matter.
  assert.equal(toEngineStatus({ ...engineStatus(), future: { x: 1 } }, '/x', 0).state, 'active');
});

test('an engine whose NAT64 prefix went away is an error that says why and what to do', () => {
  const problem = 'the NAT64 prefix 2001:db8:64::/96 went away and the network announces no other';
  const s = toEngineStatus({ ...engineStatus(), prefix: '', prefixProblem: problem }, '/x', 0);
  assert.equal(s.state, 'error');
  assert.equal(s.prefix, undefined);
  assert.match(s.reason, /no NAT64 prefix on /);
  assert.ok(s.problem?.startsWith(problem), s.problem);
  assert.match(s.problem ?? '', /--prefix PFX\/LEN/);
  // With a prefix the same engine is active and names it.
  const ok = toEngineStatus({ ...engineStatus(), prefixSource: 'pref64' }, '/x', 0);
  assert.equal(ok.state, 'active');
  assert.equal(ok.prefix?.source, 'pref64');
});

test('the client never keeps the engine from stopping', { timeout: 20_000 }, async (t) => {
  // The engine's stop closes its server, which waits for every open connection to end: a
  // client that held its connection open would keep the engine from ever exiting.
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  const server = await serveStatus(path, () => engineStatus());
  client.start();
  await until(client, 'active', (x) => x.state === 'active');
  await server.stop();
  await until(client, 'disconnected', (x) => x.state === 'disconnected');
});

test('the inbound policy in force and the filter drops reach the app', () => {
  const deny = toEngineStatus(
    engineStatus({
      inbound: 'deny',
      inboundFilter: { how: 'conntrack', drops: 12 },
      counters: { 'drop.inbound-unsolicited': 12 },
    }),
    '/x',
    0,
  );
  assert.equal(deny.inbound, 'deny');
  assert.deepEqual(deny.drops, { 'inbound-unsolicited': 12 });
  assert.equal(toEngineStatus(engineStatus({ inbound: 'allow' }), '/x', 0).inbound, 'allow');
  // An engine from before the filter says nothing; nor does one that sends something else.
  assert.equal(toEngineStatus(engineStatus(), '/x', 0).inbound, undefined);
  assert.equal(toEngineStatus({ ...engineStatus(), inbound: 'maybe' }, '/x', 0).inbound, undefined);
});
