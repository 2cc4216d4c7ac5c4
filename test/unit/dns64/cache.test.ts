// The answer cache: TTLs age in the stored bytes, entries expire, memory stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import packet from 'dns-packet';
import { AnswerCache } from '../../../src-main/engine/dns64/cache.js';

const answer = (ttl: number): Buffer =>
  packet.encode({
    type: 'response',
    id: 0,
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
    questions: [{ type: 'AAAA', name: 'a.example', class: 'IN' }],
    answers: [
      { type: 'CNAME', name: 'a.example', ttl: ttl * 2, data: 'b.example' },
      { type: 'AAAA', name: 'b.example', ttl, data: '2001:db8::1' },
    ],
  });

test('TTLs count down with age and the entry expires with its TTL', () => {
  const c = new AnswerCache();
  const t0 = 1_000_000;
  c.set('k', answer(60), 60, 0, t0);
  const ttls = (now: number): number[] | undefined => {
    const e = c.get('k', now);
    return e ? (packet.decode(e.wire).answers ?? []).map((a) => (a as { ttl: number }).ttl) : undefined;
  };
  assert.deepEqual(ttls(t0), [120, 60]);
  assert.deepEqual(ttls(t0 + 5_500), [115, 55]);
  assert.deepEqual(ttls(t0 + 59_999), [61, 1]);
  assert.equal(ttls(t0 + 60_000), undefined);
  assert.equal(c.size, 0);
});

test('bounded by entries and bytes, oldest out first; maxTtl caps the lifetime', () => {
  const c = new AnswerCache({ maxEntries: 3, maxTtl: 10 });
  for (let i = 0; i < 5; i++) c.set(`k${i}`, answer(600), 600, 0, 0);
  assert.equal(c.size, 3);
  assert.equal(c.get('k0', 0), undefined);
  assert.ok(c.get('k4', 0));
  assert.equal(c.get('k4', 10_000), undefined, 'maxTtl 10 s');
  const small = new AnswerCache({ maxBytes: 500 });
  for (let i = 0; i < 10; i++) small.set(`k${i}`, answer(600), 600, 0, 0);
  assert.ok(small.byteSize <= 500);
  assert.ok(small.size >= 1 && small.size < 10);
  small.sweep(700_000);
  assert.equal(small.size, 0);
});
