// Number and duration formatting shared by the diagnostics window and `clatbar status` (shared/format.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitRate, bytes, plural, rates, since } from '../../../src-main/shared/format.js';
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

test('durations are in the language’s own units', () => {
  const start = '2026-12-04T10:00:00.000Z';
  const at = (s: number) => Date.parse(start) + s * 1000;
  assert.equal(since(start, at(5)), '5 sec');
  assert.equal(since(start, at(180)), '3 min');
  assert.equal(since(start, at(2 * 3600 + 300)), '2 hr 5 min');
  assert.equal(since(start, at(3 * 86400)), '3 days');
  assert.equal(since(start, at(180), 'ko'), '3분');
  assert.equal(since(start, at(2 * 3600 + 300), 'ko'), '2시간 5분');
  assert.equal(since(start, at(3 * 86400), 'ko'), '3일');
  // A clock behind the start (another machine's time): no negative durations.
  assert.equal(since(start, at(-10)), '0 sec');
});
