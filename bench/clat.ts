// CLAT throughput, clatbar against TAYGA configured as a CLAT (as clatd does it), in one run, on
// the two-namespace bench topology: laptop -- host, where the host owns the mapped IPv6 address
// of 203.0.113.10 (2001:db8:64::cb00:710a), so the laptop's CLAT is the only translator.
// Native IPv6 over the same veth is the ceiling. Also: the engine's RSS under load and its CPU
// use when idle. Run as root: `npm run bench -- clat` (or node build/bench/clat.js).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../test/helpers/netns.js';
import {
  nsh,
  waitFor,
  taygaClat,
  hostState,
  CLATBAR,
  PREFIX,
  SERVER_V4,
  SERVER_V6_MAPPED,
} from '../test/helpers/clat-lab.js';

const SECONDS = Number(process.env.CLAT_BENCH_SECONDS ?? 8);

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
  udpPps: number;
  udpPlainPps: number;
  udpGsoPps: number;
  rssMb?: number;
  idleCpuTicks?: number;
}

function iperf(lab: Lab, ns: string, target: string, udp: boolean): number {
  const args = udp ? `-u -l 64 -b 0 -t ${SECONDS}` : `-t ${SECONDS}`;
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
    return (s.packets - s.lost_packets) / s.seconds;
  }
  return j.end.sum_received!.bits_per_second / 1e9;
}

interface IperfJson {
  error?: string;
  end: {
    sum_received?: { bits_per_second: number };
    sum?: { packets: number; lost_packets: number; seconds: number };
  };
}

const ROUNDS = Number(process.env.CLAT_BENCH_ROUNDS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function procStat(pid: number): { rssKb: number; hwmKb: number; ticks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), ticks: Number(f[11]) + Number(f[12]) };
}

