// Wire-format helpers: hostile names never hang or throw, the builder expands compression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import packet from 'dns-packet';
import {
  Builder,
  parseMessage,
  readName,
  nameToText,
  skipName,
  TYPE,
} from '../../../src-main/engine/dns/wire.js';

test('a compression loop is reported, not followed forever', () => {
  // Header, then a name at 12 that points to itself.
  const b = Buffer.alloc(14);
  b[12] = 0xc0;
  b[13] = 12;
  assert.equal(readName(b, 12), null);
  assert.equal(skipName(b, 12), 14);
  // Two pointers pointing at each other.
  const c = Buffer.alloc(16);
  c.set([0xc0, 14, 0xc0, 12], 12);
  assert.equal(readName(c, 12), null);
});

test('names longer than 255 bytes and reserved label types are rejected', () => {
  const labels: number[] = [];
  for (let i = 0; i < 5; i++) labels.push(63, ...new Array<number>(63).fill(0x61));
  labels.push(0);
  assert.equal(readName(Buffer.from(labels), 0), null);
  assert.equal(readName(Buffer.from([0x41, 0]), 0), null);
});

test('parseMessage reads a dns-packet message and finds OPT', () => {
  const wire = packet.encode({
    type: 'response',
    id: 7,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'a.example', class: 'IN' }],
    answers: [{ type: 'A', name: 'a.example', ttl: 30, data: '192.0.2.1' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as packet.Answer],
  });
  const p = parseMessage(wire)!;
  assert.equal(p.id, 7);
  assert.equal(p.qtype, TYPE.A);
  assert.equal(p.answer.length, 1);
  assert.equal(p.answer[0].ttl, 30);
  assert.ok(p.opt);
  assert.equal(parseMessage(wire.subarray(0, wire.length - 3)), null);
});

test('the builder expands compressed names in copied records', () => {
  // dig-style compressed response: CNAME target points into the question.
  const hex =
    '0001818000010002000000000377777707657861' +
    '6d706c650000010001c00c0005000100000e10000603666f6fc010c029000100010000003c0004c0000201';
  const src = Buffer.from(hex, 'hex');
  const p = parseMessage(src)!;
  assert.equal(p.answer.length, 2);
  const b = new Builder(1, 0x8180);
  b.question(src.subarray(12, p.qEnd));
  for (const rr of p.answer) b.copy(1, src, rr);
  const out = packet.decode(b.finish());
  assert.equal(out.answers?.[0].type, 'CNAME');
  assert.equal((out.answers?.[0] as { data: string }).data, 'foo.example');
  assert.equal(out.answers?.[1].name, 'foo.example');
  assert.equal(nameToText(readName(src, 12)!), 'www.example.');
});

test('the builder compresses names again against its own question and records', () => {
  const q = packet.encode({
    type: 'query',
    id: 1,
    questions: [{ type: 'AAAA', name: 'www.example', class: 'IN' }],
  });
  const b = new Builder(1, 0x8180);
  b.question(q.subarray(12));
  const owner = Buffer.from([3, 0x57, 0x57, 0x57, 7, ...Buffer.from('example'), 0]); // "WWW.example"
  for (let i = 0; i < 3; i++) b.record(1, owner, TYPE.AAAA, 60, Buffer.alloc(16, i));
  const out = b.finish();
  // Each owner is a 2-byte pointer to the question's name: 12 + 17 + 3 * (2 + 10 + 16).
  assert.equal(out.length, 12 + 17 + 3 * 28);
  const d = packet.decode(out);
  assert.deepEqual(
    d.answers?.map((a) => a.name),
    ['www.example', 'www.example', 'www.example'],
  );
});

test('a message whose record names loop or point outside it does not parse (never passed on)', () => {
  const base = packet.encode({
    type: 'response',
    id: 1,
    questions: [{ name: 'a.example', type: 'A', class: 'IN' }],
    answers: [{ type: 'CNAME', name: 'a.example', ttl: 60, data: 'b.example' }],
  });
  assert.ok(parseMessage(base), 'the well-formed message parses');
  // dns-packet does not compress: the answer's owner name starts right after the question.
  const q = 12 + 'a.example'.length + 2 + 4;
  const loop = Buffer.from(base);
  loop.writeUInt16BE(0xc000 | q, q); // points at itself
  assert.equal(parseMessage(loop), null, 'owner name loops');
  const outside = Buffer.from(base);
  outside.writeUInt16BE(0xc000 | 0x3fff, q); // points past the end
  assert.equal(parseMessage(outside), null, 'owner name points outside the message');
  // The CNAME's RDATA (one name) looping.
  const rd = q + 'a.example'.length + 2 + 10;
  const rdLoop = Buffer.from(base);
  rdLoop.writeUInt16BE(0xc000 | rd, rd);
  assert.equal(parseMessage(rdLoop), null, 'CNAME target loops');
});
