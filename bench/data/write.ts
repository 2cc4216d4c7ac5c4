// What every benchmark calls to save its results as docs/bench/NAME.json (schema.ts): startRun()
// when it starts (time, load average), figure() for each figure with its same-run references, and
// save() at the end, which adds the machine and the commit, validates against the schema and writes
// atomically. Only `npm run bench` (which sets CLATBAR_BENCH_OUT) or an explicit CLATBAR_BENCH_OUT
// saves: a quick `node build/bench/clat.js --tests tcp` while working on something else must not
// overwrite the committed data that README's table is generated from.
import { readFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { BenchResults, SCHEMA_VERSION, type Figure, type Goal, type Machine } from './schema.js';
import { median } from './stats.js';
import { ROOT, git } from './load.js';

export interface Run {
  bench: string;
  startedAt: string;
  loadStart: [number, number, number];
  /** The code measured: taken at the start, before anything could be committed during the run. */
  commit: { sha: string; dirty: boolean };
}

const load3 = (): [number, number, number] => {
  const [a, b, c] = loadavg();
  return [a, b, c];
};

export function startRun(bench: string): Run {
  return { bench, startedAt: new Date().toISOString(), loadStart: load3(), commit: commit() };
}

export interface Side {
  /** The samples, one per alternating round (or per try); empty when the path was not measured. */
  rounds: number[];
  /** The summary when it is not the median of `rounds` (a pooled percentile). */
  value?: number;
}

export interface FigureSpec extends Side {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  refs?: (Side & { id: string; name: string })[];
  goals?: Goal[];
  note?: string;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * A figure with its references. The ratio is the median of the per-round ratios when both sides
 * have one sample per round of the same rounds and no summary of their own: each round's pair saw
 * the same machine load, which a ratio of two medians taken from different rounds does not.
 */
export function figure(spec: FigureSpec): Figure {
  const rounds = spec.rounds.filter(Number.isFinite);
  const value = orNull(spec.value ?? median(rounds));
  return {
    id: spec.id,
    label: spec.label,
    unit: spec.unit,
    better: spec.better,
    value,
    rounds,
    refs: (spec.refs ?? []).map((r) => {
      const refRounds = r.rounds.filter(Number.isFinite);
      const refValue = orNull(r.value ?? median(refRounds));
      const paired =
        spec.value === undefined &&
        r.value === undefined &&
        rounds.length > 0 &&
        rounds.length === spec.rounds.length &&
        refRounds.length === r.rounds.length &&
        rounds.length === refRounds.length;
      const ratio = paired
        ? median(rounds.map((v, i) => v / refRounds[i]))
        : value !== null && refValue
          ? value / refValue
          : NaN;
      return { id: r.id, name: r.name, value: refValue, rounds: refRounds, ratio: orNull(ratio) };
    }),
    goals: spec.goals ?? [],
    ...(spec.note ? { note: spec.note } : {}),
  };
}

function machine(): Machine {
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // Not every system has os-release; the kernel line still says what it is.
  }
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os,
    node: process.version,
  };
}

function commit(): { sha: string; dirty: boolean } {
  try {
    const sha = git(['rev-parse', 'HEAD']).trim();
    // The results files themselves change while `npm run bench` runs; they do not make the code dirty.
    const dirty =
      git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs/bench']).trim() !== '';
    return { sha, dirty };
  } catch {
    return { sha: 'unknown', dirty: false };
  }
}

/** Where results go, or null when this run should only print (see the top of this file). */
export function outDir(): string | null {
  const dir = process.env.CLATBAR_BENCH_OUT;
  return dir ? resolve(ROOT, dir) : null;
}

/** Validates and writes docs/bench/NAME.json (or $CLATBAR_BENCH_OUT/NAME.json); returns the path. */
export async function save(
  run: Run,
  what: {
    title: string;
    command: string;
    settings: Record<string, string | number | boolean>;
    figures: Figure[];
  },
): Promise<string | null> {
  const loadEnd = load3();
  const cores = cpus().length;
  const shared =
    process.env.CLATBAR_BENCH_SHARED === '1' || Math.max(run.loadStart[0], loadEnd[0]) > cores / 2;
  const doc = BenchResults.parse({
    schema: SCHEMA_VERSION,
    bench: run.bench,
    title: what.title,
    command: what.command,
    settings: what.settings,
    machine: machine(),
    commit: run.commit,
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    load: {
      start: run.loadStart,
      end: loadEnd,
      shared,
      ...(process.env.CLATBAR_BENCH_NOTE ? { note: process.env.CLATBAR_BENCH_NOTE } : {}),
    },
    figures: what.figures,
  });
  const dir = outDir();
  if (!dir) {
    console.log(
      '(results not saved: `npm run bench` saves them under docs/bench/, or set CLATBAR_BENCH_OUT=DIR)',
    );
    return null;
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.bench}.json`);
  await writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`results: ${file}`);
  return file;
}
