// The one translation function for the tray, the notifications and both windows: i18next over
// the catalogs in ./locales/ (English, Korean), the language picked from the system's locales.
// The engine's messages carry {code, params, text}: msg() translates the code when the catalog
// has it and shows the engine's English text otherwise, so a newer engine never shows a key.
import i18next, { type TFunction } from 'i18next';
import { en } from './locales/en.js';
import { ko } from './locales/ko.js';
import type { Message } from './status.js';
import { WORD_FORMATS, catalogKey, engineMessage, unnestParams } from './engine-words.js';

export { catalogKey, engineMessage } from './engine-words.js';

export const LANGUAGES = ['en', 'ko'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The first of the system's preferred locales ("ko-KR", "en_US.UTF-8", ...) that we have, else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const locale of preferred) {
    const lang = locale.toLowerCase().split(/[-_.@]/)[0];
    if ((LANGUAGES as readonly string[]).includes(lang)) return lang as Language;
  }
  return 'en';
}

export interface Translator {
  readonly language: Language;
  /** A catalog key ("tray.quit") with its parameters. */
  t(key: string, params?: Record<string, unknown>): string;
  /** A message from the engine or the app: the catalog's words for its code, else its own text. */
  msg(message: Message): string;
  /**
   * The words for one of the engine's codes in a catalog group: a drop reason ("drops",
   * "ttl-expired"), a prefix or policy source, a classification; the code itself when unknown.
   */
  words(
    group: 'drops' | 'prefixSource' | 'policySource' | 'classification' | 'override',
    code: string,
  ): string;
}

export function createTranslator(language: Language): Translator {
  const instance = i18next.createInstance();
  void instance.init({
    lng: language,
    fallbackLng: 'en',
    resources: { en: { translation: en }, ko: { translation: ko } },
    // Strings go into text nodes and native menus, never into HTML: no escaping.
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  const t: TFunction = instance.t.bind(instance);
  /** The catalog's words for an engine code under group ("drops", "prefixSource", ...), else the code. */
  const words = (group: string, code: string): string => {
    const key = `${group}.${catalogKey(code)}`;
    return instance.exists(key) ? (t(key) as string) : code;
  };
  // "{{source, prefixSource}}" in a message: the words for a prefix source (policy source, state)
  // code the engine sent as a parameter, in this language. The Korean state line uses
  // "{{state, state}}"; its English keeps the code.
  for (const group of WORD_FORMATS)
    instance.services.formatter?.add(group, (value: unknown) => words(group, String(value)));
  // "{{reason, message}}": a message inside a log line (its code as the value, its parameters as
  // reason.NAME; engine-words.ts nestedParams), in this language too.
  instance.services.formatter?.add('message', (value: unknown, _lng, options: Record<string, unknown>) => {
    const name = String(options.interpolationkey ?? '');
    const nested = engineMessage(String(value), unnestParams(name, options));
    return translate(nested);
  });
  const translate = (message: Message): string => {
    // The app's own messages use their catalog key as code ("app.noEngine"); the engine's codes
    // live under engine, with their dots as '_' (i18next reads dots as nesting).
    const key = /^(app|access)\./.test(message.code) ? message.code : `engine.${catalogKey(message.code)}`;
    const params = message.params ?? {};
    return instance.exists(key) ? (t(key, params) as string) : message.text;
  };
  return {
    language,
    t: (key, params) => t(key, params ?? {}) as string,
    words,
    msg: translate,
  };
}

const english = createTranslator('en');

/** A message the app makes itself: its catalog key as code, and the English words as text. */
export function appMessage(key: string, params?: Record<string, string | number | boolean>): Message {
  return params ? { code: key, params, text: english.t(key, params) } : { code: key, text: english.t(key) };
}
