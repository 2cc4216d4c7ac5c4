// The translation layer (shared/i18n.ts): the language from the system's locales, catalogs with
// the same keys in English and Korean, engine messages by code with the engine's text as fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appMessage, createTranslator, pickLanguage } from '../../../src-main/shared/i18n.js';
import { en } from '../../../src-main/shared/locales/en.js';
import { ko } from '../../../src-main/shared/locales/ko.js';

test('the language comes from the first system locale we have', () => {
  assert.equal(pickLanguage(['ko-KR', 'en-US']), 'ko');
  assert.equal(pickLanguage(['ko_KR.UTF-8']), 'ko');
  assert.equal(pickLanguage(['de-DE', 'ko']), 'ko');
  assert.equal(pickLanguage(['de-DE', 'fr']), 'en');
  assert.equal(pickLanguage([]), 'en');
});

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${prefix}${k}`] : keys(v as object, `${prefix}${k}.`),
  );
}

test('Korean has every English key, each with its parameters, and no English left', () => {
  assert.deepEqual(keys(ko).sort(), keys(en).sort());
  const params = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
  const get = (o: object, k: string) =>
    k.split('.').reduce<unknown>((x, p) => (x as Record<string, unknown>)[p], o) as string;
  for (const k of keys(en)) {
    assert.deepEqual(params(get(ko, k)), params(get(en, k)), k);
    // Every Korean string has Hangul, except ones that are only names and numbers.
    if (!/^(clatbar: )?(CLAT IPv[46]|DNS64|\{\{\w+\}\})$/.test(get(ko, k)))
      assert.match(get(ko, k), /[\uac00-\ud7a3]/, k);
  }
});

test('messages: the app’s by key, the engine’s by code, else the engine’s own words', () => {
  const tr = createTranslator('ko');
  const m = appMessage('app.noEngine', { path: '/run/clatbar/engine.sock' });
  assert.equal(m.text, 'no engine is running (nothing answers on /run/clatbar/engine.sock)');
  assert.equal(tr.msg(m), '실행 중인 엔진이 없습니다 (/run/clatbar/engine.sock에서 응답 없음)');
  assert.equal(
    tr.msg({ code: 'standby.not-in-catalog', text: 'native IPv4 is here' }),
    'native IPv4 is here',
  );
  assert.equal(createTranslator('en').t('tray.policyOn', { network: '<b>x</b>' }), 'On <b>x</b>:');
});
