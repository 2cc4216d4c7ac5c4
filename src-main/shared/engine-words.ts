// The engine's English words for its message codes, taken from the catalog (locales/en.ts,
// engine.CODE), so a message the engine sends carries its code, its parameters and the English
// from one home. Plain {{name}} templates only, filled here without i18next: the engine and the CLI
// load this on every start, and i18next is the app's (shared/i18n.ts translates the same codes).
import { en } from './locales/en.js';
import type { Message } from './status.js';

type Params = NonNullable<Message['params']>;
type EngineWords = typeof en.engine;

/** A catalog key read back as a code: '_' is how a code's '.' is written there (catalogKey). */
type CodeOf<K extends string> = K extends `${infer A}_${infer B}` ? `${A}.${CodeOf<B>}` : K;
type KeyOf<C extends string> = C extends `${infer A}.${infer B}` ? `${A}_${KeyOf<B>}` : C;
/** The names in a template's {{name}} and {{name, format}} placeholders. */
type Placeholders<S extends string> = S extends `${string}{{${infer P}}}${infer Rest}`
  ? (P extends `${infer Name}, ${string}` ? Name : P) | Placeholders<Rest>
  : never;

/** Every code the catalog has words for ("clat.up", "selftest.ipv4-icmp.title"). */
export type EngineCode = CodeOf<keyof EngineWords & string>;
/** The parameters a code's template names, each one required. */
export type EngineParams<C extends EngineCode> = {
  readonly [N in Placeholders<EngineWords[KeyOf<C> & keyof EngineWords]>]: Params[string];
};
/** The parameter argument of a code: none for a template without placeholders. */
export type EngineParamsArg<C extends EngineCode> = [
  Placeholders<EngineWords[KeyOf<C> & keyof EngineWords]>,
] extends [never]
  ? []
  : [params: EngineParams<C>];

/**
 * The catalog groups a parameter can name as its format ("{{source, prefixSource}}"): the value
 * is a code whose words are in that group. One list for the engine's English (here) and the app's
 * languages (i18n.ts).
 */
export const WORD_FORMATS = ['prefixSource', 'policySource', 'state'] as const;

/** An engine code as a catalog key: i18next reads dots as nesting, so they are written as '_'. */
export function catalogKey(code: string): string {
  return code.replaceAll('.', '_');
}

/**
 * A message inside another one's parameters ("state: {{reason, message}}"): its code under `name`,
 * each of its parameters as `name.param`. Parameters are flat (strings, numbers, booleans) on the
 * wire, so this is how a log line names the status reason it reports and the app still shows that
 * reason in its own language (shared/i18n.ts reads them back the same way).
 */
export function nestedParams<N extends string>(name: N, m: Message): { [K in N]: string } & Params {
  const out: Params = { [name]: m.code };
  for (const [k, v] of Object.entries(m.params ?? {})) out[`${name}.${k}`] = v;
  return out as { [K in N]: string } & Params;
}

/** The parameters nestedParams put under `name`, as the nested message's own. */
export function unnestParams(name: string, params: Readonly<Record<string, unknown>>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params))
    if (
      k.startsWith(`${name}.`) &&
      (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    )
      out[k.slice(name.length + 1)] = v;
  return out;
}

/**
 * A parameter as English words: "{{source, prefixSource}}" names a source code whose words are in
 * that catalog group, "{{reason, message}}" a nested message (nestedParams), as shared/i18n.ts
 * does for the other languages.
 */
function formatted(value: string, format: string | undefined, name: string, params: Params): string {
  if (format === 'message') return engineMessage(value, unnestParams(name, params)).text;
  const group = WORD_FORMATS.find((g) => g === format);
  if (!group) return value;
  return (en[group] as Readonly<Record<string, string>>)[catalogKey(value)] ?? value;
}

/** The message for `code` with the catalog's English filled in; the code itself when it has none. */
export function engineMessage(code: string, params?: Params): Message {
  const template = (en.engine as Readonly<Record<string, string>>)[catalogKey(code)];
  const text =
    template === undefined
      ? code
      : template.replace(/\{\{(\w+)(?:, (\w+))?\}\}/g, (all, name: string, format?: string) =>
          params && Object.hasOwn(params, name) ? formatted(String(params[name]), format, name, params) : all,
        );
  return params ? { code, params, text } : { code, text };
}
