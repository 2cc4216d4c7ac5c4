// Regressions, judged as the issue asks: on each figure's ratio to its reference measured in the
// same run, against the previous results, never on absolute figures (those move by up to 2x
// between runs of this VM while the ratios stay put). A figure without a reference is listed
// but not judged.
import { ratio as showRatio } from './format.js';
import type { BenchResults } from './schema.js';

export interface Change {
  bench: string;
  figure: string;
  label: string;
  ref: string;
  better: 'higher' | 'lower';
  before: number;
  after: number;
  /** after / before - 1, signed so that a positive number is better for clatbar. */
  gain: number;
  verdict: 'regression' | 'improvement' | 'steady';
}

export interface Comparison {
  changes: Change[];
  /** bench/figure pairs present in only one of the two sets, or without a reference. */
  unjudged: string[];
}

export function compare(before: BenchResults[], after: BenchResults[], threshold: number): Comparison {
  const changes: Change[] = [];
  const unjudged: string[] = [];
  for (const a of after) {
    const b = before.find((x) => x.bench === a.bench);
    for (const fa of a.figures) {
      const fb = b?.figures.find((x) => x.id === fa.id);
      const key = `${a.bench}/${fa.id}`;
      if (!fb) {
        unjudged.push(`${key}: new (no previous result)`);
        continue;
      }
      const judged = fa.refs.filter((ra) => {
        const rb = fb.refs.find((x) => x.id === ra.id);
        return ra.ratio !== null && rb?.ratio !== null && rb?.ratio !== undefined;
      });
      if (judged.length === 0) {
        unjudged.push(`${key}: no reference measured in both runs (absolute figures are not judged)`);
        continue;
      }
      for (const ra of judged) {
        const before = fb.refs.find((x) => x.id === ra.id)!.ratio!;
        const after = ra.ratio!;
        const change = after / before - 1;
        const gain = fa.better === 'higher' ? change : -change;
        changes.push({
          bench: a.bench,
          figure: fa.id,
          label: fa.label,
          ref: ra.id,
          better: fa.better,
          before,
          after,
          gain,
          verdict: gain < -threshold ? 'regression' : gain > threshold ? 'improvement' : 'steady',
        });
      }
    }
  }
  for (const b of before)
    for (const fb of b.figures)
      if (!after.some((a) => a.bench === b.bench && a.figures.some((f) => f.id === fb.id)))
        unjudged.push(`${b.bench}/${fb.id}: not in the new results`);
  return { changes, unjudged };
}

export function report(c: Comparison, threshold: number): string {
  const lines = [
    `ratios to the same-run reference, previous -> now (threshold ${Math.round(threshold * 100)}%):`,
  ];
  for (const x of c.changes) {
    const sign = x.gain >= 0 ? '+' : '';
    const mark = x.verdict === 'steady' ? '  ' : x.verdict === 'regression' ? '!!' : '++';
    lines.push(
      `${mark} ${x.bench}/${x.figure} vs ${x.ref}: ${showRatio({ id: x.ref, ratio: x.before }, x.better)} -> ${showRatio({ id: x.ref, ratio: x.after }, x.better)} (${sign}${(x.gain * 100).toFixed(0)}% for clatbar)${x.verdict === 'steady' ? '' : `: ${x.verdict}`}`,
    );
  }
  for (const u of c.unjudged) lines.push(`   ${u}`);
  const bad = c.changes.filter((x) => x.verdict === 'regression').length;
  lines.push(
    bad
      ? `${bad} ratio(s) moved against clatbar by more than ${Math.round(threshold * 100)}%`
      : `no ratio moved against clatbar by more than ${Math.round(threshold * 100)}%`,
  );
  return lines.join('\n');
}
