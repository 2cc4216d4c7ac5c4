// The self-test's words (engine/control/selftest.ts): each title, result sentence and fix is a
// message with a code and parameters whose English comes from the shared catalog (one home), and
// the app shows it in Korean from the same code. The light English renderer the engine and the
// CLI use (shared/engine-words.ts) says exactly what i18next says for every self-test code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import { catalogKey, engineMessage } from '../../../src-main/shared/engine-words.js';
import { en } from '../../../src-main/shared/locales/en.js';

const words: Readonly<Record<string, string>> = en.engine;
import { selfTest } from '../../../src-main/engine/control/selftest.js';
import type { EngineStatusDoc } from '../../../src-main/shared/status.js';

const HANGUL = /[\uac00-\ud7a3]/;
const tr = { en: createTranslator('en'), ko: createTranslator('ko') };

test('every self-test sentence renders the same English as i18next, and has Korean words', () => {
  const keys = Object.keys(words).filter((k) => k.startsWith('selftest_'));
  assert.ok(keys.length >= 30, `${keys.length} self-test sentences`);
  for (const key of keys) {
    // The code the engine sends: selftest.CHECK.WHAT (the catalog writes its dots as '_').
    const code = key.replace(/^selftest_([^_]+)_/, 'selftest.$1.');
    assert.equal(catalogKey(code), key);
    const names = [...words[key].matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
    const params = Object.fromEntries(names.map((n, i) => [n, `<${n}${i}>`]));
    const m = engineMessage(code, names.length ? params : undefined);
    assert.equal(m.code, code);
    assert.equal(m.text, tr.en.msg(m), key);
    for (const n of names) assert.ok(m.text.includes(params[n]), `${key}: ${n} filled in`);
    const ko = tr.ko.msg(m);
    for (const n of names) assert.ok(ko.includes(params[n]), `${key}: ${n} in the Korean`);
    if (!/^\{\{\w+\}\}$/.test(words[key])) assert.match(ko, HANGUL, key);
  }
});

test('a code the catalog lacks keeps the code as its text, and a missing parameter stays visible', () => {
  assert.deepEqual(engineMessage('selftest.nothing.here'), {
    code: 'selftest.nothing.here',
    text: 'selftest.nothing.here',
  });
  assert.equal(engineMessage('selftest.ipv4-icmp.pass').text, '{{address}} answered a ping over IPv4');
});

test('a self-test run sends each check with messages the app can translate', async () => {
  // Nothing running (no uplink, no CLAT): every check that needs one says why it was skipped;
  // the system resolver is asked for localhost (from /etc/hosts), which answers here.
  const status = { state: 'off', transitions: [] } as unknown as EngineStatusDoc;
  const report = await selfTest(
    { ipv4: [{ address: '192.0.2.1', port: 443 }], name: 'localhost' },
    () => status,
  );
  assert.equal(report.checks.length, 7);
  for (const c of report.checks) {
    const m = c.messages;
    assert.ok(m, `${c.id} has messages`);
    assert.equal(m.title.code, `selftest.${c.id}.title`);
    assert.equal(c.title, m.title.text);
    assert.equal(c.text, m.text.text);
    assert.equal(c.fix, m.fix?.text);
    for (const msg of [m.title, m.text, ...(m.fix ? [m.fix] : [])]) {
      assert.notEqual(msg.text, msg.code, `${msg.code} is in the catalog`);
      assert.match(tr.ko.msg(msg), HANGUL, msg.code);
    }
  }
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
  assert.equal(byId['ipv4-icmp'].result, 'skipped');
  assert.equal(byId['ipv4-icmp'].text, 'the CLAT is not active, so there is nothing to ping through');
  assert.equal(byId['dns-system'].title, 'A and AAAA of localhost through the system resolver');
  assert.equal(tr.ko.msg(byId['dns-system'].messages!.title), '시스템 리졸버로 localhost의 A와 AAAA 조회');
});
