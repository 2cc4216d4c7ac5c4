// Number formatting shared by the diagnostics window and `clatbar status` (shared/format.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitRate, bytes, plural, rates } from '../../../src-main/shared/format.js';
import type { Traffic } from '../../../src-main/shared/ipc.js';

test('bytes and bit rates use SI units with one decimal below 10', () => {
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(1234), '1.2 kB');
  assert.equal(bytes(34_500_000), '35 MB');
  assert.equal(bitRate(125), '1.0 kbit/s');
  assert.equal(bitRate(1_500_000_000), '12 Gbit/s');
});

test('plural says one thing and many things', () => {
  assert.equal(plural(1, 'packet'), '1 packet');
  assert.equal(plural(12345, 'query', 'queries'), '12,345 queries');
});

test('rates are per second between samples, and none when a counter went backwards', () => {
  const a = { sampledAt: 1000, packets4to6: 10, packets6to4: 20 } as Traffic;
  const b = { sampledAt: 3000, packets4to6: 30, packets6to4: 60 } as Traffic;
  const r = rates(a, b);
  assert.equal(r?.packets4to6, 10);
  assert.equal(r?.packets6to4, 20);
  assert.equal(rates(b, a), null, 'time went backwards');
  assert.equal(rates(b, { ...b, sampledAt: 4000, packets4to6: 0 }), null, 'a new engine started from zero');
  assert.equal(rates(undefined, b), null);
});
