// The app's engine client: against the engine's real control server (engine/control/server.ts
// with the foreground backend: hello, status, subscribe, the server's own counter pushes, state
// and log pushes, a refusal, a restart); against a peer without `hello` (an engine from before the
// control API: polled); and through test/helpers/control-peer.ts, a recording stand-in, for what
// the real server cannot show here: the order of the client's requests (no polling once
// subscribed), a refusal for want of the group (the tests run as root) and engines that speak
// another protocol version. Plus no engine yet, a peer that talks garbage, one that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatus } from '../../helpers/control.js';
import type { ClatStatus } from '../../../src-main/engine/clat/engine.js';
import type { EngineStatus } from '../../../src-main/shared/ipc.js';
import type { EngineStatusDoc, LogLine } from '../../../src-main/shared/status.js';
import { DEFAULT_CONTROL_GROUP, PROTOCOL_VERSION, RPC_ERROR } from '../../../src-main/shared/control.js';
import { VERSION } from '../../../src-main/shared/version.js';
import { ControlServer } from '../../../src-main/engine/control/server.js';
import { foregroundBackend } from '../../../src-main/engine/control/foreground.js';
import { LogRing } from '../../../src-main/engine/control/log-ring.js';
import { say } from '../../../src-main/shared/say.js';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import { controlPeer, type Request, type Answer } from '../../helpers/control-peer.js';

import { EngineClient, EngineCallError, toEngineStatus } from '../../../src-main/app/engine-client.js';

