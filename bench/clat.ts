// CLAT throughput, clatbar against TAYGA configured as a CLAT (as clatd does it), in one run, on
// the two-namespace bench topology: laptop -- host, where the host owns the mapped IPv6 address
// of 203.0.113.10 (2001:db8:64::cb00:710a), so the laptop's CLAT is the only translator.
// Native IPv6 over the same veth is the ceiling. Also: the engine's RSS under load and its CPU
// use when idle, and ping RTT through each path, idle and under the iperf3 UDP load. The path
// "allow" is a third laptop whose clatbar runs with --inbound allow: against "clatbar" (the
// default deny, kernel conntrack) it is the inbound filter's cost, measured in the same rounds;
// the tests tcp-in and iperf-in send towards the laptop, through the filter. Run as root:
// `npm run bench -- clat` (or `node build/bench/clat.js [options]`, `--help` lists them; the
// same settings come from CLAT_BENCH_* variables, for `npm run bench`).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../test/helpers/netns.js';
import {
  nsh,
  waitFor,
  taygaClat,
  hostState,
  CLATBAR,
  SERVER_V4,
  SERVER_V6_MAPPED,
} from '../test/helpers/clat-lab.js';
import { benchOptions, laptopNs, procStat, startClatbar } from './_clat-lab.js';
import { figure, save, startRun, type FigureSpec } from './data/write.js';
import type { Figure } from './data/schema.js';
import { median } from './data/stats.js';

const USAGE = `usage: node build/bench/clat.js [--seconds N] [--rounds N] [--tests LIST] [--paths LIST] [--udp-rate R]
  --seconds N   length of each run (CLAT_BENCH_SECONDS, default 8)
  --rounds N    alternating rounds; the table shows medians (CLAT_BENCH_ROUNDS, default 3)
  --tests LIST  comma-separated, of tcp,tcp-in,iperf,iperf-in,send,gso,ping (CLAT_BENCH_TESTS,
                default tcp,iperf,send,gso,ping; -in: the host sends to the laptop, iperf3 -R)
  --paths LIST  comma-separated, of native,clatbar,allow,tayga (CLAT_BENCH_PATHS, default
                native,clatbar,tayga; allow: clatbar --inbound allow, for the filter's cost)
  --udp-rate R  iperf3 -b for the UDP run (CLAT_BENCH_UDP_RATE, default 0: unpaced)
CLAT_BENCH_PROF=DIR writes a V8 CPU profile of the engine there; CLAT_BENCH_COUNTERS=1 prints
iperf3's sent/lost, the TUN and receiver drop counters, engine CPU and clatbar status.`;

const option = benchOptions(USAGE, ['--seconds', '--rounds', '--tests', '--paths', '--udp-rate']);
const SECONDS = Number(option('--seconds', 'CLAT_BENCH_SECONDS', '8'));
const ROUNDS = Number(option('--rounds', 'CLAT_BENCH_ROUNDS', '3'));
const TESTS = new Set(option('--tests', 'CLAT_BENCH_TESTS', 'tcp,iperf,send,gso,ping').split(','));
/** iperf3 -b for the UDP run: 0 (default) is as fast as it can; a rate (40M) measures cost at a fixed load. */
const UDP_RATE = option('--udp-rate', 'CLAT_BENCH_UDP_RATE', '0');
const PATHS = new Set(option('--paths', 'CLAT_BENCH_PATHS', 'native,clatbar,tayga').split(','));

