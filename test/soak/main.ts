// `npm run soak`: the engine under repeated faults (issue 16). See usage() or `--help`.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { translateStage } from './stage-translate.js';
import { kill9Stage } from './stage-kill9.js';
import { flapStage } from './stage-flaps.js';
import { controlStage } from './stage-control.js';
import { Traffic } from './traffic.js';
import { checkCounters } from './counters.js';
import { SoakLab, sleep } from './lab.js';
import { table, writeJson, type StageResult } from './report.js';

const STAGES = ['translate', 'dns', 'kill9', 'flaps', 'control', 'traffic'] as const;
type Stage = (typeof STAGES)[number];

export function usage(): string {
  return `npm run soak -- [--quick | --minutes N] [--stage NAME]... [--seed N] [--out FILE]

Soaks the clatbar engine: fuzzes the translator and the DNS64 stub, kills the daemon with -9
during traffic, flaps the network under it, abuses its control socket, and keeps TCP and UDP
transfers running with sha256 checks the whole time. Each stage prints what it did and a
verdict (PASS/FAIL); the run ends with one table, writes JSON, and exits 1 if a stage failed.
Needs root: the lab stages build their own network namespaces (the lab of \`clatbar lab\`,
pid-tagged names) and remove them at the end, also on failure or Ctrl-C.

Presets (one of):
  --quick        at most 3 minutes, scaled-down counts; what \`npm test\` runs
                 (test/soak/quick.test.ts)
  --minutes N    the full run: the issue's counts (10 million packets, 1 million DNS
                 messages, 20 kill -9 cycles, 100 flaps of each kind, 10,000 malformed
                 frames / 1,000 stalled clients / 200 subscribers); the traffic stage keeps
                 going until N minutes have passed (N >= 1; the acceptance run used 30)

Stages (default: all, in this order):
  translate  structure-aware packets, valid then mutated, through the translator; every
             emitted packet checked by test/soak/checker.ts (which imports nothing from
             engine/siit/); zero exceptions and zero check failures
  dns        hostile queries over UDP and TCP to the DNS64 stub, which forwards to a hostile
             upstream; zero crashes, every query answered or dropped within 5 s
  kill9      kill -9 of the daemon during iperf3 traffic, then a new daemon: IPv4 works while
             it runs; once it is stopped the laptop namespace equals the first snapshot
  flaps      uplink down/up, prefix changes, router switches: no growth in fds, routes,
             addresses, journal entries, timers; RSS within 10% of where it settled
  control    malformed frames, stalled clients, many subscribers on the control socket;
             a well-behaved client's status p99 < 50 ms throughout
  traffic    TCP downloads and UDP echoes with sha256 checks during all the lab stages;
             zero corrupted bytes; the engine's counters add up

Options:
  --stage NAME  run only this stage (repeatable); traffic always runs beside lab stages
  --seed N      run seed (default: from the clock, printed). With --stage translate, N is a
                batch seed as a failure prints it: exactly that batch is run again
  --flaps N     flaps of each kind instead of the preset's (a shorter full run)
  --dns-messages N
                DNS messages instead of the preset's
  --out FILE    where the JSON goes (default: soak-result.json in the current directory)
  --help        this text

Examples:
  npm run soak -- --quick
  npm run soak -- --minutes 30 --out docs/soak/full-run.json
  npm run soak -- --stage translate --seed 123456789`;
}

export interface Options {
  quick: boolean;
  minutes: number;
  stages: Stage[];
  seed: number;
  seedGiven: boolean;
  out: string;
  flaps?: number;
  dnsMessages?: number;
}

export function parseArgs(argv: string[]): Options | string {
  const o: Options = {
    quick: false,
    minutes: 0,
    stages: [],
    seed: Date.now() % 1_000_000_007,
    seedGiven: false,
    out: 'soak-result.json',
  };
  let preset = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | null => (i + 1 < argv.length ? argv[++i] : null);
    if (a === '--quick') {
      o.quick = true;
      preset = true;
    } else if (a === '--minutes') {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 1) return '--minutes needs a number of minutes >= 1, e.g. --minutes 30';
      o.minutes = v;
      preset = true;
    } else if (a === '--stage') {
      const v = value() as Stage;
      if (!STAGES.includes(v)) return `--stage must be one of ${STAGES.join(', ')}`;
      o.stages.push(v);
    } else if (a === '--seed') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) return '--seed needs an integer 0..4294967295';
      o.seed = v;
      o.seedGiven = true;
    } else if (a === '--flaps' || a === '--dns-messages') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) return `${a} needs a whole number >= 1`;
      if (a === '--flaps') o.flaps = v;
      else o.dnsMessages = v;
    } else if (a === '--out') {
      const v = value();
      if (!v) return '--out needs a file name';
      o.out = v;
    } else return `unknown argument ${a}; see npm run soak -- --help`;
  }
  if (o.quick && o.minutes) return '--quick and --minutes N are two presets: give one';
  if (!preset && !(o.seedGiven && o.stages.length === 1 && o.stages[0] === 'translate'))
    return 'give a preset: --quick (at most 3 minutes) or --minutes N (the full run); see --help';
  if (o.stages.length === 0) o.stages = [...STAGES];
  return o;
}