function engineStatus(over: Partial<ClatStatus> = {}): ClatStatus {
  return {
    state: 'running',
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
  client: EngineClient,
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
  if (!(server instanceof Server)) return () => server.stop();
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

const fast = { legacyPollMs: 50, retryMinMs: 20, retryMaxMs: 100, timeoutMs: 500 };

/** A started client on path, closed after the test, with the log lines it was pushed. */
function startClient(t: { after(fn: () => void): void }, path: string) {
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  const logs: LogLine[] = [];
  client.onLog((l) => logs.push(l));
  client.start();
  return { client, logs };
}

test('maps the engine status into what the tray and window show', async (t) => {
  const path = tmpSocket(t);
  let reply = engineStatus();
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  // An engine without `hello` (before the control API): the client polls `status`, so every
  // change of the reply below is seen without a push.
  t.after(
    stoppable(
      await rawServer(path, (line) => {
        const { id, method } = JSON.parse(line) as { id: unknown; method: string };
        return `${JSON.stringify(
          method === 'status'
            ? { jsonrpc: '2.0', id, result: reply }
            : { jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } },
        )}\n`;
      }),
    ),
  );
  client.start();
  const s = await until(client, 'active', (x) => x.state === 'active');
  assert.match(s.reason.text, /NAT64 \(64:ff9b::\/96\) via wlan0/);
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
  assert.equal(s.inbound, undefined, 'an engine that does not say: nothing is claimed');

  // Polling: new counters, a prefix source, DNS64 stats and a firewall warning show up.
  reply = engineStatus({
    counters: { ...reply.counters, translated46: 11 },
    firewallWarnings: ['nftables inet filter forward: policy drop'],
    inbound: 'allow',
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
  // The inbound filter in force, for the connection card.
  assert.equal(next.inbound, 'allow');
  assert.ok((next.traffic?.sampledAt ?? 0) >= (s.traffic?.sampledAt ?? Infinity));

  reply = engineStatus({ state: 'stopping', inbound: 'open' as never });
  const stopping = await until(client, 'stopping', (x) => x.state === 'stopping');
  assert.match(stopping.reason.text, /stopping/);
  assert.equal(stopping.inbound, undefined, 'a mode the app does not know is left out');
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
    (x) => x.state === 'disconnected' && /no engine/.test(x.reason.text),
  );
  assert.match(down.reason.text, new RegExp(`nothing answers on ${path}`));
  assert.equal(down.reason.code, 'app.noEngine');
  assert.match(down.problem?.text ?? '', /systemctl start clatbar-engine/);
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
  assert.match(down.reason.text, /closed the connection|no engine/);
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

test('a peer that talks garbage needs attention, and the real engine afterwards is found', async (t) => {
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
        `${JSON.stringify({ jsonrpc: '2.0', id: (JSON.parse(l) as { id: number }).id, result: { status: 'running' } })}\n`,
      // hello is asked first; a peer answering everything with the same non-status fails there.
      /"state" is missing|did not say which protocol/,
    ],
    ['an endless line', () => 'x'.repeat(4 * 1024 * 1024 + 10), /longer than|not JSON/],
  ];
  client.start();
  for (const [name, answer, problem] of cases) {
    const stop = stoppable(await rawServer(path, answer));
    t.after(stop);
    const s = await until(client, name, (x) => x.state === 'attention' && problem.test(x.reason.text));
    assert.match(s.reason.text, /answers, but not as a clatbar engine/, name);
    await stop();
  }

  // Another JSON-RPC service (no hello, no status): the error names the refusal.
  const other = stoppable(
    await rawServer(path, (line) => {
      const { id } = JSON.parse(line) as { id: unknown };
      return `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } })}\n`;
    }),
  );
  t.after(other);
  const refused = await until(
    client,
    'refused',
    (x) => x.state === 'attention' && /method not found/.test(x.reason.text),
  );
  assert.match(refused.reason.text, /not as a clatbar engine/);
  await other();

  t.after(stoppable(await serveStatus(path, () => engineStatus())));
  await until(client, 'active after the garbage', (x) => x.state === 'active');
});

test('a peer that never answers is a stuck engine, reported as needing attention', async (t) => {
  const path = tmpSocket(t);
  const client = new EngineClient({ socketPath: path, ...fast, timeoutMs: 200 });
  t.after(() => client.close());
  t.after(stoppable(await rawServer(path, () => null)));
  client.start();
  const s = await until(client, 'timeout', (x) => x.state === 'attention');
  assert.match(s.reason.text, /did not answer within 200 ms/);
  assert.match(s.problem?.text ?? '', /systemctl restart/);
});

test('toEngineStatus refuses what is not a status', () => {
  assert.throws(() => toEngineStatus(null, '/x', 0), /not an object/);
  assert.throws(
    () => toEngineStatus({ ...engineStatus(), state: 'dancing' }, '/x', 0),
    /unknown engine state/,
  );
  // A field of the wrong type is left out, not trusted.
  assert.equal(toEngineStatus({ ...engineStatus(), ipv6Mtu: '1500' }, '/x', 0).clat, undefined);
  // A newer engine's extra fields do not matter.
  assert.equal(toEngineStatus({ ...engineStatus(), future: { x: 1 } }, '/x', 0).state, 'active');
});

test('an engine whose NAT64 prefix went away needs attention that says why and what to do', () => {
  const problem = 'the NAT64 prefix 2001:db8:64::/96 went away and the network announces no other';
  const s = toEngineStatus({ ...engineStatus(), prefix: '', prefixProblem: problem }, '/x', 0);
  assert.equal(s.state, 'attention');
  assert.equal(s.prefix, undefined);
  assert.match(s.reason.text, /no NAT64 prefix on /);
  assert.ok(s.reason.text.includes(problem), s.reason.text);
  assert.match(s.problem?.text ?? '', /--prefix PFX\/LEN/);
  // With a prefix the same engine is active and names it.
  const ok = toEngineStatus({ ...engineStatus(), prefixSource: 'pref64' }, '/x', 0);
  assert.equal(ok.state, 'active');
  assert.equal(ok.prefix?.source, 'pref64');
});

/** A daemon-mode status document as shared/status.ts describes it. */
function daemonDoc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...engineStatus(),
    state: 'active',
    mode: 'daemon',
    reason: { code: 'active.nat64', params: { prefix: '64:ff9b::/96' }, text: 'IPv4 through the NAT64' },
    network: { id: 'nm:1234', name: 'Conference Wi-Fi', idSource: 'networkmanager' },
    classification: 'ipv6-only-nat64',
    policy: { value: 'auto', source: 'default', override: null, adminForced: false },
    prefixSource: 'pref64',
    prefixLifetimeLeft: 1800,
    transitions: [
      {
        time: '2026-11-26T07:00:01.000Z',
        from: 'standby',
        to: 'active',
        reason: { code: 'active.nat64', text: 'IPv4 through the NAT64' },
      },
    ],
    ...over,
  };
}

/** A control-API engine: hello with our protocol, status, subscribe, and what `more` answers. */
function engineAnswers(doc: () => unknown, more: (req: Request) => Answer = () => null) {
  return (req: Request): Answer => {
    switch (req.method) {
      case 'hello':
        return {
          result: {
            protocol: PROTOCOL_VERSION,
            engine: '0.2.0',
            caller: { uid: 1000, admin: true, group: 'clatbar' },
          },
        };
      case 'status':
        return { result: doc() };
      case 'subscribe':
        return { result: {} };
      default:
        return (
          more(req) ?? {
            error: { code: RPC_ERROR.methodNotFound, message: `method not found: ${req.method}` },
          }
        );
    }
  };
}

test('the daemon’s default policy reaches Settings; the administrator’s is locked, naming its file', () => {
  const mine = toEngineStatus(
    daemonDoc({ dns64Mode: 'auto', defaultPolicy: { value: 'never', source: 'user-default' } }),
    '/x',
    0,
  );
  assert.deepEqual(mine.settings, { dns64Mode: 'auto', defaultPolicy: 'never' });
  const forced = toEngineStatus(
    daemonDoc({
      defaultPolicy: { value: 'always', source: 'admin-default', adminFile: '/etc/clatbar/policy.json' },
    }),
    '/x',
    0,
  );
  assert.equal(forced.settings?.defaultPolicy, 'always');
  assert.equal(forced.settings?.locked?.defaultPolicy?.code, 'app.adminDefaultIn');
  // The words come from the catalog in the window's language.
  assert.equal(
    createTranslator('en').msg(forced.settings!.locked!.defaultPolicy!),
    'Set by the administrator in /etc/clatbar/policy.json',
  );
  assert.match(
    createTranslator('ko').msg(forced.settings!.locked!.defaultPolicy!),
    /관리자가 \/etc\/clatbar\/policy\.json에서/,
  );
  // A value the app does not know is left out, not shown as a default it is not.
  assert.equal(
    toEngineStatus(daemonDoc({ defaultPolicy: { value: 'sometimes' } }), '/x', 0).settings,
    undefined,
  );
  // The foreground engine has no default policy: nothing to show.
  assert.equal(toEngineStatus(engineStatus(), '/x', 0).settings, undefined);
});

test('the real control server: hello, pushes, a refusal in words, a restart and subscribing again', async (t) => {
  const path = tmpSocket(t);
  let doc = daemonDoc({ pid: 1 });
  // The foreground backend pushes a state when the prefix changes; the test says when.
  const prefixListeners = new Set<(p: string | null) => void>();
  const ring = new LogRing(() => {});
  const serve = () =>
    ControlServer.listen({
      path,
      backend: foregroundBackend(
        {
          status: () => doc as EngineStatusDoc,
          onPrefixChange: (cb) => {
            prefixListeners.add(cb);
            return () => prefixListeners.delete(cb);
          },
        },
        ring,
      ),
      log: () => {},
      // The server's own counter pushes, faster than the engine's once a second.
      limits: { counterMs: 50 },
    });
  let server = await serve();
  t.after(() => server.stop());
  const { client, logs } = startClient(t, path);
  const s = await until(client, 'the first engine', (x) => x.state === 'active' && x.engine?.pid === 1);
  assert.equal(s.network?.name, 'Conference Wi-Fi');
  await waitUntil(() => client.connected);
  // What the server says of itself and of us (root runs the tests: admin).
  assert.equal(client.hello?.protocol, PROTOCOL_VERSION);
  assert.equal(client.hello?.version, VERSION);
  assert.equal(client.hello?.group, DEFAULT_CONTROL_GROUP);
  if (process.getuid?.() === 0) assert.equal(client.hello?.admin, true);

  // Counters from the server's timer, merged into the last status.
  doc = daemonDoc({ pid: 1, counters: { ...engineStatus().counters, translated46: 500 } });
  const counted = await until(client, 'the pushed counters', (x) => x.traffic?.packets4to6 === 500);
  assert.equal(counted.network?.name, 'Conference Wi-Fi');
  // A state push.
  doc = daemonDoc({
    pid: 1,
    state: 'standby',
    reason: { code: 'standby.native-ipv4', text: 'native IPv4 is here' },
  });
  for (const l of prefixListeners) l(null);
  const standby = await until(client, 'standby', (x) => x.state === 'standby');
  assert.equal(standby.reason.code, 'standby.native-ipv4');
  // A log line, as the engine writes it.
  ring.log(say('daemon.kept', { seconds: 60 }));
  await waitUntil(() => logs.some((l) => l.code === 'daemon.kept' && l.params?.seconds === 60));

  // A refusal keeps the server's code and words, and is not a broken connection.
  const err = await client.call('setPolicy', { network: 'current', policy: 'never' }).then(
    () => assert.fail('the foreground engine has no per-network policy'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof EngineCallError);
  assert.equal(err.code, RPC_ERROR.unsupported);
  assert.match(err.message, /needs the engine in daemon mode/);
  // Bad params: refused by the server's schema, before the backend.
  const bad = await client.call('setPolicy', { network: 'current', policy: 'sometimes' }).then(
    () => assert.fail('a policy that does not exist'),
    (e: unknown) => e,
  );
  assert.ok(bad instanceof EngineCallError);
  assert.equal(bad.code, RPC_ERROR.invalidParams);
  assert.equal(client.status.state, 'standby');

  // The engine restarts: disconnected, then the new one, subscribed again (its log lines arrive).
  await server.stop();
  await until(client, 'disconnected', (x) => x.state === 'disconnected');
  doc = daemonDoc({ pid: 2 });
  server = await serve();
  await until(client, 'the second engine', (x) => x.engine?.pid === 2);
  await waitUntil(() => client.connected);
  ring.log(say('daemon.starting', { pid: 2, stateDir: '/run/clatbar', dataDir: '/var/lib/clatbar' }));
  await waitUntil(() => logs.some((l) => l.code === 'daemon.starting' && l.params?.pid === 2));
});

test('control API: hello, status, then pushes instead of polling', async (t) => {
  const path = tmpSocket(t);
  const peer = await controlPeer(
    path,
    engineAnswers(() => daemonDoc()),
  );
  t.after(() => peer.stop());
  const { client, logs } = startClient(t, path);
  const s = await until(client, 'active', (x) => x.state === 'active');
  assert.deepEqual(s.reason, daemonDoc().reason);
  assert.deepEqual(s.network, {
    id: 'nm:1234',
    name: 'Conference Wi-Fi',
    classification: 'ipv6-only-nat64',
    policy: 'auto',
    policySource: 'default',
  });
  assert.equal(s.prefix?.source, 'pref64');
  const left = (s.prefix?.expiresAt ?? 0) - Date.now();
  assert.ok(left > 1_700_000 && left <= 1_800_000, `lifetime left ${left} ms`);
  assert.equal(s.transitions?.length, 1);
  await waitUntil(() => client.connected);
  assert.deepEqual(
    peer.requests.map((r) => r.method),
    ['hello', 'status', 'subscribe'],
  );
  // No topics: the engine decides what this caller may have.
  assert.equal(peer.requests[2].params, undefined);
  assert.deepEqual(client.hello, {
    protocol: PROTOCOL_VERSION,
    version: '0.2.0',
    admin: true,
    group: 'clatbar',
  });

  // Pushes: counters, then a state change, then a log line. No further status request.
  peer.push('counters', {
    at: '2026-11-26T07:00:05.000Z',
    counters: { ...engineStatus().counters, translated46: 500, bytes46: 70_000 },
  });
  const counted = await until(client, 'the pushed counters', (x) => x.traffic?.packets4to6 === 500);
  // The sample's time is the engine's.
  assert.equal(counted.traffic?.sampledAt, Date.parse('2026-11-26T07:00:05.000Z'));
  assert.equal(counted.traffic?.bytes4to6, 70_000);
  assert.equal(counted.network?.name, 'Conference Wi-Fi');
  peer.push('state', {
    status: daemonDoc({
      state: 'standby',
      reason: { code: 'standby.native-ipv4', text: 'native IPv4 is here' },
      counters: undefined,
    }),
  });
  const standby = await until(client, 'standby', (x) => x.state === 'standby');
  assert.equal(standby.reason.code, 'standby.native-ipv4');
  peer.push('log', { line: { seq: 7, time: '2026-11-26T07:00:02.000Z', level: 'info', text: 'stood down' } });
  await waitUntil(() => logs.length === 1);
  assert.equal(logs[0].text, 'stood down');
  // Wait a moment: a polling client would have asked again by now (legacyPollMs is 50).
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(peer.requests.filter((r) => r.method === 'status').length, 1);
});

test('control API: calls carry their params; refusals keep their code and words', async (t) => {
  const path = tmpSocket(t);
  const peer = await controlPeer(
    path,
    engineAnswers(
      () => daemonDoc(),
      (req) =>
        req.method === 'enable'
          ? { error: { code: RPC_ERROR.notAllowed, message: 'not allowed: join the group clatbar' } }
          : req.method === 'setPolicy'
            ? { result: null }
            : null,
    ),
  );
  t.after(() => peer.stop());
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  // Before connecting, a call fails at once and says why.
  await assert.rejects(client.call('enable'), /connecting/);
  client.start();
  await waitUntil(() => client.connected);
  assert.equal(await client.call('setPolicy', { network: 'current', policy: 'never' }), null);
  assert.deepEqual(peer.requests.at(-1)?.params, { network: 'current', policy: 'never' });
  const err = await client.call('enable').then(
    () => assert.fail('enable was refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof EngineCallError);
  assert.equal(err.code, RPC_ERROR.notAllowed);
  assert.ok(err.notAllowed);
  assert.match(err.message, /join the group/);
  // A refusal is an answer, not a broken connection.
  assert.equal(client.status.state, 'active');
});

test('control API: versions that do not fit say which side to update', async (t) => {
  for (const [engine, fix] of [
    [PROTOCOL_VERSION + 1, /update the clatbar app/],
    [PROTOCOL_VERSION - 1, /restart the engine/],
  ] as const) {
    const path = tmpSocket(t);
    const peer = await controlPeer(path, (req) =>
      req.method === 'hello' ? { result: { protocol: engine, version: '9.9.9' } } : { result: daemonDoc() },
    );
    t.after(() => peer.stop());
    const client = new EngineClient({ socketPath: path, ...fast });
    t.after(() => client.close());
    client.start();
    const s = await until(client, `protocol ${engine}`, (x) => x.state === 'attention');
    assert.equal(s.reason.code, 'app.incompatible');
    assert.match(
      s.reason.text,
      new RegExp(`protocol ${PROTOCOL_VERSION}, the engine ${engine} \\(clatbar 9\\.9\\.9\\)`),
    );
    assert.match(s.problem?.text ?? '', fix);
    // Nothing beyond hello was asked of an engine we cannot talk to.
    assert.deepEqual([...new Set(peer.requests.map((r) => r.method))], ['hello']);
    client.close();
  }
});

test('control API: a hello of this protocol that does not fit its schema is not an engine', async (t) => {
  for (const hello of [
    { protocol: PROTOCOL_VERSION }, // no engine version
    { protocol: PROTOCOL_VERSION, engine: '0.2.0', caller: { uid: 0, admin: 'yes', group: 'clatbar' } },
    { protocol: String(PROTOCOL_VERSION), engine: '0.2.0' },
  ]) {
    const path = tmpSocket(t);
    const peer = await controlPeer(path, (req) =>
      req.method === 'hello' ? { result: hello } : { result: daemonDoc() },
    );
    t.after(() => peer.stop());
    const client = new EngineClient({ socketPath: path, ...fast });
    t.after(() => client.close());
    client.start();
    const s = await until(client, JSON.stringify(hello), (x) => x.state === 'attention');
    assert.equal(s.reason.code, 'app.notAnEngine', JSON.stringify(hello));
    assert.match(s.reason.text, /hello/);
    assert.deepEqual([...new Set(peer.requests.map((r) => r.method))], ['hello']);
    client.close();
  }
});

test('control API: the engine restarts; the client reconnects and subscribes again', async (t) => {
  const path = tmpSocket(t);
  let peer = await controlPeer(
    path,
    engineAnswers(() => daemonDoc({ pid: 1 })),
  );
  t.after(() => peer.stop());
  const client = new EngineClient({ socketPath: path, ...fast });
  t.after(() => client.close());
  client.start();
  await until(client, 'the first engine', (x) => x.engine?.pid === 1);
  await peer.stop();
  await until(client, 'disconnected', (x) => x.state === 'disconnected');
  await assert.rejects(client.call('disable'));
  peer = await controlPeer(
    path,
    engineAnswers(() => daemonDoc({ pid: 2 })),
  );
  await until(client, 'the second engine', (x) => x.engine?.pid === 2);
  await waitUntil(() => peer.requests.some((r) => r.method === 'subscribe'));
});

async function waitUntil(probe: () => boolean): Promise<void> {
  // A safety net so a broken client fails the test instead of hanging it; not a timing check.
  for (let i = 0; i < 400 && !probe(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(probe(), 'the condition never held');
}