// 64-byte UDP datagrams as fast as one Python process can send them: one send() per datagram,
// or (as QUIC stacks do) 64 per sendmsg() with UDP_SEGMENT. The receiver takes UDP_GRO
// batches and counts datagrams, so it is never the bottleneck.
const UDP_SEND = `
import socket, struct, sys, time
host, port, secs, gso = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
payload = b'x' * 64
buf, cmsg = payload * gso, [(17, 103, struct.pack('H', 64))]  # SOL_UDP, UDP_SEGMENT
end = time.time() + secs
while time.time() < end:
    for _ in range(100):
        try:
            s.sendmsg([buf], cmsg) if gso > 1 else s.send(payload)
        except OSError:
            pass
`;
const UDP_RECV = `
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.setsockopt(17, 104, 1)  # UDP_GRO
s.bind((host, port))
print('ready', flush=True)
s.settimeout(60)
n, first, last = 0, None, None
try:
    while True:
        data, anc, _, _ = s.recvmsg(65536, 64)
        seg = len(data)
        for lvl, typ, d in anc:
            if lvl == 17 and typ == 104:
                seg = struct.unpack('H', d[:2])[0]
        last = time.time()
        if first is None:
            first = last
            s.settimeout(2)
        n += (len(data) + seg - 1) // seg
except socket.timeout:
    pass
print(n / (last - first) if first and last > first else 0, flush=True)
`;

async function udpPps(lab: Lab, laptop: string, host: string, target: string, gso: number): Promise<number> {
  const recv = lab.spawn(host, '/usr/bin/python3', ['-c', UDP_RECV, SERVER_V6_MAPPED, '9999']);
  let out = '';
  recv.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  recv.stderr?.resume();
  await waitFor('the UDP receiver', () => out.includes('ready'));
  const done = new Promise((r) => recv.once('exit', r));
  lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_SEND, target, '9999', String(SECONDS), String(gso)]);
  await done;
  return Number(out.split('\n')[1]);
}

interface Row {
  path: string;
  tcpGbps: number;
  tcpInGbps: number;
  udpPps: number;
  udpInPps: number;
  udpPlainPps: number;
  udpGsoPps: number;
  pingMs: number;
  pingLoadedMs: number;
  rssMb?: number;
  idleCpuTicks?: number;
}

// iperf3's -l is the UDP payload: 64 bytes make a 92-byte IPv4 packet (112 bytes as IPv6), the
// same 64-byte datagrams the Python senders use. One stream, no pacing (-b 0), the same command
// for every path.
function iperf(lab: Lab, ns: string, target: string, udp: boolean, reverse = false): number {
  const args =
    (udp ? `-u -l 64 -b ${UDP_RATE} --udp-counters-64bit -t ${SECONDS}` : `-t ${SECONDS}`) +
    (reverse ? ' -R' : '');
  let j: IperfJson;
  for (let attempt = 0; ; attempt++) {
    j = JSON.parse(nsh(lab, ns, `timeout ${SECONDS + 30} iperf3 -J -c ${target} ${args}; true`)) as IperfJson;
    // The server takes a moment to finish the previous test ("the server is busy").
    if (!j.error || attempt === 5) break;
    execFileSync('sleep', ['1']);
  }
  if (j.error) throw new Error(`iperf3 to ${target}: ${j.error}`);
  if (udp) {
    const s = j.end.sum!;
    if (process.env.CLAT_BENCH_COUNTERS)
      console.log(
        nsh(
          lab,
          ns,
          'ip -s -s link show dev clat0 2>/dev/null; ip -s -s link show dev tayclat 2>/dev/null; true',
        ),
        lab.exec(ns.replace(/-l[cta]$/, '-host'), 'nstat', [
          '-az',
          'Udp6InDatagrams',
          'Udp6RcvbufErrors',
          'Udp6InErrors',
        ]),
      );
    if (process.env.CLAT_BENCH_COUNTERS)
      console.log(
        `${ns} -> ${target}: iperf3 sent ${s.packets}, lost ${s.lost_packets} in ${s.seconds.toFixed(1)} s`,
      );
    return (s.packets - s.lost_packets) / s.seconds;
  }
  return j.end.sum_received!.bits_per_second / 1e9;
}

