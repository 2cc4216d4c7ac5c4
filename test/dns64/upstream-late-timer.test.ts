// The DNS64's upstream client (engine/dns/upstream.ts) on a thread that was not scheduled for a
// while (a loaded machine, a long GC pause): Node runs expired timers before it reads sockets,
// so the attempt's timeout used to fire with the reply already waiting in the socket, and the
// query failed although the upstream had answered in time. The upstream here answers from a
// worker thread (a fake resolver: it repeats the question with an A record), so it answers
// while this thread is blocked on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Upstreams } from '../../src-main/engine/dns/upstream.js';
import { TYPE, CLASS_IN, textToName } from '../../src-main/engine/dns/wire.js';

const RESPONDER = `
const dgram = require('node:dgram');
const { parentPort, workerData } = require('node:worker_threads');
const sent = new Int32Array(workerData);
const s = dgram.createSocket('udp4');
s.on('message', (q, r) => {
  const a = Buffer.from(q);
  a[2] |= 0x80; // QR
  a.writeUInt16BE(0, 10); // no additional (the query's OPT)
  const end = 12 + (() => { let o = 12; while (a[o]) o += a[o] + 1; return o + 5 - 12; })();
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
  const reply = Buffer.concat([a.subarray(0, end), rr]);
  reply.writeUInt16BE(1, 6); // ANCOUNT
  s.send(reply, r.port, r.address, () => {
    Atomics.add(sent, 0, 1);
    Atomics.notify(sent, 0);
  });
});
s.bind(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));
`;

test('a reply that arrived while the thread was blocked past the timeout is taken, not timed out', async (t) => {
  const flag = new SharedArrayBuffer(4);
  const sent = new Int32Array(flag);
  const w = new Worker(RESPONDER, { eval: true, workerData: flag });
  t.after(() => w.terminate());
  const [port] = (await once(w, 'message')) as [number];
  const up = new Upstreams([{ address: '127.0.0.1', port }], { timeoutMs: 100, attempts: 1 });
  t.after(() => up.close());
  const name = textToName('blocked.example');
  // The first query binds the client's sockets; it goes normally.
  assert.ok(await up.query(name, TYPE.A, CLASS_IN, false, false), 'the responder answers');
  // Sent, then this thread is blocked until the responder has sent its reply (so it waits in
  // our socket) and past the timeout: when the loop runs again, the timer has expired too.
  const t0 = Date.now();
  const pending = up.query(name, TYPE.A, CLASS_IN, false, false);
  assert.notEqual(Atomics.wait(sent, 0, 1, 5000), 'timed-out', 'the responder sent its reply');
  Atomics.wait(sent, 0, 2, Math.max(0, 300 - (Date.now() - t0)));
  const r = await pending;
  assert.ok(r, `the reply was there; timeouts counted: ${up.stats.timeouts}`);
  assert.equal(r.msg.answer.length, 1);
  assert.equal(up.stats.timeouts, 0);
});
