// The renderer's translator: the same catalogs and i18next setup as the tray (shared/i18n.ts),
// in the language the app chose from the system locale (AppState.language).
import { createTranslator, type Language, type Translator } from '../../src-main/shared/i18n.js';
import type { Message } from '../../src-main/shared/status.js';

let current = $state<Translator>(createTranslator('en'));

export const i18n = {
  get language(): Language {
    return current.language;
  },
  use(language: Language): void {
    if (current.language === language) return;
    current = createTranslator(language);
    document.documentElement.lang = language;
  },
  t(key: string, params?: Record<string, unknown>): string {
    return current.t(key, params);
  },
  words(group: Parameters<Translator['words']>[0], code: string): string {
    return current.words(group, code);
  },
  msg(message: Message | string): string {
    return typeof message === 'string' ? message : current.msg(message);
  },
};