/** A laptop namespace on its own veth and /64 to the shared host. */
function laptopNs(lab: Lab, host: string, name: string, n: number): string {
  const ns = lab.ns(name);
  lab.veth(ns, 'up0', host, `h${n}`);
  nsh(lab, host, `sysctl -qw net.ipv6.conf.h${n}.accept_dad=0`);
  lab.exec(host, 'ip', ['addr', 'add', `2001:db8:${n}::1/64`, 'dev', `h${n}`, 'nodad']);
  nsh(lab, ns, 'sysctl -qw net.ipv6.conf.up0.accept_dad=0');
  lab.exec(ns, 'ip', ['addr', 'add', `2001:db8:${n}::2/64`, 'dev', 'up0', 'nodad']);
  lab.exec(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', `2001:db8:${n}::1`, 'dev', 'up0']);
  return ns;
}

async function main(): Promise<void> {
  const lab = new Lab('bc');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bench-'));
  let engine: ChildProcess | null = null;
  const rows: Row[] = [];
  try {
    const host = lab.ns('host');
    lab.exec(host, 'ip', ['addr', 'add', `${SERVER_V6_MAPPED}/128`, 'dev', 'lo']);
    // Two laptops at once, one per translator, so every round measures both under the same
    // machine load (other work on the machine shifts all three paths alike).
    const withClatbar = laptopNs(lab, host, 'lc', 1);
    const withTayga = laptopNs(lab, host, 'lt', 2);
    const server = lab.spawn(host, 'iperf3', ['-s', '-B', SERVER_V6_MAPPED]);
    server.stdout?.resume();
    server.stderr?.resume();
    await waitFor('iperf3 server', () => nsh(lab, host, 'ss -ltn').includes(':5201'));
    await waitFor('link-local on up0', () => {
      const a = nsh(lab, withClatbar, 'ip -6 addr show dev up0');
      return a.includes('fe80::') && !a.includes('tentative');
    });
    const before = hostState(lab, withClatbar);

    engine = spawn('ip', [
      'netns',
      'exec',
      withClatbar,
      process.execPath,
      ...(process.env.CLAT_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CLAT_BENCH_PROF}`] : []),
      CLATBAR,
      'run',
      '--uplink',
      'up0',
      '--prefix',
      PREFIX,
      '--state-dir',
      join(dir, 'state'),
      '--control-socket',
      join(dir, 'state', 'engine.sock'),
    ]);
    let log = '';
    engine.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    engine.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('clatbar to come up', () => log.includes('CLAT is up') || engine!.exitCode !== null, 30000);
    if (!log.includes('CLAT is up')) throw new Error(`clatbar did not come up:\n${log}`);
    const pid = engine.pid!;
    const idle0 = procStat(pid).ticks;
    await new Promise((r) => setTimeout(r, 5000));
    // Idle: nothing to read, no timers; the process should not be scheduled at all.
    const idleTicks = procStat(pid).ticks - idle0;

    const tayga = taygaClat(lab, withTayga, { uplink: 'up0', clatV6: '2001:db8:2::c1a7', dir });
    await waitFor('tayga CLAT', () =>
      nsh(lab, withTayga, `ping -c 1 -W 1 ${SERVER_V4}`, true).includes('1 received'),
    );

    const paths = [
      { path: 'native IPv6 (ceiling)', ns: withTayga, target: SERVER_V6_MAPPED },
      { path: 'clatbar', ns: withClatbar, target: SERVER_V4 },
      { path: 'TAYGA as CLAT', ns: withTayga, target: SERVER_V4 },
    ];
    const samples = paths.map(() => ({
      tcp: [] as number[],
      udp: [] as number[],
      plain: [] as number[],
      gso: [] as number[],
    }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, p] of paths.entries()) {
        samples[i].tcp.push(iperf(lab, p.ns, p.target, false));
        samples[i].udp.push(iperf(lab, p.ns, p.target, true));
        samples[i].plain.push(await udpPps(lab, p.ns, host, p.target, 1));
        samples[i].gso.push(await udpPps(lab, p.ns, host, p.target, 64));
      }
    }
    for (const [i, p] of paths.entries())
      rows.push({
        path: p.path,
        tcpGbps: median(samples[i].tcp),
        udpPps: median(samples[i].udp),
        udpPlainPps: median(samples[i].plain),
        udpGsoPps: median(samples[i].gso),
      });
    rows[1].rssMb = procStat(pid).hwmKb / 1024;
    rows[1].idleCpuTicks = idleTicks;
    rows[2].rssMb = procStat(tayga.pid!).hwmKb / 1024;

    engine.kill('SIGTERM');
    await new Promise((r) => engine!.once('exit', r));
    engine = null;
    const after = hostState(lab, withClatbar);
    for (const k of Object.keys(before) as (keyof typeof before)[])
      if (JSON.stringify(before[k]) !== JSON.stringify(after[k]))
        console.log(`warning: after clatbar stopped, ${k} differs from before`);
  } finally {
    if (engine) engine.kill('SIGTERM');
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }

  const c = rows[1];
  const t = rows[2];
  console.log(`CLAT bench: median of ${ROUNDS} rounds, ${SECONDS} s per run, ${cpus().length} CPUs.`);
  console.log('UDP: 64-byte datagrams delivered per second, sent by iperf3 (-u -l 64 -b 0), by one');
  console.log('send() each, or 64 per sendmsg() with UDP_SEGMENT (GSO, as QUIC stacks send).');
  console.log(
    'path                    TCP Gbit/s  UDP iperf3  UDP send()   UDP GSO send   peak RSS MB  idle CPU ticks/5s',
  );
  const n = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toString());
  for (const r of rows)
    console.log(
      `${r.path.padEnd(22)} ${r.tcpGbps.toFixed(2).padStart(11)} ${n(r.udpPps).padStart(11)} ${n(r.udpPlainPps).padStart(11)} ${n(r.udpGsoPps).padStart(14)} ${(r.rssMb?.toFixed(1) ?? '-').padStart(12)} ${(r.idleCpuTicks?.toString() ?? '-').padStart(18)}`,
    );
  const x = (a: number, b: number) => (b ? (a / b).toFixed(1) : '-');
  console.log(
    `clatbar / TAYGA: TCP ${x(c.tcpGbps, t.tcpGbps)}x (goal >= 10x); UDP ${x(c.udpPps, t.udpPps)}x iperf3, ${x(c.udpPlainPps, t.udpPlainPps)}x send(), ${x(c.udpGsoPps, t.udpGsoPps)}x GSO send (goal >= 3x); RSS ${c.rssMb?.toFixed(1)} MB (goal <= 100); idle ticks ${c.idleCpuTicks} (goal 0)`,
  );
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
