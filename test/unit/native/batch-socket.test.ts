// Batched UDP sockets (native/src/udp_linux.cc) with real sockets on 127.0.0.1 and ::1: batches
// really carry many datagrams, replies reach the right address and port, errors carry errno
// names, closing inside a callback is safe and nothing leaks file descriptors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import {
  BatchUdpSocket,
  ReplyBatch,
  batchUdpUnavailable,
  type BatchSocketOptions,
} from '../../../src-main/engine/native/batch-socket.js';
import { isSysError, type SysError } from '../../../src-main/engine/native/native.js';
import { inCI } from '../../helpers/env.js';

function usable(t: { skip: (why: string) => void }): boolean {
  const why = batchUdpUnavailable();
  if (!why) return true;
  if (inCI) throw new Error(`test requirement missing: ${why}`);
  t.skip(why);
  return false;
}

function open(opts: BatchSocketOptions): BatchUdpSocket {
  const s = BatchUdpSocket.open(opts);
  s.onError((err) => {
    throw err;
  });
  return s;
}

function client(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const c = dgram.createSocket(type);
  return new Promise((resolve) => c.bind(0, address, () => resolve(c)));
}

/** Sends each payload and resolves once the kernel has taken all of them. */
function sendAll(c: dgram.Socket, payloads: Buffer[], port: number, address: string): Promise<void> {
  return Promise.all(
    payloads.map(
      (p) =>
        new Promise<void>((resolve, reject) =>
          c.send(p, port, address, (err) => (err ? reject(err) : resolve())),
        ),
    ),
  ).then(() => undefined);
}

/** Collects n datagrams on c. */
function receive(c: dgram.Socket, n: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) => {
    const on = (m: Buffer): void => {
      got.push(m.toString());
      if (got.length === n) {
        c.off('message', on);
        resolve(got);
      }
    };
    c.on('message', on);
  });
}

