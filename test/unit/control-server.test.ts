// The control server as an attacker and a clumsy client meet it: malformed JSON, oversize
// frames, unknown methods, wrong types, 10,000 random frames, a client that never reads, one
// that sends half a line, 200 clients at once, a second engine on the same path. Each gets a
// JSON-RPC error in words or is closed; the server never crashes, never grows without bound,
// and a well-behaved client's `status` stays fast meanwhile. The backend is the foreground one
// (test/helpers/control.ts); the server, its framing and its bounds are the real ones.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
  existsSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ControlServer } from '../../src-main/engine/control/server.js';
import { callControl, CallError } from '../../src-main/engine/control/client.js';
import { MAX_REQUEST_BYTES, RPC_ERROR } from '../../src-main/shared/control.js';
import { serveStatus, statusBackend } from '../helpers/control.js';

function tmpSocket(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-ctlsrv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'engine.sock');
}

const STATUS = { state: 'running', pid: 1, counters: { translated46: 1 } };

interface Raw {
  sock: Socket;
  /** The next reply or notification line, parsed. */
  next(ms?: number): Promise<Record<string, unknown>>;
  closed: Promise<unknown>;
}

function raw(path: string): Raw {
  const sock = connect(path);
  sock.on('error', () => {});
  let buf = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const closed = once(sock, 'close');
  return {
    sock,
    closed,
    async next(ms = 3000) {
      const deadline = Date.now() + ms;
      while (lines.length === 0) {
        if (Date.now() > deadline || sock.destroyed) throw new Error('no line');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return JSON.parse(lines.shift()!) as Record<string, unknown>;
    },
  };
}

/** A control server on a fresh path with the status backend, its log lines, and these options. */
async function serve(
  t: TestContext,
  opts: Partial<Parameters<typeof ControlServer.listen>[0]> & { status?: unknown } = {},
): Promise<{ path: string; server: ControlServer; lines: string[] }> {
  const path = tmpSocket(t);
  const lines: string[] = [];
  const { status = STATUS, ...rest } = opts;
  const server = await ControlServer.listen({
    path,
    backend: statusBackend(() => status),
    log: (l) => lines.push(l.text),
    ...rest,
  });
  t.after(() => server.stop());
  return { path, server, lines };
}

function errorOf(reply: Record<string, unknown>): { code: number; message: string } {
  assert.ok(reply.error, JSON.stringify(reply));
  return reply.error as { code: number; message: string };
}

test('bad requests get JSON-RPC errors in words, and the connection keeps working', async (t) => {
  const path = tmpSocket(t);
  const server = await serveStatus(path, () => STATUS);
  t.after(() => server.stop());
  const c = raw(path);
  t.after(() => c.sock.destroy());
  const cases: Array<[string, number, RegExp]> = [
    ['{"jsonrpc":"2.0","id":1,"method":', RPC_ERROR.parseError, /not JSON/],
    ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', RPC_ERROR.invalidRequest, /batches are not supported/],
    ['{"jsonrpc":"1.0","id":2,"method":"status"}', RPC_ERROR.invalidRequest, /not a JSON-RPC 2\.0 request/],
    ['{"jsonrpc":"2.0","id":3,"method":7}', RPC_ERROR.invalidRequest, /not a JSON-RPC 2\.0 request/],
    [
      '{"jsonrpc":"2.0","id":4,"method":"rm -rf"}',
      RPC_ERROR.methodNotFound,
      /method not found: "rm -rf"; the methods are hello, status/,
    ],
    ['{"jsonrpc":"2.0","id":5,"method":"__proto__"}', RPC_ERROR.methodNotFound, /method not found/],
    [
      '{"jsonrpc":"2.0","id":6,"method":"status","params":{"x":1}}',
      RPC_ERROR.invalidParams,
      /bad params for "status"/,
    ],
    [
      '{"jsonrpc":"2.0","id":7,"method":"setPolicy","params":{"network":"current","policy":5}}',
      RPC_ERROR.invalidParams,
      /bad params for "setPolicy".*policy/,
    ],
    [
      '{"jsonrpc":"2.0","id":8,"method":"logs","params":{"limit":-1}}',
      RPC_ERROR.invalidParams,
      /bad params for "logs"/,
    ],
    ['"just a string"', RPC_ERROR.invalidRequest, /not a JSON-RPC 2\.0 request/],
  ];
  for (const [line, code, message] of cases) {
    c.sock.write(`${line}\n`);
    const e = errorOf(await c.next());
    assert.equal(e.code, code, line);
    assert.match(e.message, message, line);
  }
  // A notification (no id) gets no reply, even when it fails; the next request is answered.
  c.sock.write('{"jsonrpc":"2.0","method":"nope"}\n{"jsonrpc":"2.0","id":"s","method":"status"}\n');
  const r = await c.next();
  assert.equal(r.id, 's');
  assert.deepEqual(r.result, STATUS);
  // The per-network methods of the foreground engine: unsupported, in words.
  c.sock.write('{"jsonrpc":"2.0","id":9,"method":"enable"}\n');
  const u = errorOf(await c.next());
  assert.equal(u.code, RPC_ERROR.unsupported);
  assert.match(u.message, /daemon mode.*sudo systemctl start clatbar-engine/);
});

test('a frame over 64 KiB is refused and the connection closed; the server goes on', async (t) => {
  const path = tmpSocket(t);
  const server = await serveStatus(path, () => STATUS);
  t.after(() => server.stop());
  for (const newline of [false, true]) {
    const c = raw(path);
    c.sock.write(
      `{"jsonrpc":"2.0","id":1,"method":"status","params":{"pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"}}${newline ? '\n' : ''}`,
    );
    const e = errorOf(await c.next());
    assert.equal(e.code, RPC_ERROR.invalidRequest);
    assert.match(e.message, /longer than 65536 bytes/);
    if (!newline) await c.closed;
    c.sock.destroy();
  }
  assert.deepEqual(await callControl(path, 'status'), STATUS);
});

test('half a line and then silence: closed after the timeout', async (t) => {
  const { path, lines } = await serve(t, { limits: { halfLineMs: 300 } });
  const c = raw(path);
  c.sock.write('{"jsonrpc":"2.0","id":1,"meth');
  const started = Date.now();
  await c.closed;
  assert.ok(Date.now() - started >= 250);
  assert.ok(
    lines.some((l) => /half a request and not the rest within 300 ms/.test(l)),
    lines.join('\n'),
  );
  // A line dribbled a byte at a time is no better: closed when its first byte is 300 ms old.
  const slow = raw(path);
  const dribble = setInterval(() => {
    if (!slow.sock.destroyed && slow.sock.writable) slow.sock.write('x', () => {});
  }, 50);
  t.after(() => clearInterval(dribble));
  const slowStart = Date.now();
  slow.sock.write('{"jsonrpc":"2.0","id":1,"method":"status","params":{"');
  // (closed rejects when a write races the server's close: EPIPE is a close too.)
  await Promise.race([slow.closed.catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
  clearInterval(dribble);
  assert.ok(slow.sock.destroyed, `still open after ${Date.now() - slowStart} ms of dribbling`);
  // Whole requests, however slowly they come, are fine.
  const patient = raw(path);
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 200));
    patient.sock.write(`{"jsonrpc":"2.0","id":${i},"method":"status"}\n`);
    assert.equal((await patient.next()).id, i);
  }
  patient.sock.destroy();
  // An idle connection without a partial line is not a stall (the tray holds one).
  const idle = raw(path);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(idle.sock.destroyed, false);
  idle.sock.destroy();
});

