// Where the CPU goes when iperf3 floods 64-byte UDP datagrams (-u -l 64 -b 0) through the CLAT,
// against native IPv6 from the same laptop namespace and against a second laptop whose engine
// reads the TUN with read() instead of io_uring, in rounds whose order turns: the sending and
// the receiving iperf3 (their own getrusage, from iperf3's JSON), the engine (its threads' ticks
// in /proc), the kernel's drops (the TUN queue, the receiving socket) and, when perf is
// installed, the engine's system calls and a profile of its thread. Everything runs on the same
// CPUs, so each figure is per datagram delivered, and the receiver's share of a CPU is what
// decides how many get delivered (docs/clat.md, "64-byte UDP as a share of native IPv6"). Run as
// root: `npm run bench -- udp-cost` (or `node build/bench/udp-cost.js [--seconds N] [--rounds N]`).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../test/helpers/netns.js';
import { nsh, waitFor, SERVER_V4, SERVER_V6_MAPPED } from '../test/helpers/clat-lab.js';
import { benchOptions, laptopNs, startClatbar, threadTicks, TICKS_PER_SECOND } from './_clat-lab.js';
import { figure, save, startRun, type FigureSpec } from './data/write.js';

const USAGE = `usage: node build/bench/udp-cost.js [--seconds N] [--rounds N]
  --seconds N   length of each iperf3 run (UDP_COST_SECONDS, default 8)
  --rounds N    rounds of native IPv6, clatbar, and clatbar reading with read() (UDP_COST_ROUNDS,
                default 4)
With /usr/bin/perf, the engines' system calls are counted too (perf stat, tracepoints), and one
more run of each engine is profiled (perf record) to say where its thread spends its time.`;

const option = benchOptions(USAGE, ['--seconds', '--rounds']);
const SECONDS = Number(option('--seconds', 'UDP_COST_SECONDS', '8'));
const ROUNDS = Number(option('--rounds', 'UDP_COST_ROUNDS', '4'));
if (!(SECONDS >= 2 && ROUNDS >= 1)) {
  console.error(`--seconds must be at least 2 and --rounds at least 1\n${USAGE}`);
  process.exit(2);
}
const PERF = '/usr/bin/perf';

interface IperfUdp {
  error?: string;
  end: {
    sum: { packets: number; lost_packets: number; seconds: number };
    cpu_utilization_percent: { host_total: number; remote_total: number };
  };
}

/** One iperf3 run's measurements; the engine's are null on the native path (it is idle then). */
interface Sample {
  delivered: number;
  sent: number;
  seconds: number;
  senderCpu: number;
  receiverCpu: number;
  /** Times the receiver blocked (in select(), its socket empty) during the run. */
  receiverSleeps: number;
  socketDrops: number;
  engineSeconds: number | null;
  engineMainSeconds: number | null;
  tunRead: number | null;
  tunDrops: number | null;
  tunWrites: number | null;
  syscalls: { all: number; reads: number; wakeups: number } | null;
}

/** Counters of the kernel on both ends: the host's socket drops and the TUN's (laptop side). */
function kernelCounters(lab: Lab, host: string, laptop: string) {
  const nstat = lab.exec(host, 'nstat', ['-az', 'Udp6RcvbufErrors']);
  const socketDrops = Number(/Udp6RcvbufErrors\s+(\d+)/.exec(nstat)?.[1] ?? NaN);
  // The TUN's transmit side is the kernel handing packets to the engine; receive is what it writes.
  const [txPackets, txDropped, rxPackets] = nsh(
    lab,
    laptop,
    'cat /sys/class/net/clat0/statistics/tx_packets /sys/class/net/clat0/statistics/tx_dropped /sys/class/net/clat0/statistics/rx_packets',
  )
    .trim()
    .split('\n')
    .map(Number);
  return { socketDrops, txPackets, txDropped, rxPackets };
}

/** perf stat of the engine's system calls while the run goes on; null without perf. */
function countSyscalls(pid: number): Promise<{ all: number; reads: number; wakeups: number } | null> {
  if (!existsSync(PERF)) return Promise.resolve(null);
  const events = ['raw_syscalls:sys_enter', 'syscalls:sys_enter_read', 'syscalls:sys_enter_epoll_pwait'];
  const p: ChildProcess = spawn(PERF, [
    'stat',
    '-x,',
    '-e',
    events.join(','),
    '-p',
    String(pid),
    '--',
    'sleep',
    String(SECONDS),
  ]);
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  p.stdout?.resume();
  return new Promise((resolve) =>
    p.once('close', () => {
      const count = (e: string) => Number(new RegExp(`^(\\d+),[^\\n]*${e}`, 'm').exec(err)?.[1] ?? NaN);
      const c = { all: count(events[0]), reads: count(events[1]), wakeups: count(events[2]) };
      // Per second, so they compare with the packet rate over the iperf3 run's own duration.
      resolve(
        Number.isFinite(c.all)
          ? { all: c.all / SECONDS, reads: c.reads / SECONDS, wakeups: c.wakeups / SECONDS }
          : null,
      );
    }),
  );
}

