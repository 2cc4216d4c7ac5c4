// The DNS64's client side treats the network as hostile (RFC 5452 §9): a reply counts only when
// it comes from the address and port the query went to, carries the query's random ID and repeats
// its question. Here a real resolver on the loopback is raced by forgeries, each sent before the
// real answer: from another port, with another ID, for a name not asked. The real answer wins;
// each forgery is counted and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { Upstreams } from '../../src-main/engine/dns/upstream.js';
import { TYPE, textToName } from '../../src-main/engine/dns/wire.js';

/** A reply to query q: same ID and question unless told otherwise, one A record with addr and ttl. */
function reply(q: Buffer, o: { id?: number; qname?: Buffer; addr: number[]; ttl?: number }): Buffer {
  const qEnd = q.indexOf(0, 12) + 5;
  const question = o.qname ? Buffer.concat([o.qname, q.subarray(qEnd - 4, qEnd)]) : q.subarray(12, qEnd);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(o.id ?? q.readUInt16BE(0), 0);
  head.writeUInt16BE(0x8180, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(1, 6);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(TYPE.A, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(o.ttl ?? 300, 6);
  rr.writeUInt16BE(4, 10);
  Buffer.from(o.addr).copy(rr, 12);
  return Buffer.concat([head, question, rr]);
}

test('forged replies (other port, other ID, a name not asked) lose to the real one and are counted', async (t) => {
  const server = dgram.createSocket('udp4');
  const forger = dgram.createSocket('udp4');
  server.bind(0, '127.0.0.1');
  forger.bind(0, '127.0.0.1');
  await Promise.all([once(server, 'listening'), once(forger, 'listening')]);
  t.after(() => {
    server.close();
    forger.close();
  });
  server.on('message', (q, from) => {
    const to = (m: Buffer, s = server) => s.send(m, from.port, from.address);
    // Forgeries first, each with the evil address 203.0.113.66...
    to(reply(q, { addr: [203, 0, 113, 66] }), forger);
    to(reply(q, { id: (q.readUInt16BE(0) + 1) & 0xffff, addr: [203, 0, 113, 66] }));
    to(reply(q, { qname: textToName('bank.example.'), addr: [203, 0, 113, 66] }));
    // ...then the real answer, a moment later.
    setTimeout(() => to(reply(q, { addr: [198, 51, 100, 7] })), 50);
  });
  const up = new Upstreams([{ address: '127.0.0.1', port: (server.address() as { port: number }).port }], {
    timeoutMs: 2000,
    attempts: 1,
  });
  t.after(() => up.close());
  const r = await up.query(textToName('www.example.'), TYPE.A, 1, false, false);
  assert.ok(r, 'the real answer came through');
  const a = r.msg.answer[0];
  assert.deepEqual([...r.wire.subarray(a.rdOff, a.rdOff + 4)], [198, 51, 100, 7]);
  assert.equal(up.stats.badReplies, 3);
});
