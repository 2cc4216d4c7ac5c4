// How a figure's numbers read in README's table, the chart and the regression report: three
// significant digits, thousands as k and millions as M, ratios to a ceiling (native IPv6, a veth
// pair) as a share in percent where more is better, ratios to another implementation as a multiple.
import type { Reference } from './schema.js';

/** Refs that are a ceiling clatbar runs under, not a competitor: their ratio reads as a share. */
export const CEILINGS = new Set(['native', 'veth']);

export function num(v: number | null): string {
  if (v === null) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e4) return String(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

export function withUnit(v: number | null, unit: string): string {
  return v === null ? '–' : `${num(v)} ${unit}`;
}

/** clatbar / reference: a share of a ceiling where more is better, else a multiple. */
export function ratio(ref: Pick<Reference, 'id' | 'ratio'>, better: 'higher' | 'lower'): string {
  if (ref.ratio === null) return '–';
  if (CEILINGS.has(ref.id) && better === 'higher') return `${Math.round(ref.ratio * 100)}%`;
  return `${ref.ratio >= 10 ? ref.ratio.toFixed(1) : ref.ratio.toFixed(2)}x`;
}
