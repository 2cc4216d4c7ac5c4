// Where the results files live and how they are read: every docs/bench/NAME.json through the
// schema, in the order `npm run bench` runs the benchmarks.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults, type BenchResults, type Figure, type Goal } from './schema.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const BENCH_DIR = join(ROOT, 'docs/bench');
export const CHART_FILE = 'chart.svg';
/** git in the repository, with a timeout; throws when git fails (no repository, unknown revision). */
export function git(args: string[]): string {
  return execFileSync('git', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10000,
  });
}

/** The order `npm run bench` runs them in, and README lists them in. */
export const BENCH_ORDER = ['translate', 'tun-echo', 'clat', 'udp-cost', 'dns64', 'netaware', 'app-click'];

export function byBenchOrder(a: BenchResults, b: BenchResults): number {
  const i = (r: BenchResults) => BENCH_ORDER.indexOf(r.bench) + 1 || 99;
  return i(a) - i(b) || a.bench.localeCompare(b.bench);
}

/** Every results file in `dir`, validated; a file that does not parse is an error naming it. */
export function loadAll(dir = BENCH_DIR): BenchResults[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseResults(readFileSync(join(dir, f), 'utf8'), join(dir, f)))
    .sort(byBenchOrder);
}

/** Whether clatbar meets a goal: null when a side it needs was not measured. */
export function goalMet(fig: Figure, goal: Goal): boolean | null {
  const higher = fig.better === 'higher';
  if (goal.ref !== undefined && goal.ratio !== undefined) {
    const r = fig.refs.find((x) => x.id === goal.ref)?.ratio;
    if (r === undefined || r === null) return null;
    return higher ? r >= goal.ratio : r <= goal.ratio;
  }
  if (goal.value === undefined || fig.value === null) return null;
  return higher ? fig.value >= goal.value : fig.value <= goal.value;
}
