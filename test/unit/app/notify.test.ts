// Which transitions notify (app/notify.ts), the rate limit, and the off switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, noticeKind } from '../../../src-main/app/notify.js';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import type { EngineStatus } from '../../../src-main/shared/ipc.js';

const en = createTranslator('en');
const A = { id: 'a', name: 'Home' };
const B = { id: 'b', name: 'Café' };
const s = (state: EngineStatus['state'], network = A, text = 'why'): EngineStatus => ({
  state,
  reason: { code: 'x', text },
  network,
});

test('the transitions that matter, and the ones that do not', () => {
  assert.equal(noticeKind(s('standby'), s('active')), 'active');
  assert.equal(noticeKind(s('active', A), s('active', B)), 'active');
  assert.equal(noticeKind(s('active'), s('active')), null);
  assert.equal(noticeKind(s('active'), s('standby')), 'standby');
  assert.equal(noticeKind(s('off'), s('standby')), null);
  assert.equal(noticeKind(s('active'), s('attention')), 'attention');
  assert.equal(noticeKind(s('attention'), s('attention')), null);
  assert.equal(noticeKind(s('active'), s('disconnected')), 'attention');
  // The engine stopping on purpose, and the app (re)connecting, are not news.
  assert.equal(noticeKind(s('stopping'), s('disconnected')), null);
  assert.equal(noticeKind(s('disconnected'), s('active')), null);
  assert.equal(noticeKind(s('disconnected'), s('attention')), null);
  // The CLAT brought up again on the same network (another DNS64 mode or inbound choice).
  const restarting = (network = A): EngineStatus => ({
    state: 'standby',
    reason: { code: 'standby.restarting', text: 'restarting the CLAT' },
    network,
  });
  assert.equal(noticeKind(s('active'), restarting()), null);
  assert.equal(noticeKind(restarting(), s('active')), null);
  // ... but not when it comes up on another network, or does not come up.
  assert.equal(noticeKind(restarting(A), s('active', B)), 'active');
  assert.equal(noticeKind(restarting(), s('attention')), 'attention');
});

test('the notice says what happened in words', () => {
  const n = new Notifier().decide(s('standby'), s('active', B), 0, true, en);
  assert.deepEqual(n, {
    kind: 'active',
    title: 'IPv4 through clatbar is on',
    body: 'On Café, IPv4 apps now go through the network’s NAT64.',
  });
  const a = new Notifier().decide(
    s('active'),
    { ...s('attention'), problem: { code: 'x', text: 'do this' } },
    0,
    true,
    createTranslator('ko'),
  );
  assert.equal(a?.title, 'clatbar 확인 필요');
  assert.equal(a?.body, 'why do this');
});

test('rate-limited per kind and overall; switched off means none', () => {
  const n = new Notifier({ minGapMs: 60_000, burst: 3, windowMs: 600_000 });
  const flap = (t: number) => [
    n.decide(s('standby'), s('active'), t, true, en),
    n.decide(s('active'), s('standby'), t + 1, true, en),
  ];
  assert.deepEqual(
    flap(0).map((x) => x?.kind),
    ['active', 'standby'],
  );
  // Ten seconds later the same flap is suppressed (one per kind per minute).
  assert.deepEqual(flap(10_000), [null, null]);
  // A minute later one more fits the burst of three in ten minutes, then nothing.
  assert.deepEqual(
    flap(70_000).map((x) => x?.kind),
    ['active', undefined],
  );
  assert.deepEqual(flap(140_000), [null, null]);
  // After the window, again.
  assert.equal(n.decide(s('standby'), s('active'), 700_000, true, en)?.kind, 'active');
  assert.equal(new Notifier().decide(s('standby'), s('active'), 0, false, en), null);
});
