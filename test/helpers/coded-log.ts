// What every line of the engine's log must be (shared/say.ts): a code the catalog has in English
// and Korean, the English text exactly the catalog's words with the line's parameters, and Korean
// words from the same code and parameters (as the diagnostics window shows them).
import assert from 'node:assert/strict';
import { catalogKey, engineMessage } from '../../src-main/shared/engine-words.js';
import { createTranslator } from '../../src-main/shared/i18n.js';
import { en } from '../../src-main/shared/locales/en.js';
import { ko } from '../../src-main/shared/locales/ko.js';
import { escapeLogText } from '../../src-main/engine/control/log-ring.js';
import type { LogLine } from '../../src-main/shared/status.js';

const HANGUL = /[\uac00-\ud7a3]/;
const korean = createTranslator('ko');

/** Fails naming the first line that is not a coded message from the catalog. */
export function assertCodedLines(lines: readonly LogLine[]): void {
  assert.ok(lines.length > 0, 'no log lines');
  for (const line of lines) {
    const where = `log line ${line.seq}: ${line.text}`;
    assert.ok(line.code, `${where}: no code`);
    assert.ok(Object.hasOwn(en.engine, catalogKey(line.code)), `${where}: ${line.code} is not in en.ts`);
    assert.ok(Object.hasOwn(ko.engine, catalogKey(line.code)), `${where}: ${line.code} is not in ko.ts`);
    assert.equal(line.text, escapeLogText(engineMessage(line.code, line.params).text), where);
    const words = korean.msg({ code: line.code, params: line.params, text: line.text });
    assert.match(words, HANGUL, `${where}: no Korean words (${words})`);
    assert.doesNotMatch(words, /\{\{/, `${where}: a parameter is missing (${words})`);
  }
}