/** The counts of each preset. */
export function counts(o: Options) {
  const preset = o.quick
    ? {
        packets: 200_000,
        dnsMessages: 5_000,
        kills: 2,
        flaps: 2,
        malformed: 300,
        stalled: 30,
        subscribers: 20,
      }
    : {
        packets: 10_000_000,
        dnsMessages: 1_000_000,
        kills: 20,
        flaps: 100,
        malformed: 10_000,
        stalled: 1_000,
        subscribers: 200,
      };
  return { ...preset, flaps: o.flaps ?? preset.flaps, dnsMessages: o.dnsMessages ?? preset.dnsMessages };
}

/** Runs a fuzz stage in a worker thread; its lines are printed as they come. */
function inWorker(
  stage: 'translate' | 'dns',
  opts: Record<string, unknown>,
  say: (s: string) => void,
): Promise<StageResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { stage, opts } });
    let result: StageResult | null = null;
    let lastLine = '';
    // A stage that stops making progress (no line for 60 s, or a minute past the deadline) is
    // ended and reported with the last thing it said: a hang is a finding, not a stuck run.
    let heard = Date.now();
    const deadline = Number(opts.deadline ?? Infinity);
    // The check waits for setImmediate: after this thread was blocked (the lab's synchronous
    // commands on a loaded machine), Node runs the expired interval before it delivers the
    // worker's queued lines, and a working stage looked hung (both fuzzers were ended so a
    // minute into a full run).
    let hung: string | null = null;
    const watchdog = setInterval(
      () =>
        setImmediate(() => {
          if (hung || !(Date.now() - heard > 60_000 || Date.now() > deadline + 60_000)) return;
          clearInterval(watchdog);
          hung = `the stage hung (nothing for ${Math.round((Date.now() - heard) / 1000)} s); last: ${lastLine}`;
          void w.terminate();
        }),
      5000,
    );
    w.on('message', (m: { say?: string; result?: StageResult }) => {
      if (!m.say?.includes('no progress')) heard = Date.now();
      if (m.say) {
        lastLine = m.say.trim();
        say(`[${stage}] ${m.say.trimStart()}`);
      }
      if (m.result) result = m.result;
    });
    const fail = (why: string): StageResult => ({
      stage,
      ok: false,
      summary: why,
      ms: Date.now() - t0,
      data: { crashed: why },
    });
    const done = (r: StageResult) => {
      clearInterval(watchdog);
      resolve(r);
    };
    w.on('error', (err) => done(fail(`the stage crashed: ${err.stack ?? err.message}`)));
    // The result ends the stage; the worker may linger on a handle the stage left open.
    w.on('message', (m: { result?: StageResult }) => {
      if (m.result) {
        done(m.result);
        void w.terminate();
      }
    });
    w.on('exit', (code) =>
      done(result ?? fail(hung ?? `the stage's worker exited ${code} without a result`)),
    );
  });
}

