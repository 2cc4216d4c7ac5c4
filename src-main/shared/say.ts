// What the engine may write into its log: a coded message, made only by say() from a code the
// catalog has (locales/en.ts, section engine) and exactly the parameters its template names. The
// English text comes from the catalog, so the app can show the same line in Korean (LogView.svelte
// translates by code). The brand exists only in the type: a string or a hand-made {code, text} is
// not a Said, so every log function of the engine (Say) refuses a plain line at compile time. The
// OS's and libraries' words (err.message) go in as a parameter. Here, in shared/, because every
// part of the engine that logs may import shared/ (eslint/layout.js); dns/ reports its problems
// as data and its caller words them.
import { engineMessage, type EngineCode, type EngineParamsArg } from './engine-words.js';
import type { Message } from './status.js';

declare const SAID: unique symbol;
/** A message from the catalog, with its code, its parameters and its English text. */
export type Said = Message & { readonly [SAID]: true };
/** A log function of the engine: it takes coded messages only. */
export type Say = (m: Said) => void;

/** The coded message for a log line: say('clat.up'), say('dns64.listening', { address }). */
export function say<C extends EngineCode>(code: C, ...params: EngineParamsArg<C>): Said {
  return engineMessage(code, params[0] as Message['params']) as Said;
}

/** A log function that drops everything (a caller that does not want the lines). */
export const sayNothing: Say = () => {};
