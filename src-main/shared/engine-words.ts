// The engine's English words for its message codes, taken from the catalog (locales/en.ts,
// engine.CODE), so a message the engine sends carries its code, its parameters and the English
// from one home. Plain {{name}} templates only, filled here without i18next: the engine and the CLI
// load this on every start, and i18next is the app's (shared/i18n.ts translates the same codes).
import { en } from './locales/en.js';
import type { Message } from './status.js';

type Params = NonNullable<Message['params']>;

/** An engine code as a catalog key: i18next reads dots as nesting, so they are written as '_'. */
export function catalogKey(code: string): string {
  return code.replaceAll('.', '_');
}

/** The message for `code` with the catalog's English filled in; the code itself when it has none. */
export function engineMessage(code: string, params?: Params): Message {
  const template = en.engine[catalogKey(code)];
  const text =
    template === undefined
      ? code
      : template.replace(/\{\{(\w+)\}\}/g, (all, name: string) =>
          params && Object.hasOwn(params, name) ? String(params[name]) : all,
        );
  return params ? { code, params, text } : { code, text };
}
