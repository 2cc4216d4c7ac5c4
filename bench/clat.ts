// CLAT throughput, clatbar against TAYGA configured as a CLAT (as clatd does it), in one run, on
// the two-namespace bench topology: laptop -- host, where the host owns the mapped IPv6 address
// of 203.0.113.10 (2001:db8:64::cb00:710a), so the laptop's CLAT is the only translator.
// Native IPv6 over the same veth is the ceiling. Also: the engine's RSS under load and its CPU
// use when idle. Run as root: `npm run bench -- clat` (or node build/bench/clat.js).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

interface Row {
  path: string;
  tcpGbps: number;
  udpPps: number;
  rssMb?: number;
  idleCpuTicks?: number;
}

function iperf(lab: Lab, ns: string, target: string, udp: boolean): number {
  const args = udp
    ? `-u -l 64 -b 0 -t ${SECONDS}` // 64-byte datagrams, as fast as the sender can
    : `-t ${SECONDS}`;
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

function procStat(pid: number): { rssKb: number; hwmKb: number; ticks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), ticks: Number(f[11]) + Number(f[12]) };
}

async function main(): Promise<void> {
  const lab = new Lab('bc');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bench-'));
  const rows: Row[] = [];
  let engine: ChildProcess | null = null;
  try {
    const laptop = lab.ns('laptop');
    const host = lab.ns('host');
    lab.veth(laptop, 'up0', host, 'h0');
    nsh(lab, host, 'sysctl -qw net.ipv6.conf.h0.accept_dad=0');
    lab.exec(host, 'ip', ['addr', 'add', '2001:db8:1::1/64', 'dev', 'h0', 'nodad']);
    lab.exec(host, 'ip', ['addr', 'add', `${SERVER_V6_MAPPED}/128`, 'dev', 'lo']);
    nsh(lab, laptop, 'sysctl -qw net.ipv6.conf.up0.accept_dad=0');
    lab.exec(laptop, 'ip', ['addr', 'add', '2001:db8:1::2/64', 'dev', 'up0', 'nodad']);
    lab.exec(laptop, 'ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:1::1', 'dev', 'up0']);
    const server = lab.spawn(host, 'iperf3', ['-s', '-B', SERVER_V6_MAPPED]);
    server.stdout?.resume();
    server.stderr?.resume();
    await waitFor('iperf3 server', () => nsh(lab, host, 'ss -ltn').includes(':5201'));
    const before = hostState(lab, laptop);

    rows.push({
      path: 'native IPv6 (ceiling)',
      tcpGbps: iperf(lab, laptop, SERVER_V6_MAPPED, false),
      udpPps: iperf(lab, laptop, SERVER_V6_MAPPED, true),
    });

    // clatbar
    engine = spawn('ip', [
      'netns',
      'exec',
      laptop,
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
    const tcp = iperf(lab, laptop, SERVER_V4, false);
    const udp = iperf(lab, laptop, SERVER_V4, true);
    const loaded = procStat(pid);
    // Idle: nothing to read, no timers; the process should not be scheduled at all.
    await new Promise((r) => setTimeout(r, 1000));
    const idle0 = procStat(pid).ticks;
    await new Promise((r) => setTimeout(r, 5000));
    const idleTicks = procStat(pid).ticks - idle0;
    rows.push({
      path: 'clatbar',
      tcpGbps: tcp,
      udpPps: udp,
      rssMb: loaded.hwmKb / 1024,
      idleCpuTicks: idleTicks,
    });
    engine.kill('SIGTERM');
    await new Promise((r) => engine!.once('exit', r));
    engine = null;
    const after = hostState(lab, laptop);
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      console.log('warning: laptop state differs after clatbar stopped');
      for (const k of Object.keys(before) as (keyof typeof before)[])
        if (JSON.stringify(before[k]) !== JSON.stringify(after[k]))
          console.log(
            `  ${k}:\n    before ${JSON.stringify(before[k])}\n    after  ${JSON.stringify(after[k])}`,
          );
    }

    // TAYGA as a CLAT, same addresses and prefix.
    const tayga = taygaClat(lab, laptop, { uplink: 'up0', clatV6: '2001:db8:1::c1a7', dir });
    await waitFor('tayga CLAT', () =>
      nsh(lab, laptop, `ping -c 1 -W 1 ${SERVER_V4}`, true).includes('1 received'),
    );
    rows.push({
      path: 'TAYGA as CLAT',
      tcpGbps: iperf(lab, laptop, SERVER_V4, false),
      udpPps: iperf(lab, laptop, SERVER_V4, true),
      rssMb: procStat(tayga.pid!).hwmKb / 1024,
    });
  } finally {
    if (engine) engine.kill('SIGTERM');
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }

  const t = rows.find((r) => r.path === 'TAYGA as CLAT');
  const c = rows.find((r) => r.path === 'clatbar');
  console.log(`CLAT bench, ${SECONDS} s per run (iperf3; UDP is 64-byte datagrams, delivered per second)`);
  console.log('path                    TCP Gbit/s   UDP pkt/s   peak RSS MB   idle CPU ticks/5s');
  for (const r of rows)
    console.log(
      `${r.path.padEnd(22)} ${r.tcpGbps.toFixed(2).padStart(11)} ${Math.round(r.udpPps).toString().padStart(11)} ${(r.rssMb?.toFixed(1) ?? '-').padStart(13)} ${(r.idleCpuTicks?.toString() ?? '-').padStart(19)}`,
    );
  if (t && c) {
    console.log(
      `clatbar / TAYGA: TCP ${(c.tcpGbps / t.tcpGbps).toFixed(1)}x (goal >= 10x), UDP ${(c.udpPps / t.udpPps).toFixed(1)}x (goal >= 3x); RSS ${c.rssMb?.toFixed(1)} MB (goal <= 100); idle ticks ${c.idleCpuTicks} (goal 0)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