/** Echoes every datagram back to its source, prefixed with "re:", one sendmmsg per batch. */
function echo(s: BatchUdpSocket, batches: number[]): void {
  const out = new ReplyBatch(s.batchSize, s.batchSize * 600);
  s.onBatch((count) => {
    batches.push(count);
    for (let i = 0; i < count; i++) {
      const m = s.message(i);
      const room = out.reserve(m.length + 3, i) as Buffer;
      room.write('re:');
      m.copy(room, 3);
    }
    assert.equal(out.flush(s), count);
  });
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

test('datagrams queued while nobody reads arrive in full batches', async (t) => {
  if (!usable(t)) return;
  const s = open({ address: '127.0.0.1', port: 0, batch: 32, rcvbuf: 1 << 20 });
  t.after(() => s.close());
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  const n = 100;
  // Loopback delivery is synchronous: once the sends complete, all 100 wait in the socket.
  await sendAll(
    c,
    Array.from({ length: n }, (_, i) => Buffer.from(`q${i}`)),
    s.port,
    '127.0.0.1',
  );
  const batches: number[] = [];
  const reply = receive(c, n);
  echo(s, batches);
  const got = await reply;
  assert.deepEqual(batches, [32, 32, 32, 4]);
  assert.deepEqual(got.sort(), Array.from({ length: n }, (_, i) => `re:q${i}`).sort());
  const st = s.stats();
  assert.equal(st.rxPackets, n);
  assert.equal(st.rxBatches, 4);
  assert.equal(st.rxMaxBatch, 32);
  assert.equal(st.txPackets, n);
  // One sendmmsg per batch, not one system call per reply.
  assert.equal(st.txCalls, 4);
  assert.equal(st.txDropped + st.txErrors + st.queuePackets, 0);
});

for (const [family, address] of [
  ['udp4', '127.0.0.1'],
  ['udp6', '::1'],
] as const) {
  test(`${family}: each reply goes back to the address and port its query came from`, async (t) => {
    if (!usable(t)) return;
    const s = open({ address, port: 0, ipv6Only: family === 'udp6' });
    t.after(() => s.close());
    assert.equal(s.family, family === 'udp6' ? 6 : 4);
    const clients = await Promise.all([1, 2, 3, 4].map(() => client(family, address)));
    t.after(() => clients.forEach((c) => c.close()));
    const sources = new Set<string>();
    const batches: number[] = [];
    const out = new ReplyBatch(s.batchSize, 65536);
    s.onBatch((count) => {
      batches.push(count);
      for (let i = 0; i < count; i++) {
        sources.add(`${s.sourceAddress(i)} ${s.ports[i]}`);
        const m = s.message(i);
        const room = out.reserve(m.length, i) as Buffer;
        m.copy(room);
      }
      out.flush(s);
    });
    const per = 50;
    const replies = clients.map((c) => receive(c, per));
    await Promise.all(
      clients.map((c, k) =>
        sendAll(
          c,
          Array.from({ length: per }, (_, i) => Buffer.from(`c${k}-${i}`)),
          s.port,
          address,
        ),
      ),
    );
    const got = await Promise.all(replies);
    got.forEach((msgs, k) =>
      assert.deepEqual(msgs.sort(), Array.from({ length: per }, (_, i) => `c${k}-${i}`).sort()),
    );
    assert.deepEqual([...sources].sort(), clients.map((c) => `${address} ${c.address().port}`).sort());
  });
}

test('a dual-stack IPv6 socket sees IPv4 clients as ::ffff:a.b.c.d and answers them', async (t) => {
  if (!usable(t)) return;
  const s = open({ address: '::', port: 0, ipv6Only: false });
  t.after(() => s.close());
  const seen: string[] = [];
  s.onBatch((count) => {
    for (let i = 0; i < count; i++) {
      seen.push(s.sourceAddress(i));
      s.sendTo(Buffer.from('pong'), s.addrs.subarray(16 * i, 16 * i + 16), s.ports[i]);
    }
  });
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  const reply = receive(c, 1);
  await sendAll(c, [Buffer.from('ping')], s.port, '127.0.0.1');
  assert.deepEqual(await reply, ['pong']);
  assert.deepEqual(seen, ['::ffff:127.0.0.1']);
});

test('sendBatch: explicit address table and destination indexes', async (t) => {
  if (!usable(t)) return;
  const s = open({ address: '127.0.0.1', port: 0 });
  t.after(() => s.close());
  const a = await client('udp4', '127.0.0.1');
  const b = await client('udp4', '127.0.0.1');
  t.after(() => [a, b].forEach((c) => c.close()));
  const table = { addrs: new Uint8Array(32), ports: new Uint16Array(2) };
  table.addrs.set([127, 0, 0, 1], 0);
  table.addrs.set([127, 0, 0, 1], 16);
  table.ports[0] = a.address().port;
  table.ports[1] = b.address().port;
  const buf = Buffer.from('toAtoBtoA');
  const ra = receive(a, 2);
  const rb = receive(b, 1);
  const n = s.sendBatch(
    buf,
    Uint32Array.of(0, 3, 6),
    Uint32Array.of(3, 3, 3),
    3,
    table,
    Uint32Array.of(0, 1, 0),
  );
  assert.equal(n, 3);
  assert.deepEqual(await ra, ['toA', 'toA']);
  assert.deepEqual(await rb, ['toB']);
  // Bad arguments are refused before anything is sent.
  assert.throws(() => s.sendBatch(buf, Uint32Array.of(8), Uint32Array.of(3), 1, table), RangeError);
  assert.throws(
    () => s.sendBatch(buf, Uint32Array.of(0), Uint32Array.of(3), 1, table, Uint32Array.of(2)),
    RangeError,
  );
  assert.equal(s.stats().txPackets, 3);
});

test('a datagram the kernel refuses is skipped, counted and reported with its errno name', async (t) => {
  if (!usable(t)) return;
  const s = BatchUdpSocket.open({ address: '127.0.0.1', port: 0 });
  t.after(() => s.close());
  const errors: SysError[] = [];
  s.onError((err) => errors.push(err));
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  const table = { addrs: new Uint8Array(48), ports: new Uint16Array(3) };
  for (let k = 0; k < 3; k++) table.addrs.set([127, 0, 0, 1], 16 * k);
  table.ports[0] = c.address().port;
  table.ports[1] = 0; // port 0: sendmsg fails with EINVAL
  table.ports[2] = c.address().port;
  const got = receive(c, 2);
  const n = s.sendBatch(Buffer.from('abc'), Uint32Array.of(0, 1, 2), Uint32Array.of(1, 1, 1), 3, table);
  assert.equal(n, 2);
  assert.deepEqual((await got).sort(), ['a', 'c']);
  assert.equal(errors.length, 1);
  assert.ok(isSysError(errors[0]));
  assert.equal(errors[0].code, 'EINVAL');
  assert.equal(errors[0].syscall, 'sendmmsg');
  const st = s.stats();
  assert.equal(st.txErrors, 1);
  assert.equal(st.lastError, 'EINVAL');
  assert.equal(st.txPackets, 2);
});

test('binding a taken port fails with EADDRINUSE; datagrams longer than a slot are dropped', async (t) => {
  if (!usable(t)) return;
  const s = open({ address: '127.0.0.1', port: 0, slotSize: 512 });
  t.after(() => s.close());
  assert.throws(
    () => BatchUdpSocket.open({ address: '127.0.0.1', port: s.port }),
    (err: unknown) => isSysError(err) && err.code === 'EADDRINUSE' && err.syscall === 'bind',
  );
  assert.throws(() => BatchUdpSocket.open({ address: 'localhost', port: 0 }), TypeError);
  const lens: number[] = [];
  let done: () => void = () => {};
  const last = new Promise<void>((r) => (done = r));
  s.onBatch((count) => {
    for (let i = 0; i < count; i++) lens.push(s.lengths[i]);
    if (lens.includes(3)) done();
  });
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  await sendAll(c, [Buffer.alloc(1000), Buffer.alloc(512), Buffer.from('end')], s.port, '127.0.0.1');
  await last;
  assert.deepEqual(lens, [512, 3]);
  assert.equal(s.stats().rxTruncated, 1);
});

test('closing inside a callback stops delivery at once; later calls are harmless', async (t) => {
  if (!usable(t)) return;
  const s = open({ address: '127.0.0.1', port: 0, batch: 8 });
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  await sendAll(
    c,
    Array.from({ length: 40 }, (_, i) => Buffer.from(`x${i}`)),
    s.port,
    '127.0.0.1',
  );
  const fd = s.fd;
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  assert.match(link, /^socket:/);
  let calls = 0;
  const out = new ReplyBatch(8, 4096);
  s.onBatch((count) => {
    calls++;
    assert.equal(count, 8);
    for (let i = 0; i < count; i++) s.message(i).copy(out.reserve(s.lengths[i], i) as Buffer);
    // Replies queued for sending, then close in the middle of the callback.
    assert.equal(out.flush(s), 8);
    s.close();
    assert.equal(s.sendBatch(Buffer.from('a'), Uint32Array.of(0), Uint32Array.of(1), 1), 0);
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 1);
  assert.equal(s.isClosed, true);
  assert.equal(s.close(), 0);
  s.pause();
  s.resume();
  assert.equal(s.sendTo(Buffer.from('a'), new Uint8Array(16), 1), false);
  // The fd is closed: its number is free, or reused by something that is not our socket.
  const now = existsSync(`/proc/self/fd/${fd}`) ? readlinkSync(`/proc/self/fd/${fd}`) : null;
  assert.notEqual(now, link);
});

test('opening and closing 500 sockets, some busy, leaks no file descriptor', async (t) => {
  if (!usable(t)) return;
  const c = await client('udp4', '127.0.0.1');
  t.after(() => c.close());
  const before = openFds();
  for (let k = 0; k < 500; k++) {
    const s = open({ address: k % 2 ? '127.0.0.1' : '::1', port: 0, batch: 4 });
    if (k % 5 === 0) {
      s.onBatch(() => s.close());
      if (s.family === 4) await sendAll(c, [Buffer.from('x'), Buffer.from('y')], s.port, '127.0.0.1');
      await new Promise((r) => setImmediate(r));
    }
    s.close();
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(openFds(), before);
});
