// Shared helpers of the SIIT unit tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HEADROOM, Translator, VERDICT_NAMES } from '../../../src-main/engine/siit/translator.js';
import type { TranslatorConfigInput } from '../../../src-main/engine/siit/config.js';

export const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export interface RunResult {
  verdict: string;
  reason: string;
  out: Uint8Array[];
}

/** Runs one packet through a translator (copied behind HEADROOM bytes) and collects what it emits. */
export function run(t: Translator, pkt: Uint8Array, flags = 0): RunResult {
  const out: Uint8Array[] = [];
  t.emit = (b, o, l) => out.push(b.slice(o, o + l));
  const buf = new Uint8Array(HEADROOM + pkt.length + 16);
  buf.set(pkt, HEADROOM);
  const v = t.translate(buf, HEADROOM, pkt.length, flags);
  return { verdict: VERDICT_NAMES[v], reason: t.reasonName, out };
}

export function translator(config: TranslatorConfigInput): Translator {
  return new Translator(config);
}

export interface Vector {
  name: string;
  section: string;
  direction: string;
  config: TranslatorConfigInput;
  input: string;
  expected: string[];
  verdict: string;
  reason: string;
  ignore: number[];
}

export function loadVectors(): Vector[] {
  const file = `${repoRoot}test/fixtures/siit/vectors.json`;
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: Vector[] }).cases;
}

/** Byte offsets where a and b differ, minus the ignored ones; null when the lengths differ. */
export function diff(a: Uint8Array, b: Uint8Array, ignore: number[] = []): number[] | null {
  if (a.length !== b.length) return null;
  const skip = new Set(ignore);
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !skip.has(i)) bad.push(i);
  return bad;
}