/** One list per test, one sample per round. */
interface Samples {
  tcp: number[];
  tcpIn: number[];
  udp: number[];
  udpIn: number[];
  plain: number[];
  gso: number[];
  ping: number[];
  pingLoaded: number[];
}

interface IperfJson {
  error?: string;
  end: {
    sum_received?: { bits_per_second: number };
    sum?: { packets: number; lost_packets: number; seconds: number };
  };
}

/** Average RTT in ms of 100 pings 10 ms apart (ping's own summary line). */
function parsePing(out: string): number {
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  return m ? Number(m[1]) : NaN;
}

function pingRtt(lab: Lab, ns: string, target: string): number {
  return parsePing(nsh(lab, ns, `ping -q -c 100 -i 0.01 -W 1 ${target}`, true));
}

async function main(): Promise<void> {
  const run = startRun('clat');
  const lab = new Lab('bc');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bench-'));
  let engine: ChildProcess | null = null;
  let allowEngine: ChildProcess | null = null;
  const rows: Row[] = [];
  let samples: Samples[] = [];
  let rss: { clatbar: number; tayga: number } | null = null;
  let idleTicks = NaN;
  /** Per round, deny / allow for each test that ran on both: the filter's cost, round by round. */
  const filterRatios: Record<string, number[]> = {};
  try {
    const host = lab.ns('host');
    lab.exec(host, 'ip', ['addr', 'add', `${SERVER_V6_MAPPED}/128`, 'dev', 'lo']);
    // Two laptops at once, one per translator, so every round measures both under the same
    // machine load (other work on the machine shifts all three paths alike).
    const withClatbar = laptopNs(lab, host, 'lc', 1);
    const withTayga = laptopNs(lab, host, 'lt', 2);
    const withAllow = PATHS.has('allow') ? laptopNs(lab, host, 'la', 3) : null;
    const server = lab.spawn(host, 'iperf3', ['-s', '-B', SERVER_V6_MAPPED]);
    server.stdout?.resume();
    server.stderr?.resume();
    await waitFor('iperf3 server', () => nsh(lab, host, 'ss -ltn').includes(':5201'));
    await waitFor('link-local on up0', () => {
      const a = nsh(lab, withClatbar, 'ip -6 addr show dev up0');
      return a.includes('fe80::') && !a.includes('tentative');
    });
    const before = hostState(lab, withClatbar);

    engine = await startClatbar(withClatbar, join(dir, 'state'));
    const pid = engine.pid!;
    const idle0 = procStat(pid).ticks;
    await new Promise((r) => setTimeout(r, 5000));
    // Idle: nothing to read, no timers; the process should not be scheduled at all.
    idleTicks = procStat(pid).ticks - idle0;

    if (withAllow)
      allowEngine = await startClatbar(withAllow, join(dir, 'state-allow'), ['--inbound', 'allow']);

    const tayga = taygaClat(lab, withTayga, { uplink: 'up0', clatV6: '2001:db8:2::c1a7', dir });
    await waitFor('tayga CLAT', () =>
      nsh(lab, withTayga, `ping -c 1 -W 1 ${SERVER_V4}`, true).includes('1 received'),
    );

    const paths = [
      { key: 'native', path: 'native IPv6 (ceiling)', ns: withTayga, target: SERVER_V6_MAPPED },
      { key: 'clatbar', path: 'clatbar', ns: withClatbar, target: SERVER_V4 },
      { key: 'allow', path: 'clatbar inbound allow', ns: withAllow ?? withClatbar, target: SERVER_V4 },
      { key: 'tayga', path: 'TAYGA as CLAT', ns: withTayga, target: SERVER_V4 },
    ];
    samples = paths.map(() => ({
      tcp: [],
      tcpIn: [],
      udp: [],
      udpIn: [],
      plain: [],
      gso: [],
      ping: [],
      pingLoaded: [],
    }));
    for (let round = 0; round < ROUNDS; round++) {
      // Odd rounds run the paths in reverse, and clatbar and its --inbound allow twin swap places
      // every round, so no path always goes first or last.
      const order = round % 2 ? [3, 1, 2, 0] : [0, 1, 2, 3];
      for (const i of order) {
        const p = paths[i];
        if (!PATHS.has(p.key)) continue;
        if (TESTS.has('tcp')) samples[i].tcp.push(iperf(lab, p.ns, p.target, false));
        if (TESTS.has('tcp-in')) samples[i].tcpIn.push(iperf(lab, p.ns, p.target, false, true));
        if (TESTS.has('iperf-in')) samples[i].udpIn.push(iperf(lab, p.ns, p.target, true, true));
        if (TESTS.has('iperf')) {
          // ping alongside the UDP flood: the latency a packet sees through a loaded translator.
          const ping = TESTS.has('ping')
            ? lab.spawn(p.ns, 'ping', ['-q', '-c', String(SECONDS * 20), '-i', '0.05', '-W', '1', p.target])
            : null;
          let pingOut = '';
          ping?.stdout?.on('data', (d: Buffer) => (pingOut += d.toString()));
          ping?.stderr?.resume();
          const t0 = procStat(pid).ticks;
          samples[i].udp.push(iperf(lab, p.ns, p.target, true));
          if (process.env.CLAT_BENCH_COUNTERS && p.key === 'clatbar')
            console.log(`engine CPU during the UDP run: ${procStat(pid).ticks - t0} ticks`);
          if (ping) {
            if (ping.exitCode === null) await new Promise((r) => ping.once('close', r));
            samples[i].pingLoaded.push(parsePing(pingOut));
          }
        }
        if (TESTS.has('send')) samples[i].plain.push(await udpPps(lab, p.ns, host, p.target, 1));
        if (TESTS.has('gso')) samples[i].gso.push(await udpPps(lab, p.ns, host, p.target, 64));
        if (TESTS.has('ping')) samples[i].ping.push(pingRtt(lab, p.ns, p.target));
      }
    }
    for (const [i, p] of paths.entries())
      rows.push({
        path: p.path,
        tcpGbps: median(samples[i].tcp),
        tcpInGbps: median(samples[i].tcpIn),
        udpPps: median(samples[i].udp),
        udpInPps: median(samples[i].udpIn),
        udpPlainPps: median(samples[i].plain),
        udpGsoPps: median(samples[i].gso),
        pingMs: median(samples[i].ping),
        pingLoadedMs: median(samples[i].pingLoaded),
      });
    rows[1].rssMb = procStat(pid).hwmKb / 1024;
    rows[1].idleCpuTicks = idleTicks;
    rows[3].rssMb = procStat(tayga.pid!).hwmKb / 1024;
    rss = { clatbar: rows[1].rssMb, tayga: rows[3].rssMb ?? NaN };
    if (PATHS.has('clatbar') && PATHS.has('allow'))
      for (const k of ['tcp', 'tcpIn', 'udp', 'udpIn', 'plain', 'gso'] as const)
        if (samples[1][k].length) filterRatios[k] = samples[1][k].map((v, r) => v / samples[2][k][r]);
    if (process.env.CLAT_BENCH_COUNTERS)
      console.log(
        nsh(
          lab,
          withClatbar,
          `${process.execPath} ${CLATBAR} status --control-socket ${join(dir, 'state', 'engine.sock')} 2>&1; true`,
        ),
      );

    engine.kill('SIGTERM');
    await new Promise((r) => engine!.once('exit', r));
    engine = null;
    if (allowEngine) {
      allowEngine.kill('SIGTERM');
      await new Promise((r) => allowEngine!.once('exit', r));
      allowEngine = null;
    }
    const after = hostState(lab, withClatbar);
    for (const k of Object.keys(before) as (keyof typeof before)[])
      if (JSON.stringify(before[k]) !== JSON.stringify(after[k]))
        console.log(`warning: after clatbar stopped, ${k} differs from before`);
  } finally {
    if (engine) engine.kill('SIGTERM');
    if (allowEngine) allowEngine.kill('SIGTERM');
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }

  const c = rows[1];
  const t = rows[3];
  console.log(`CLAT bench: median of ${ROUNDS} rounds, ${SECONDS} s per run, ${cpus().length} CPUs.`);
  console.log('UDP: datagrams with 64 bytes of payload (92-byte IPv4 packets, 112 as IPv6) delivered');
  console.log('per second, sent by iperf3 (-u -l 64 -b 0), by one send() each, or 64 per sendmsg()');
  console.log('with UDP_SEGMENT (GSO, as QUIC stacks send). Ping: average RTT in ms, idle and during');
  console.log('the iperf3 UDP run.');
  console.log(
    'path                    TCP Gbit/s  TCP in  UDP iperf3  UDP in   UDP send()   UDP GSO send  ping ms  ping loaded  peak RSS MB  idle CPU ticks/5s',
  );
  const n = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toString());
  const f = (v: number | undefined, d: number) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  for (const r of rows)
    console.log(
      `${r.path.padEnd(22)} ${f(r.tcpGbps, 2).padStart(11)} ${f(r.tcpInGbps, 2).padStart(7)} ${n(r.udpPps).padStart(11)} ${n(r.udpInPps).padStart(7)} ${n(r.udpPlainPps).padStart(11)} ${n(r.udpGsoPps).padStart(14)} ${f(r.pingMs, 3).padStart(8)} ${f(r.pingLoadedMs, 3).padStart(12)} ${(r.rssMb?.toFixed(1) ?? '-').padStart(12)} ${(r.idleCpuTicks?.toString() ?? '-').padStart(18)}`,
    );
  for (const [k, rs] of Object.entries(filterRatios))
    console.log(
      `inbound filter (deny / allow), ${k}: median ${median(rs).toFixed(3)}; rounds ${rs.map((v) => v.toFixed(3)).join(' ')}`,
    );
  const x = (a: number, b: number) => (b && !Number.isNaN(a) && !Number.isNaN(b) ? (a / b).toFixed(1) : '-');
  console.log(
    `clatbar / TAYGA: TCP ${x(c.tcpGbps, t.tcpGbps)}x (goal >= 10x); UDP ${x(c.udpPps, t.udpPps)}x iperf3, ${x(c.udpPlainPps, t.udpPlainPps)}x send(), ${x(c.udpGsoPps, t.udpGsoPps)}x GSO send (goal >= 3x); RSS ${c.rssMb?.toFixed(1)} MB (goal <= 100); idle ticks ${c.idleCpuTicks} (goal 0)`,
  );
  const nat = rows[0];
  const pct = (a: number, b: number) =>
    b && !Number.isNaN(a) && !Number.isNaN(b) ? `${Math.round((100 * a) / b)}%` : '-';
  console.log(
    `clatbar as share of native IPv6 (same rounds): TCP ${pct(c.tcpGbps, nat.tcpGbps)}; UDP iperf3 ${pct(c.udpPps, nat.udpPps)} (goal >= 80%)`,
  );
  await save(run, {
    title: 'CLAT: clatbar against TAYGA as CLAT and native IPv6',
    command: `npm run bench -- clat (node build/bench/clat.js --seconds ${SECONDS} --rounds ${ROUNDS} --tests ${[...TESTS].join(',')} --paths ${[...PATHS].join(',')})`,
    settings: {
      seconds: SECONDS,
      rounds: ROUNDS,
      tests: [...TESTS].join(','),
      paths: [...PATHS].join(','),
      udpRate: UDP_RATE,
    },
    figures: clatFigures(samples, rss, idleTicks),
  });
}

