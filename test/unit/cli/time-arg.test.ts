// The times `clatbar logs --since` reads (cli/time-arg.ts), against a fixed "now".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTime } from '../../../src-main/cli/time-arg.js';

const now = new Date('2026-12-04T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

test('a time ago, in the spellings systemd.time(7) uses', () => {
  for (const [text, seconds] of [
    ['10m', 600],
    ['-10m', 600],
    ['10min', 600],
    ['10 minutes ago', 600],
    ['1h30m', 5400],
    ['2 days ago', 172800],
    ['1w', 604800],
    ['45s', 45],
    ['1.5h', 5400],
  ] as const)
    assert.equal(parseTime(text, now).toISOString(), ago(seconds), text);
  assert.equal(parseTime('now', now).toISOString(), now.toISOString());
});

test('dates: with a zone exactly, without one in local time; today and yesterday at midnight', () => {
  assert.equal(parseTime('2026-12-04T03:00:00Z', now).toISOString(), '2026-12-04T03:00:00.000Z');
  assert.equal(parseTime('2026-12-04T05:00:00+02:00', now).toISOString(), '2026-12-04T03:00:00.000Z');
  assert.equal(parseTime('2026-12-04 03:00', now).getTime(), new Date(2026, 11, 4, 3, 0).getTime());
  assert.equal(parseTime('2026-12-04', now).getTime(), new Date(2026, 11, 4).getTime());
  const today = parseTime('today', now);
  assert.deepEqual([today.getHours(), today.getMinutes(), today.getDate()], [0, 0, now.getDate()]);
  assert.equal(today.getTime() - parseTime('yesterday', now).getTime(), 86_400_000);
});

test('what is not a time says so and lists the forms', () => {
  for (const text of [
    '5',
    'last tuesday',
    '10 parsecs',
    '2026-02-31',
    '2026-12-04 25:00',
    '',
    '2026-13-01T00:00:00Z',
  ])
    assert.throws(() => parseTime(text, now), /is not a time.*use one of 10m/, text);
  assert.throws(() => parseTime('5', now), /a bare number has no unit/);
  assert.throws(() => parseTime('10 parsecs', now), /'parsecs' is not a unit/);
});