async function labStages(
  o: Options,
  n: ReturnType<typeof counts>,
  deadline: number,
  say: (s: string) => void,
): Promise<StageResult[]> {
  const out: StageResult[] = [];
  const t0 = Date.now();
  say('[lab] building the lab (namespaces tagged with this pid) ...');
  const lab = await SoakLab.build(say);
  const cleanup = () => void lab.dispose().finally(() => process.exit(130));
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  const traffic = new Traffic(lab);
  try {
    traffic.start();
    const stage = async (name: Stage, fn: () => Promise<StageResult>) => {
      if (!o.stages.includes(name)) return;
      try {
        const r = await fn();
        out.push(r);
        say(`[${r.stage}] ${r.ok ? 'PASS' : 'FAIL'}: ${r.summary}`);
      } catch (err) {
        const r = {
          stage: name,
          ok: false,
          summary: `the stage could not run: ${(err as Error).message.slice(0, 2000)}`,
          ms: 0,
          data: {},
        };
        out.push(r);
        say(`[${name}] FAIL: ${r.summary}`);
        await lab.killDaemon().catch(() => {});
      }
    };
    const p = (name: string) => (line: string) => say(`[${name}] ${line.trimStart()}`);
    say(`[kill9] ${n.kills} cycles`);
    await stage('kill9', () => kill9Stage(lab, { cycles: n.kills, seed: o.seed, say: p('kill9') }));
    say(`[flaps] ${n.flaps} of each kind`);
    await stage('flaps', () => flapStage(lab, { perKind: n.flaps, say: p('flaps') }));
    say(
      `[control] ${n.malformed} malformed frames, ${n.stalled} stalled clients, ${n.subscribers} subscribers`,
    );
    await stage('control', () =>
      controlStage(lab, {
        malformed: n.malformed,
        stalled: n.stalled,
        subscribers: n.subscribers,
        seed: o.seed,
        say: p('control'),
      }),
    );
    // The traffic goes on until the run's end; then one more round must go through cleanly.
    if (!lab.daemon || lab.daemon.proc.exitCode !== null || lab.daemon.proc.signalCode) lab.startDaemon();
    await lab.until('active for the last traffic round', (s) => s.state === 'active').catch(() => {});
    while (Date.now() < deadline) await sleep(1000);
    const last = await traffic.stop();
    const status = await lab.status();
    const counters = checkCounters((status?.counters ?? {}) as Record<string, number>);
    if (o.stages.includes('traffic')) {
      const r = traffic.result({ ...last, counters });
      r.ms = Date.now() - t0;
      out.push(r);
      say(`[traffic] ${r.ok ? 'PASS' : 'FAIL'}: ${r.summary}`);
    }
  } finally {
    process.off('SIGINT', cleanup);
    process.off('SIGTERM', cleanup);
    await lab.dispose();
    say('[lab] removed');
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const o = parseArgs(argv);
  if (typeof o === 'string') {
    console.error(`soak: ${o}`);
    return 2;
  }
  const startedAt = new Date();
  const n = counts(o);
  const say = (s: string) => console.log(s);
  const preset = o.quick ? 'quick' : o.minutes ? `minutes ${o.minutes}` : 'reproduce';
  const single = o.seedGiven && !o.quick && !o.minutes;
  const labWanted = (['kill9', 'flaps', 'control', 'traffic'] as Stage[]).some((s) => o.stages.includes(s));
  if (labWanted && process.getuid?.() !== 0) {
    console.error('soak: the lab stages build network namespaces: run as root (sudo npm run soak -- ...)');
    return 2;
  }
  say(
    `soak: preset ${preset}, seed ${o.seed}, stages ${o.stages.join(', ')} (machine load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  const results: StageResult[] = [];
  if (single) {
    say(`[translate] batch seed ${o.seed} again`);
    results.push(await translateStage({ packets: 0, seed: o.seed, single: true, say }));
  } else {
    // The fuzzers run in worker threads beside the lab stages; the traffic runs until `end`.
    const end = startedAt.getTime() + (o.quick ? 0 : o.minutes * 60_000);
    const fuzzDeadline = o.quick ? startedAt.getTime() + 150_000 : end;
    const workers: Promise<StageResult>[] = [];
    if (o.stages.includes('translate')) {
      say(`[translate] ${n.packets} packets from run seed ${o.seed} (worker thread)`);
      workers.push(inWorker('translate', { packets: n.packets, seed: o.seed, deadline: fuzzDeadline }, say));
    }
    if (o.stages.includes('dns')) {
      say(`[dns] ${n.dnsMessages} messages to the DNS64 stub, which asks a hostile upstream (worker thread)`);
      workers.push(inWorker('dns', { messages: n.dnsMessages, seed: o.seed, deadline: fuzzDeadline }, say));
    }
    const lab = labWanted ? labStages(o, n, end, say) : Promise.resolve([]);
    const fuzz = await Promise.all(workers);
    for (const r of fuzz) say(`[${r.stage}] ${r.ok ? 'PASS' : 'FAIL'}: ${r.summary}`);
    results.push(...fuzz, ...(await lab));
  }
  results.sort((a, b) => STAGES.indexOf(a.stage as Stage) - STAGES.indexOf(b.stage as Stage));
  say('');
  say(table(results));
  mkdirSync(dirname(o.out), { recursive: true });
  writeJson(o.out, preset, argv, results, startedAt);
  say(`\nJSON: ${o.out}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
