// Every reason the data path can count a drop under (the translator's REASONS, the data path's
// own counters and the kernel's inbound filter, engine/clat/inbound-filter.ts) has words for people in both message catalogs, so neither the diagnostics window
// (in English or Korean) nor `clatbar status` shows a bare code when the translator learns a new
// reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REASONS } from '../../../src-main/engine/siit/counters.js';
import { DATA_PATH_DROPS } from '../../../src-main/app/status-view.js';
import { DROP_REASON as INBOUND_DROP } from '../../../src-main/engine/clat/inbound-filter.js';
import { DROP_REASONS } from '../../../src-main/shared/ipc.js';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import { en } from '../../../src-main/shared/locales/en.js';
import { ko } from '../../../src-main/shared/locales/ko.js';

const ALL = [...REASONS.slice(1), ...Object.values(DATA_PATH_DROPS), INBOUND_DROP];

test('every drop reason has words in the English and the Korean catalog', () => {
  assert.equal(REASONS[0], 'none', 'index 0 is "translated", not a drop');
  for (const [lang, catalog] of [
    ['en', en],
    ['ko', ko],
  ] as const) {
    const missing = ALL.filter((r) => !Object.hasOwn(catalog.drops, r));
    assert.deepEqual(
      missing,
      [],
      `add these to drops in src-main/shared/locales/${lang}.ts: ${missing.join(', ')}`,
    );
  }
  // `clatbar status` reads the English ones from the same place.
  assert.equal(DROP_REASONS, en.drops);
});

test('the words are sentences for people, not codes, and the windows show them per language', () => {
  const ko_ = createTranslator('ko');
  const en_ = createTranslator('en');
  for (const code of ALL) {
    const words = en_.words('drops', code);
    assert.ok(words.length >= 10 && words !== code && !/^[a-z0-9-]+$/.test(words), `${code}: "${words}"`);
    assert.match(ko_.words('drops', code), /[\uac00-\ud7a3]/, code);
  }
  assert.equal(ko_.words('drops', 'ttl-expired'), '홉 제한이 다 됨 (Time Exceeded를 돌려보냄)');
  // A reason from a newer engine: its code, never a catalog key.
  assert.equal(ko_.words('drops', 'brand-new-reason'), 'brand-new-reason');
});