test('a client that pipelines and never reads: reading pauses, memory stays bounded, others are served', async (t) => {
  const path = tmpSocket(t);
  // A status as big as a real one (a few KiB), so unbounded queueing would show at once.
  const big = { ...STATUS, pad: 'x'.repeat(4000) };
  const server = await serveStatus(path, () => big);
  t.after(() => server.stop());
  const hog = connect(path);
  hog.on('error', () => {});
  hog.pause(); // never reads
  await once(hog, 'connect');
  const req = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"status"}\n'.repeat(2000));
  global.gc?.();
  const before = process.memoryUsage();
  // 40 MB of requests would be ~4 GB of replies if all were queued.
  for (let i = 0; i < 500; i++) if (!hog.write(req)) break;
  await new Promise((r) => setTimeout(r, 1500));
  const after = process.memoryUsage();
  const grew = (after.heapUsed + after.external - before.heapUsed - before.external) / 1e6;
  assert.ok(grew < 64, `grew ${grew.toFixed(1)} MB`);
  const t0 = performance.now();
  assert.deepEqual(await callControl(path, 'status'), big);
  assert.ok(performance.now() - t0 < 1000);
  hog.destroy();
});

test('a subscriber that never reads is dropped once its queue passes the bound', async (t) => {
  const big = {
    ...STATUS,
    counters: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`c${i}`, i])),
  };
  const { path, server, lines } = await serve(t, {
    status: big,
    limits: { queueBytes: 256 * 1024, counterMs: 5 },
  });
  const c = raw(path);
  c.sock.write('{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"topics":["state","counters"]}}\n');
  assert.deepEqual((await c.next()).result, { topics: ['state', 'counters'] });
  c.sock.pause();
  // Paused, the client itself does not see the close until it reads; the server's side tells.
  for (let i = 0; i < 200 && server.connections > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.connections, 0);
  assert.ok(
    lines.some((l) => /dropped uid 0 .*does not read its replies/.test(l)),
    lines.join('\n'),
  );
  c.sock.destroy();
});

