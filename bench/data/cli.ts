// `node build/bench/data/cli.js chart|readme|compare`: what `npm run bench` does with the results
// after the benchmarks ran, also on its own (npm run bench:chart, bench:readme, bench:compare).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, CHART_FILE, ROOT, byBenchOrder, git, loadAll } from './load.js';
import { parseResults, type BenchResults } from './schema.js';
import { renderChart } from './chart.js';
import { renderSection, rewrite } from './readme.js';
import { compare, report } from './compare.js';

const USAGE = `usage: node build/bench/data/cli.js COMMAND [options]
  chart                 draws docs/bench/${CHART_FILE} from docs/bench/*.json
  readme                rewrites README.md's generated benchmark region from docs/bench/*.json
  compare [--base REV] [--threshold F]
                        compares the ratios (clatbar / the reference measured in the same run) in
                        docs/bench/*.json with those committed at REV (default HEAD), and names
                        every ratio that moved against clatbar by more than F (default 0.2 = 20%);
                        exits 1 if any did
  --dir DIR             results elsewhere than docs/bench (chart, compare)`;

export const DEFAULT_THRESHOLD = 0.2;

/** The results committed at a git revision (what the working copy is compared with). */
export function resultsAt(rev: string): BenchResults[] {
  const names = git(['ls-tree', '--name-only', rev, 'docs/bench/'])
    .split('\n')
    .filter((f) => f.endsWith('.json'));
  return names.map((f) => parseResults(git(['show', `${rev}:${f}`]), `${rev}:${f}`)).sort(byBenchOrder);
}

export async function writeChart(dir = BENCH_DIR): Promise<string> {
  const file = join(dir, CHART_FILE);
  writeFileSync(file, await renderChart(loadAll(dir)));
  return file;
}

export function writeReadme(): string {
  const file = join(ROOT, 'README.md');
  writeFileSync(file, rewrite(readFileSync(file, 'utf8'), renderSection(loadAll())));
  return file;
}

export function threshold(raw: string | undefined): number {
  const t = Number(raw ?? DEFAULT_THRESHOLD);
  if (!(t > 0 && t < 10)) throw new Error(`--threshold ${raw}: give a fraction such as 0.2 (20%)`);
  return t;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      base: { type: 'string', default: 'HEAD' },
      threshold: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const dir = values.dir ? resolve(values.dir) : BENCH_DIR;
  const [cmd] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (cmd === 'chart') console.log(`chart: ${await writeChart(dir)}`);
  else if (cmd === 'readme') console.log(`README region rewritten: ${writeReadme()}`);
  else if (cmd === 'compare') {
    const t = threshold(values.threshold);
    const c = compare(resultsAt(values.base), loadAll(dir), t);
    console.log(report(c, t));
    return c.changes.some((x) => x.verdict === 'regression') ? 1 : 0;
  } else {
    console.error(`unknown command ${cmd}\n${USAGE}`);
    return 2;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname)
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