/** Where the engine's event-loop thread spends its time, as shares of its samples (perf record). */
type Profile = Record<ProfilePart, number>;
type ProfilePart = 'read' | 'write' | 'wakeups' | 'user' | 'kernelOther';

/**
 * Samples the engine's event-loop thread (call graphs, 499 Hz) while the run goes on and sorts
 * each sample by the stack it was taken in: reading packets from the TUN (a read() each, with
 * the system call's entry and exit, or one io_uring_enter per batch), the write() of merged
 * packets (which includes the kernel forwarding them and delivering them into the receiving
 * socket), the wake-ups (epoll, the coalescing timerfd), the rest of user space (JavaScript:
 * translator, coalescer, data path; V8; the addon), and other kernel work (page faults,
 * scheduling). Null without perf.
 */
function profileEngine(pid: number): Promise<Profile | null> {
  if (!existsSync(PERF)) return Promise.resolve(null);
  const file = join(tmpdir(), `clatbar-udp-cost-${process.pid}.perf`);
  const rec = spawn(PERF, [
    'record',
    '-q',
    '-g',
    '-F',
    '499',
    '-t',
    String(pid),
    '-o',
    file,
    '--',
    'sleep',
    String(SECONDS),
  ]);
  rec.stdout?.resume();
  rec.stderr?.resume();
  return new Promise((resolve) =>
    rec.once('close', () => {
      try {
        const out = execFileSync(PERF, ['script', '-i', file, '-F', 'ip,sym,dso'], {
          encoding: 'utf8',
          maxBuffer: 1 << 30,
          timeout: 120_000,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        resolve(classify(out));
      } catch {
        resolve(null);
      } finally {
        rmSync(file, { force: true });
      }
    }),
  );
}

function classify(script: string): Profile | null {
  const n: Profile = { read: 0, write: 0, wakeups: 0, user: 0, kernelOther: 0 };
  let total = 0;
  for (const block of script.split(/\n\s*\n/)) {
    const stack = block.trim();
    if (!stack) continue;
    total++;
    if (/ read \(\S*libc|io_uring_enter/.test(stack) && stack.includes('Tun::')) n.read++;
    else if (/ (__GI___libc_write|write) \(\S*libc/.test(stack)) n.write++;
    else if (/epoll_pwait|epoll_ctl|timerfd/.test(stack)) n.wakeups++;
    else if (stack.split('\n')[0].includes('[kernel.kallsyms]')) n.kernelOther++;
    else n.user++;
  }
  if (total === 0) return null;
  for (const k of Object.keys(n) as ProfilePart[]) n[k] = (100 * n[k]) / total;
  return n;
}

/** The bench's host and its receiving iperf3 (iperf3 -s), the same process for every run. */
interface Setup {
  lab: Lab;
  host: string;
  serverPid: number;
}

/** A way from a laptop to the receiver: native IPv6, or IPv4 through that laptop's engine. */
interface Path {
  key: 'native' | 'clatbar' | 'read';
  laptop: string;
  enginePid: number;
  clat: boolean;
}

/** How often a process went to sleep by itself (voluntary context switches, /proc status). */
function sleeps(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

async function run<T>(
  { lab, host, serverPid }: Setup,
  { laptop, enginePid, clat }: Path,
  watch: (pid: number) => Promise<T>,
): Promise<Omit<Sample, 'syscalls'> & { watched: T | null }> {
  const z0 = sleeps(serverPid);
  const k0 = kernelCounters(lab, host, laptop);
  const e0 = threadTicks(enginePid);
  const watching = clat ? watch(enginePid) : Promise.resolve(null);
  const target = clat ? SERVER_V4 : SERVER_V6_MAPPED;
  let j: IperfUdp;
  for (let attempt = 0; ; attempt++) {
    j = JSON.parse(
      nsh(
        lab,
        laptop,
        `timeout ${SECONDS + 30} iperf3 -J -c ${target} -u -l 64 -b 0 --udp-counters-64bit -t ${SECONDS}; true`,
      ),
    ) as IperfUdp;
    // The server takes a moment to finish the previous test ("the server is busy").
    if (!j.error || attempt === 5) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (j.error) throw new Error(`iperf3 to ${target}: ${j.error}`);
  const e1 = threadTicks(enginePid);
  const k1 = kernelCounters(lab, host, laptop);
  const z1 = sleeps(serverPid);
  const watched = await watching;
  const s = j.end.sum;
  const cpu = j.end.cpu_utilization_percent;
  return {
    delivered: s.packets - s.lost_packets,
    sent: s.packets,
    seconds: s.seconds,
    senderCpu: cpu.host_total / 100,
    receiverCpu: cpu.remote_total / 100,
    receiverSleeps: z1 - z0,
    socketDrops: k1.socketDrops - k0.socketDrops,
    engineSeconds: clat ? (e1.all - e0.all) / TICKS_PER_SECOND : null,
    engineMainSeconds: clat ? (e1.main - e0.main) / TICKS_PER_SECOND : null,
    tunRead: clat ? k1.txPackets - k0.txPackets : null,
    tunDrops: clat ? k1.txDropped - k0.txDropped : null,
    tunWrites: clat ? k1.rxPackets - k0.rxPackets : null,
    watched,
  };
}

/** µs of CPU per datagram delivered: a CPU share over the run, spread over what arrived. */
const perDelivered = (x: Sample, cpuSeconds: number) => (1e6 * cpuSeconds) / x.delivered;

function describe(path: string, x: Sample): string {
  const us = (v: number | null) => (v === null ? '-' : perDelivered(x, v).toFixed(2));
  const engine = x.engineSeconds;
  return (
    `${path.padEnd(8)} delivered ${Math.round(x.delivered / x.seconds)}/s of ${Math.round(x.sent / x.seconds)}/s sent; ` +
    `us CPU per delivered: sender ${us(x.senderCpu * x.seconds)}, engine ${us(engine)}, receiver ${us(x.receiverCpu * x.seconds)}; ` +
    `receiver ${(100 * x.receiverCpu).toFixed(0)}% of a CPU, slept ${x.receiverSleeps} times; dropped by the receiving socket ${x.socketDrops}` +
    (x.tunDrops !== null
      ? `, by the TUN queue ${x.tunDrops}; engine read ${x.tunRead}, wrote ${x.tunWrites}`
      : '') +
    (x.syscalls
      ? `; engine syscalls/s ${Math.round(x.syscalls.all)} (read ${Math.round(x.syscalls.reads)}, epoll ${Math.round(x.syscalls.wakeups)})`
      : '')
  );
}

async function main(): Promise<void> {
  const started = startRun('udp-cost');
  const lab = new Lab('uc');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-udp-cost-'));
  const engines: ChildProcess[] = [];
  const samples: Record<Path['key'], Sample[]> = { native: [], clatbar: [], read: [] };
  const profiles: Record<'clatbar' | 'read', Profile | null> = { clatbar: null, read: null };
  try {
    const host = lab.ns('host');
    lab.exec(host, 'ip', ['addr', 'add', `${SERVER_V6_MAPPED}/128`, 'dev', 'lo']);
    // Native IPv6 leaves the first laptop by up0 directly, its IPv4 through its CLAT, over the
    // same veth (its engine is idle during the native runs). The second laptop's engine reads
    // the TUN with read() instead of io_uring (CLATBAR_TUN_URING=0): the change measured in the
    // same rounds.
    const laptop = laptopNs(lab, host, 'lc', 1);
    const laptopRead = laptopNs(lab, host, 'lr', 2);
    const server = lab.spawn(host, 'iperf3', ['-s', '-B', SERVER_V6_MAPPED]);
    server.stdout?.resume();
    server.stderr?.resume();
    await waitFor('iperf3 server', () => nsh(lab, host, 'ss -ltn').includes(':5201'));
    for (const ns of [laptop, laptopRead])
      await waitFor('link-local on up0', () => {
        const a = nsh(lab, ns, 'ip -6 addr show dev up0');
        return a.includes('fe80::') && !a.includes('tentative');
      });
    engines.push(await startClatbar(laptop, join(dir, 'state')));
    engines.push(await startClatbar(laptopRead, join(dir, 'state-read'), [], { CLATBAR_TUN_URING: '0' }));
    const setup: Setup = { lab, host, serverPid: server.pid! };
    const paths: Path[] = [
      { key: 'native', laptop, enginePid: engines[0].pid!, clat: false },
      { key: 'clatbar', laptop, enginePid: engines[0].pid!, clat: true },
      { key: 'read', laptop: laptopRead, enginePid: engines[1].pid!, clat: true },
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // The order turns every round, so no path always runs first or last.
      for (let k = 0; k < paths.length; k++) {
        const path = paths[(k + round) % paths.length];
        const r = await run(setup, path, countSyscalls);
        const x: Sample = { ...r, syscalls: r.watched };
        samples[path.key].push(x);
        console.log(`round ${round + 1}: ${describe(path.key, x)}`);
      }
    }
    // One more run of each engine, profiled, outside the rounds: the sampling costs CPU too.
    for (const path of paths.slice(1)) {
      const profile = (await run(setup, path, profileEngine)).watched;
      profiles[path.key as 'clatbar' | 'read'] = profile;
      if (profile)
        console.log(
          `${path.key}: engine event-loop thread, profiled run: ${Object.entries(profile)
            .map(([k, v]) => `${k} ${v.toFixed(1)}%`)
            .join(', ')}`,
        );
    }
    for (const e of engines.splice(0)) {
      e.kill('SIGTERM');
      await new Promise((r) => e.once('exit', r));
    }
  } finally {
    for (const e of engines) e.kill('SIGTERM');
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = costFigures(samples, profiles);
  for (const f of figures) {
    const refs = f.refs
      .map((r) => `${r.name} ${r.value?.toFixed(2)} (ratio ${r.ratio?.toFixed(2)})`)
      .join('; ');
    console.log(`${f.label}: clatbar ${f.value?.toFixed(2)} ${f.unit}${refs ? `; ${refs}` : ''}`);
  }
  await save(started, {
    title: 'CLAT: where the CPU goes for 64-byte UDP, clatbar against native IPv6',
    command: `npm run bench -- udp-cost (node build/bench/udp-cost.js --seconds ${SECONDS} --rounds ${ROUNDS})`,
    settings: { seconds: SECONDS, rounds: ROUNDS, perf: existsSync(PERF) },
    figures,
  });
}

/**
 * The figures: clatbar's rounds against native IPv6's and against the same engine reading with
 * read() (before io_uring), one sample per round of each.
 */
function costFigures(
  samples: Record<Path['key'], Sample[]>,
  profiles: Record<'clatbar' | 'read', Profile | null>,
): ReturnType<typeof figure>[] {
  const { native, clatbar: clat, read } = samples;
  type Of = (x: Sample) => number;
  const refNative = (f: Of) => ({ id: 'native', name: 'native IPv6', rounds: native.map(f) });
  const refRead = (f: Of) => ({ id: 'read', name: 'clatbar reading with read()', rounds: read.map(f) });
  const us = (cpu: Of) => (x: Sample) => perDelivered(x, cpu(x));
  const sender = us((x) => x.senderCpu * x.seconds);
  const receiver = us((x) => x.receiverCpu * x.seconds);
  const engine = us((x) => x.engineSeconds ?? NaN);
  const total = (x: Sample) => sender(x) + receiver(x) + (x.engineSeconds === null ? 0 : engine(x));
  const delivered: Of = (x) => x.delivered / x.seconds;
  const receiverPct: Of = (x) => 100 * x.receiverCpu;
  const sleepsPer1000: Of = (x) => (1000 * x.receiverSleeps) / x.delivered;
  const perRead: Of = (x) => (1e6 * (x.engineMainSeconds ?? NaN)) / (x.tunRead ?? NaN);
  const perWrite: Of = (x) => (x.tunRead ?? NaN) / (x.tunWrites ?? NaN);
  const socketDrops: Of = (x) => (100 * x.socketDrops) / x.sent;
  const tunDrops: Of = (x) => (100 * (x.tunDrops ?? NaN)) / x.sent;
  const both = (f: Of) => [refNative(f), refRead(f)];
  const cpuNote =
    'CPU time over the run per datagram delivered; on the native path the sender pays for the kernel delivering into the receiving socket, through the CLAT the engine does (inside its write of a merged packet)';
  const spec: FigureSpec[] = [
    {
      id: 'delivered',
      label: '64-byte UDP delivered/s, iperf3 -u -l 64 -b 0, one laptop',
      unit: 'datagrams/s',
      better: 'higher',
      rounds: clat.map(delivered),
      refs: both(delivered),
      goals: [{ ref: 'native', ratio: 0.8, text: '>= 80% of native IPv6' }],
    },
    {
      id: 'receiver-cpu',
      label: "receiving iperf3's CPU during the 64-byte UDP flood",
      unit: '% of a CPU',
      better: 'higher',
      rounds: clat.map(receiverPct),
      refs: both(receiverPct),
      note: 'the receiver is the bottleneck on every path (its socket drops about half of what arrives): what it delivers is its CPU share divided by its cost per datagram',
    },
    {
      id: 'receiver-sleeps',
      label: 'times the receiving iperf3 found its socket empty and slept, per 1000 datagrams delivered',
      unit: 'sleeps',
      better: 'lower',
      rounds: clat.map(sleepsPer1000),
      refs: both(sleepsPer1000),
      note: 'voluntary context switches of the iperf3 server: each is a wait for data',
    },
    {
      id: 'cpu-sender',
      label: 'CPU per 64-byte datagram delivered: sending iperf3',
      unit: 'µs',
      better: 'lower',
      rounds: clat.map(sender),
      refs: both(sender),
      note: cpuNote,
    },
    {
      id: 'cpu-engine',
      label: 'CPU per 64-byte datagram delivered: clatbar engine (all threads)',
      unit: 'µs',
      better: 'lower',
      rounds: clat.map(engine),
      refs: [refRead(engine)],
    },
    {
      id: 'cpu-receiver',
      label: 'CPU per 64-byte datagram delivered: receiving iperf3',
      unit: 'µs',
      better: 'lower',
      rounds: clat.map(receiver),
      refs: both(receiver),
    },
    {
      id: 'cpu-total',
      label: 'CPU per 64-byte datagram delivered: sender + engine + receiver',
      unit: 'µs',
      better: 'lower',
      rounds: clat.map(total),
      refs: both(total),
    },
    {
      id: 'engine-cpu-per-read',
      label: "clatbar engine's event-loop thread: CPU per packet read from the TUN",
      unit: 'µs',
      better: 'lower',
      rounds: clat.map(perRead),
      refs: [refRead(perRead)],
    },
    {
      id: 'datagrams-per-write',
      label: 'datagrams per TUN write (merged into one UDP GSO packet)',
      unit: 'datagrams',
      better: 'higher',
      rounds: clat.map(perWrite),
      refs: [refRead(perWrite)],
    },
    {
      id: 'socket-drops',
      label: 'share of the datagrams sent that the receiving socket dropped (buffer full)',
      unit: '%',
      better: 'lower',
      rounds: clat.map(socketDrops),
      refs: both(socketDrops),
    },
    {
      id: 'tun-drops',
      label: 'share of the datagrams sent that the TUN queue dropped (engine behind)',
      unit: '%',
      better: 'lower',
      rounds: clat.map(tunDrops),
      refs: [refRead(tunDrops)],
    },
  ];
  const engines = [...clat, ...read];
  if (engines.length > 0 && engines.every((x) => x.syscalls !== null)) {
    // Rates over the perf window against the packet rate over the iperf3 run (both ~SECONDS).
    const pps: Of = (x) => (x.tunRead ?? NaN) / x.seconds;
    const calls: Of = (x) => x.syscalls!.all / pps(x);
    const perWakeup: Of = (x) => pps(x) / x.syscalls!.wakeups;
    spec.push(
      {
        id: 'engine-syscalls-per-packet',
        label: "clatbar engine's system calls per packet read (perf stat)",
        unit: 'calls',
        better: 'lower',
        rounds: clat.map(calls),
        refs: [refRead(calls)],
      },
      {
        id: 'packets-per-wakeup',
        label: 'packets read per engine wake-up (epoll_pwait)',
        unit: 'packets',
        better: 'higher',
        rounds: clat.map(perWakeup),
        refs: [refRead(perWakeup)],
      },
    );
  }
  const { clatbar: profile, read: profileRead } = profiles;
  if (profile && profileRead) {
    const parts: [ProfilePart, string, string][] = [
      ['read', 'read', 'reading packets from the TUN (io_uring, or read() each)'],
      ['write', 'write', 'write() of merged packets, with the kernel delivering them'],
      ['wakeups', 'wakeups', 'wake-ups (epoll, coalescing timer)'],
      ['user', 'js', 'JavaScript, V8 and the addon'],
    ];
    for (const [part, id, what] of parts)
      spec.push({
        id: `engine-time-${id}`,
        label: `clatbar engine's event-loop thread, share of its time: ${what}`,
        unit: '%',
        better: 'lower',
        rounds: [profile[part]],
        refs: [{ id: 'read', name: 'clatbar reading with read()', rounds: [profileRead[part]] }],
        note: 'perf record of the engine thread in one extra run of each engine after the rounds',
      });
  }
  return spec.map(figure);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