test('subscribe: state at once, counters every interval', async (t) => {
  const { path } = await serve(t, { limits: { counterMs: 50 } });
  const c = raw(path);
  t.after(() => c.sock.destroy());
  c.sock.write('{"jsonrpc":"2.0","id":1,"method":"subscribe"}\n');
  assert.deepEqual((await c.next()).result, { topics: ['state', 'counters', 'logs'] }, 'root gets logs too');
  const state = await c.next();
  assert.equal(state.method, 'state');
  assert.deepEqual((state.params as { status: unknown }).status, STATUS);
  const counters = await c.next();
  assert.equal(counters.method, 'counters');
  assert.deepEqual((counters.params as { counters: unknown }).counters, STATUS.counters);
});

const CHILD = new URL('../helpers/control-server-child.js', import.meta.url).pathname;

/** The server in a process of its own (as the engine is), so the test's clients do not slow it. */
async function childServer(t: TestContext, path: string): Promise<{ pid: number }> {
  const child = spawn(process.execPath, [CHILD, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  await once(child.stdout!, 'data');
  return { pid: child.pid! };
}

/** Deterministic PRNG so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFrame(rnd: () => number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const methods = [
    'status',
    'hello',
    'subscribe',
    'logs',
    'setPolicy',
    'enable',
    'x',
    '',
    'constructor',
    'toString',
  ];
  const values = [
    null,
    true,
    1,
    -1,
    1e308,
    'current',
    '',
    [],
    {},
    { network: 'current', policy: 'never' },
    'a'.repeat(300),
  ];
  switch (Math.floor(rnd() * 5)) {
    case 0: // random bytes, no newline inside
      return Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)))
        .toString('latin1')
        .replace(/\n/g, ' ');
    case 1: // random JSON values
      return JSON.stringify(pick(values));
    case 2: // plausible requests with random members
      return JSON.stringify({
        jsonrpc: pick(['2.0', '1.0', 2]),
        id: pick([1, 'x', null, {}, [1]]),
        method: pick(methods),
        params: pick(values),
      });
    case 3: // truncated valid request
      return '{"jsonrpc":"2.0","id":1,"method":"status"}'.slice(0, Math.floor(rnd() * 40));
    default: // valid
      return JSON.stringify({
        jsonrpc: '2.0',
        id: Math.floor(rnd() * 1e6),
        method: pick(['status', 'hello', 'logs']),
      });
  }
}

test(
  '10,000 random frames over 20 connections: errors or answers, never a crash or a stall',
  { timeout: 120_000 },
  async (t) => {
    const path = tmpSocket(t);
    await childServer(t, path);
    const rnd = mulberry32(0xc1a7);
    const conns = Array.from({ length: 20 }, () => raw(path));
    let replies = 0;
    // Replies carry an id; a random `subscribe` also brings notifications, which are not counted.
    for (const c of conns)
      c.sock.on('data', (d: string) => (replies += d.split('\n').filter((l) => l.includes('"id":')).length));
    for (let i = 0; i < 10_000; i++) conns[i % 20].sock.write(`${randomFrame(rnd)}\n`);
    // Meanwhile a well-behaved client is answered at once.
    const t0 = performance.now();
    assert.equal(((await callControl(path, 'status')) as { state: string }).state, 'running');
    const ms = performance.now() - t0;
    // Every frame but the empty ones gets an answer or an error; wait until they stop coming.
    for (let last = -1; last !== replies;) {
      last = replies;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(replies > 9000, `${replies} replies`);
    assert.ok(replies <= 10_000);
    for (const c of conns) c.sock.destroy();
    assert.equal(((await callControl(path, 'status')) as { state: string }).state, 'running');
    t.diagnostic(`status during the flood: ${ms.toFixed(1)} ms; ${replies} replies`);
  },
);

test(
  '200 clients at once, and status p99 under 50 ms for a well-behaved client meanwhile',
  { timeout: 120_000 },
  async (t) => {
    const path = tmpSocket(t);
    await childServer(t, path);
    const clients = Array.from({ length: 200 }, () => raw(path));
    t.after(() => clients.forEach((c) => c.sock.destroy()));
    await Promise.all(clients.map((c) => once(c.sock, 'connect')));
    // Every one of them is served (none refused by the connection caps).
    await Promise.all(
      clients.map(async (c) => {
        c.sock.write('{"jsonrpc":"2.0","id":"first","method":"hello"}\n');
        assert.equal((await c.next(20_000)).id, 'first');
      }),
    );
    // Each of them polls as a tray app or a `watch clatbar status` does (several times a second),
    // while one more client measures its own status calls.
    let stop = false;
    const busy = clients.map(async (c, i) => {
      for (let n = 0; !stop; n++) {
        c.sock.write(`{"jsonrpc":"2.0","id":${n},"method":"${i % 2 ? 'status' : 'hello'}"}\n`);
        await c.next(10_000);
        await new Promise((r) => setTimeout(r, 200 + (i % 50)));
      }
    });
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await callControl(path, 'status');
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
    stop = true;
    await Promise.all(busy);
    samples.sort((a, b) => a - b);
    const p99 = samples[Math.floor(samples.length * 0.99)];
    // The bound is 50 ms. On a machine whose run queue is longer than its cores (the shared
    // build VM while other suites run) every process waits its turn, this one included: the bound
    // then is 200 ms, and the diagnostic says which applied.
    const loaded = loadavg()[0] > availableParallelism();
    const bound = loaded ? 200 : 50;
    t.diagnostic(
      `status with 200 polling clients: p50 ${samples[100].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (bound ${bound} ms, load ${loadavg()[0].toFixed(1)})`,
    );
    assert.ok(p99 < bound, `p99 ${p99.toFixed(1)} ms`);
  },
);

test('a second engine never takes over a live socket; a stale one is replaced; a symlink or file never', async (t) => {
  const path = tmpSocket(t);
  const first = await serveStatus(path, () => STATUS);
  t.after(() => first.stop());
  await assert.rejects(
    serveStatus(path, () => ({})),
    new RegExp(`another clatbar engine \\(pid ${process.pid}\\) is listening on ${path}`),
  );
  assert.deepEqual(await callControl(path, 'status'), STATUS, 'the first engine still answers');
  await first.stop();
  assert.equal(existsSync(path), false, 'stop removes its socket');

  // A stale socket: its engine was killed with SIGKILL and left the file.
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ]);
  await once(child.stdout!, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(lstatSync(path).isSocket());
  const second = await serveStatus(path, () => ({ second: true }));
  assert.deepEqual(await callControl(path, 'status'), { second: true });
  await second.stop();

  // A symlink at the path (to a file root would chmod or delete) and a plain file: refused, untouched.
  const target = join(path, '..', 'precious');
  writeFileSync(target, 'keep', { mode: 0o600 });
  symlinkSync(target, path);
  await assert.rejects(
    serveStatus(path, () => ({})),
    /is a symbolic link; clatbar does not replace it/,
  );
  assert.equal(readFileSync(target, 'utf8'), 'keep');
  assert.equal(lstatSync(target).mode & 0o777, 0o600);
  rmSync(path);
  writeFileSync(path, 'x');
  await assert.rejects(
    serveStatus(path, () => ({})),
    /is not a socket/,
  );
});

test('the socket is connectable by every user (0666), so authorization is by credentials only', async (t) => {
  const path = tmpSocket(t);
  const server = await serveStatus(path, () => STATUS);
  t.after(() => server.stop());
  assert.equal(lstatSync(path).mode & 0o777, 0o666);
  await assert.rejects(
    callControl(join(path, '..', 'none.sock'), 'status'),
    (e: unknown) => e instanceof CallError && e.kind === 'unreachable',
  );
});

test('a connect flood past the cap: refused sockets do not pile up and the log says how many it left out', async (t) => {
  const { path, server, lines } = await serve(t, { limits: { maxConnections: 4 } });
  const held = Array.from({ length: 4 }, () => raw(path));
  t.after(() => held.forEach((h) => h.sock.destroy()));
  held[0].sock.write('{"jsonrpc":"2.0","id":1,"method":"status"}\n');
  assert.equal((await held[0].next()).id, 1);
  let most = 0;
  const sampler = setInterval(() => (most = Math.max(most, server.lingering)), 2);
  t.after(() => clearInterval(sampler));
  const flood = Array.from({ length: 400 }, () => {
    const s = connect(path);
    s.on('error', () => {});
    s.resume(); // read the 'busy' line and the end, so 'close' comes
    return once(s, 'close').catch(() => {});
  });
  await Promise.all(flood);
  clearInterval(sampler);
  assert.ok(most <= 64, `${most} refused sockets open at once`);
  const refusals = () => lines.filter((l) => l.includes('refused a connection'));
  assert.ok(refusals().length <= 60, `${refusals().length} lines for 400 refusals`);
  // A token comes back after 200 ms: the next refusal is logged with the count left out.
  await new Promise((r) => setTimeout(r, 400));
  const late = connect(path);
  late.on('error', () => {});
  late.resume();
  await once(late, 'close').catch(() => {});
  // The count comes on a line of its own, just before that refusal.
  const last = lines.findLastIndex((l) => l.includes('refused a connection'));
  assert.match(lines[last - 1] ?? '', /^control: \d+ more refusals were not logged/);
  // The admitted clients are served throughout.
  held[1].sock.write('{"jsonrpc":"2.0","id":2,"method":"status"}\n');
  assert.equal((await held[1].next()).id, 2);
});

test('selfTest and diagnostics run once at a time: callers that ask meanwhile share the answer', async (t) => {
  let runs = 0;
  let release: () => void = () => {};
  const { path } = await serve(t, {
    selfTest: async () => {
      const n = ++runs;
      await new Promise<void>((r) => (release = r));
      return { run: n };
    },
  });
  const asks = Array.from({ length: 20 }, () =>
    callControl(path, 'selfTest', undefined, { timeoutMs: 5000 }),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runs, 1, 'one run for 20 callers');
  release();
  assert.deepEqual(
    await Promise.all(asks),
    Array.from({ length: 20 }, () => ({ run: 1 })),
  );
  // Once it is over, the next call runs it again.
  const again = callControl(path, 'selfTest', undefined, { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 100));
  release();
  assert.deepEqual(await again, { run: 2 });
});
