// The one shape of a benchmark's results file, docs/bench/NAME.json: what every benchmark under
// bench/ writes (write.ts), and what the chart (chart.ts), README's generated table (readme.ts),
// the regression check (compare.ts) and the test that README agrees with the data read. Absolute
// figures move by up to 2x between runs on a shared VM, so every figure carries the reference it
// was measured against in the same run (TAYGA, unbound, native IPv6, a veth pair) and the ratio;
// regressions are judged on those ratios.
import { z } from 'zod';

/** Bumped when a field changes meaning; readers refuse other versions instead of guessing. */
export const SCHEMA_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'a finite number');

/** A figure measured on one side (clatbar, or a reference): the summary and every round's sample. */
const Measured = z.object({
  /** Median of `rounds` (or the one sample); null when nothing was measured (a path left out). */
  value: finite.nullable(),
  /** One sample per alternating round, in order; a single-shot figure has one. */
  rounds: z.array(finite),
});

export const Reference = Measured.extend({
  /** Stable key: tayga, native, unbound, veth, allow. */
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** Shown in the README and the chart, e.g. "TAYGA as CLAT". */
  name: z.string().min(1),
  /**
   * clatbar / reference: the median of the per-round ratios where both were measured in the same
   * rounds (each round sees the same machine load), else the ratio of the two values. Null when
   * either side is missing.
   */
  ratio: finite.nullable(),
});
export type Reference = z.infer<typeof Reference>;

export const Goal = z
  .object({
    /** Met when clatbar's ratio to this reference is at least `ratio` (higher better) or at most. */
    ref: z.string().optional(),
    ratio: finite.optional(),
    /** Met when clatbar's value is at least (higher better) or at most (lower better) this. */
    value: finite.optional(),
    /** As README says it, e.g. ">= 3x TAYGA". */
    text: z.string().min(1),
  })
  .refine((g) => (g.ratio === undefined) === (g.ref === undefined), 'a ratio goal names its reference')
  .refine((g) => g.ratio !== undefined || g.value !== undefined, 'a goal has a ratio or a value');
export type Goal = z.infer<typeof Goal>;

export const Figure = Measured.extend({
  /** Stable key within its benchmark: the regression check pairs figures by it. */
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** What was measured, e.g. "iperf3 TCP, laptop -> host". */
  label: z.string().min(1),
  unit: z.string().min(1),
  better: z.enum(['higher', 'lower']),
  refs: z.array(Reference),
  /** What clatbar should reach; README says met / not met for each. */
  goals: z.array(Goal),
  /** Why the figure is what it is, when the number alone would mislead. */
  note: z.string().optional(),
});
export type Figure = z.infer<typeof Figure>;

const LoadAvg = z.tuple([finite, finite, finite]);

export const Machine = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  memGiB: finite,
  kernel: z.string(),
  os: z.string(),
  node: z.string(),
});
export type Machine = z.infer<typeof Machine>;

export const BenchResults = z.object({
  schema: z.literal(SCHEMA_VERSION),
  /** The benchmark's name: bench/NAME.ts wrote docs/bench/NAME.json. */
  bench: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  /** The command that reproduces this file. */
  command: z.string().min(1),
  /** The settings that change what is measured (seconds, rounds, tests...). */
  settings: z.record(z.string(), z.union([z.string(), finite, z.boolean()])),
  machine: Machine,
  commit: z.object({ sha: z.string().regex(/^([0-9a-f]{40}|unknown)$/), dirty: z.boolean() }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /**
   * How busy the machine was: 1/5/15-minute load averages when the benchmark started and ended,
   * and whether other work shared it (CLATBAR_BENCH_SHARED=1, or a load average above half the
   * cores at either end).
   */
  load: z.object({ start: LoadAvg, end: LoadAvg, shared: z.boolean(), note: z.string().optional() }),
  figures: z.array(Figure).min(1),
});
export type BenchResults = z.infer<typeof BenchResults>;

/** Parses one results file's text; the error names the file and the field. */
export function parseResults(text: string, file: string): BenchResults {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message}); rerun the benchmark that writes it`);
  }
  const r = BenchResults.safeParse(raw);
  if (!r.success)
    throw new Error(
      `${file}: not a benchmark results file of schema ${SCHEMA_VERSION}: ${z.prettifyError(r.error)}\n` +
        `rerun the benchmark that writes it (npm run bench -- NAME)`,
    );
  return r.data;
}