/** The clat bench's figures: each test's clatbar rounds against TAYGA's and native IPv6's. */
function clatFigures(
  samples: Samples[],
  rss: { clatbar: number; tayga: number } | null,
  idleTicks: number,
): Figure[] {
  if (samples.length === 0) return [];
  const [native, clatbar, allow, tayga] = samples;
  const refs = (k: keyof Samples, withNative = true) => [
    { id: 'tayga', name: 'TAYGA as CLAT', rounds: tayga[k] },
    ...(withNative ? [{ id: 'native', name: 'native IPv6', rounds: native[k] }] : []),
    ...(allow[k].length ? [{ id: 'allow', name: 'clatbar --inbound allow', rounds: allow[k] }] : []),
  ];
  const times3 = { ref: 'tayga', ratio: 3, text: '>= 3x TAYGA' };
  const spec: FigureSpec[] = [
    {
      id: 'tcp',
      label: 'CLAT, iperf3 TCP',
      unit: 'Gbit/s',
      better: 'higher',
      rounds: clatbar.tcp,
      refs: refs('tcp'),
      goals: [{ ref: 'tayga', ratio: 10, text: '>= 10x TAYGA' }],
    },
    {
      id: 'tcp-in',
      label: 'CLAT, iperf3 TCP towards the laptop',
      unit: 'Gbit/s',
      better: 'higher',
      rounds: clatbar.tcpIn,
      refs: refs('tcpIn'),
    },
    {
      id: 'udp-iperf3',
      label: 'CLAT, 64-byte UDP delivered/s, iperf3 -u -l 64 -b 0',
      unit: 'datagrams/s',
      better: 'higher',
      rounds: clatbar.udp,
      refs: refs('udp'),
      goals: [{ ref: 'native', ratio: 0.8, text: '>= 80% of native IPv6' }, times3],
      note: 'one iperf3 receiver is the limit (docs/clat.md); 3x TAYGA is more than native IPv6 delivers on 2 cores, so the share of native is the honest measure',
    },
    {
      id: 'udp-iperf3-in',
      label: 'CLAT, 64-byte UDP towards the laptop, iperf3 -R',
      unit: 'datagrams/s',
      better: 'higher',
      rounds: clatbar.udpIn,
      refs: refs('udpIn'),
    },
    {
      id: 'udp-send',
      label: 'CLAT, 64-byte UDP delivered/s, one send() per datagram',
      unit: 'datagrams/s',
      better: 'higher',
      rounds: clatbar.plain,
      refs: refs('plain'),
      goals: [times3],
    },
    {
      id: 'udp-gso',
      label: 'CLAT, 64-byte UDP delivered/s, 64 per sendmsg() with UDP_SEGMENT',
      unit: 'datagrams/s',
      better: 'higher',
      rounds: clatbar.gso,
      refs: refs('gso'),
      goals: [times3],
    },
    {
      id: 'ping',
      label: 'CLAT, ping RTT, idle',
      unit: 'ms',
      better: 'lower',
      rounds: clatbar.ping,
      refs: refs('ping'),
    },
    {
      id: 'ping-loaded',
      label: 'CLAT, ping RTT during the iperf3 UDP run',
      unit: 'ms',
      better: 'lower',
      rounds: clatbar.pingLoaded,
      refs: refs('pingLoaded'),
    },
  ];
  if (rss)
    spec.push({
      id: 'rss',
      label: 'CLAT engine peak RSS under load',
      unit: 'MB',
      better: 'lower',
      rounds: [rss.clatbar],
      refs: [{ id: 'tayga', name: 'TAYGA as CLAT', rounds: [rss.tayga] }],
      goals: [{ value: 100, text: '<= 100 MB' }],
    });
  if (Number.isFinite(idleTicks))
    spec.push({
      id: 'idle-cpu',
      label: 'CLAT engine CPU when idle, 5 s',
      unit: 'ticks',
      better: 'lower',
      rounds: [idleTicks],
      goals: [{ value: 0, text: 'none' }],
    });
  return spec.filter((f) => f.rounds.length > 0).map(figure);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
