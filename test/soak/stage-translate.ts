// Stage 1, translator fuzzing: batches of structure-aware packets (packets.ts), valid and
// mutated, through a fresh Translator per batch; every call must return without an exception
// and everything it emits must pass the independent checker (checker.ts). Each batch has its
// own seed, so a failure reproduces with `npm run soak -- --stage translate --seed N`.
import { HEADROOM, Translator, type TranslatorConfigInput } from '../../src-main/engine/siit/index.js';
import { Checker } from './checker.js';
import { FUZZ_CONFIGS, mutate, validPacket } from './packets.js';
import { Prng, batchSeed } from './inet.js';
import type { StageResult } from './report.js';

export const BATCH = 1000;
const MAX = 16384;

export interface Failure {
  seed: number;
  packet: number;
  problem: string;
  input: string;
}

/** Runs one batch; returns its failures (at most a few) and counts. */
/** Check failures by kind (numbers elided), for the stage's closing lines. */
export const kinds = new Map<string, number>();

export function runBatch(seed: number, counts: Record<string, number>): Failure[] {
  const r = new Prng(seed);
  const cfg = FUZZ_CONFIGS[seed % FUZZ_CONFIGS.length];
  const checker = new Checker(cfg);
  const emitted: { buf: Uint8Array; off: number; len: number }[] = [];
  const copies: Uint8Array[] = [];
  const tr = new Translator(structuredClone(cfg) as unknown as TranslatorConfigInput, (buf, off, len) => {
    emitted.push({ buf, off, len });
    copies.push(buf.slice(off, off + len));
  });
  const io = new Uint8Array(HEADROOM + MAX + 64);
  const failures: Failure[] = [];
  for (let i = 0; i < BATCH; i++) {
    // Poison the whole I/O area first: a byte the translator emits without writing it shows.
    const poison = r.int(256);
    io.fill(poison);
    let len = validPacket(r, io, HEADROOM, cfg);
    const mutated = r.chance(0.5);
    if (mutated) len = mutate(r, io, HEADROOM, len, MAX);
    const input = io.slice(HEADROOM, HEADROOM + len);
    emitted.length = 0;
    copies.length = 0;
    let verdict: number;
    try {
      verdict = tr.translate(io, HEADROOM, len);
    } catch (err) {
      failures.push({
        seed,
        packet: i,
        problem: `exception: ${(err as Error).stack}`,
        input: Buffer.from(input).toString('hex'),
      });
      counts.exceptions++;
      continue;
    }
    counts.packets++;
    counts[['translated', 'dropped', 'icmpErrors'][verdict]]++;
    counts.emitted += copies.length;
    if (mutated) counts.mutated++;
    const problem = checker.check({ input, outputs: copies, verdict, mutated });
    if (problem) {
      counts.checkFailures++;
      const kind = problem.replace(/\d+/g, 'N').slice(0, 80);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (failures.length < 3)
        failures.push({ seed, packet: i, problem, input: Buffer.from(input).toString('hex') });
    }
    // Poison what was emitted (the translator's scratch areas included) for the next packet.
    for (const e of emitted) e.buf.fill(poison ^ 0x5a, e.off, e.off + e.len);
  }
  return failures;
}

/** Runs the stage; past `deadline` (epoch ms) it stops early and says how far it got. */
export async function translateStage(opts: {
  packets: number;
  seed: number;
  single: boolean;
  say: (s: string) => void;
  deadline?: number;
}): Promise<StageResult> {
  const counts: Record<string, number> = {
    packets: 0,
    mutated: 0,
    translated: 0,
    dropped: 0,
    icmpErrors: 0,
    emitted: 0,
    exceptions: 0,
    checkFailures: 0,
  };
  const t0 = Date.now();
  const failures: Failure[] = [];
  const batches = opts.single ? 1 : Math.ceil(opts.packets / BATCH);
  let stoppedEarly = false;
  let lastSay = Date.now();
  for (let k = 0; k < batches; k++) {
    if (Date.now() > (opts.deadline ?? Infinity)) {
      stoppedEarly = true;
      break;
    }
    // Let the worker's messages out between batches.
    if (k % 50 === 49) await new Promise((r) => setImmediate(r));
    const seed = opts.single ? opts.seed : batchSeed(opts.seed, k);
    const f = runBatch(seed, counts);
    for (const x of f) if (failures.length < 10) failures.push(x);
    // Every 500 batches, and at least every 20 s (a loaded machine): the run's watchdog takes
    // a minute of silence for a hang.
    if (k % 500 === 499 || Date.now() - lastSay > 20_000) {
      lastSay = Date.now();
      opts.say(
        `  ${counts.packets} packets, ${counts.checkFailures} check failures, ${counts.exceptions} exceptions`,
      );
    }
  }
  const ms = Date.now() - t0;
  const ok = counts.exceptions === 0 && counts.checkFailures === 0 && !stoppedEarly;
  if (stoppedEarly)
    opts.say(`  stopped at the run's deadline after ${counts.packets} of ${opts.packets} packets`);
  for (const f of failures)
    opts.say(
      `  FAIL batch seed ${f.seed} packet ${f.packet}: ${f.problem}\n    input ${f.input.slice(0, 240)}${f.input.length > 240 ? '...' : ''}\n    reproduce: npm run soak -- --stage translate --seed ${f.seed}`,
    );
  for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1])) opts.say(`  ${n} x ${k}`);
  return {
    stage: 'translate',
    ok,
    summary: `${stoppedEarly ? `STOPPED EARLY at ${counts.packets}/${opts.packets}: ` : ''}${counts.packets} packets (${counts.mutated} mutated): ${counts.translated} translated, ${counts.dropped} dropped, ${counts.icmpErrors} ICMP errors generated; ${counts.emitted} emitted packets checked; ${counts.exceptions} exceptions, ${counts.checkFailures} check failures (${Math.round(counts.packets / (ms / 1000))} packets/s)`,
    ms,
    data: {
      ...counts,
      target: opts.packets,
      stoppedEarly,
      seed: opts.seed,
      single: opts.single,
      failures: failures.map((f) => ({
        ...f,
        reproduce: `npm run soak -- --stage translate --seed ${f.seed}`,
      })),
    },
  };
}
