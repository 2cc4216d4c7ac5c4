// When the daemon gives memory back (engine/daemon/resident.ts releaseWhenSettled): once per
// settle out of the CLAT's way, after the quiet time, never while active. Real timers, short waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { releaseWhenSettled } from '../../../src-main/engine/daemon/resident.js';

const AFTER = 40;

test('settling in standby gives memory back once, after the quiet time', async () => {
  let released = 0;
  const r = releaseWhenSettled({ afterMs: AFTER, release: () => released++ });
  r.settled('standby');
  await sleep(AFTER / 4);
  assert.equal(released, 0, 'not before the quiet time');
  await sleep(AFTER * 3);
  assert.equal(released, 1);
  await sleep(AFTER * 3);
  assert.equal(released, 1, 'once: nothing periodic at rest');
});

test('each new settle starts the wait again: a burst of changes gives memory back once, after the last', async () => {
  let released = 0;
  const r = releaseWhenSettled({ afterMs: AFTER, release: () => released++ });
  for (const state of ['standby', 'off', 'attention'] as const) {
    r.settled(state);
    await sleep(AFTER / 2);
  }
  assert.equal(released, 0);
  await sleep(AFTER * 3);
  assert.equal(released, 1);
});

test('active or stopping cancels a pending release, and stop() does too', async () => {
  let released = 0;
  const r = releaseWhenSettled({ afterMs: AFTER, release: () => released++ });
  for (const state of ['active', 'stopping'] as const) {
    r.settled('standby');
    r.settled(state);
    await sleep(AFTER * 3);
    assert.equal(released, 0, `not after settling ${state}`);
  }
  r.settled('standby');
  r.stop();
  await sleep(AFTER * 3);
  assert.equal(released, 0, 'not after stop()');
});
