// Every reason the translator can count a drop under has words for people in the shared
// DROP_REASONS table, so neither the diagnostics window nor `clatbar status` shows a bare code
// when the translator learns a new reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REASONS } from '../../../src-main/engine/siit/counters.js';
import { DROP_REASONS } from '../../../src-main/shared/ipc.js';

test('every translator drop reason has words in DROP_REASONS', () => {
  const missing = REASONS.slice(1).filter((r) => !Object.hasOwn(DROP_REASONS, r));
  assert.deepEqual(missing, [], `add these to DROP_REASONS in src-main/shared/ipc.ts: ${missing.join(', ')}`);
  assert.equal(REASONS[0], 'none', 'index 0 is "translated", not a drop');
});

test('the words are sentences for people, not codes', () => {
  for (const [code, words] of Object.entries(DROP_REASONS)) {
    assert.ok(words.length >= 10 && words !== code && !/^[a-z0-9-]+$/.test(words), `${code}: "${words}"`);
  }
});
