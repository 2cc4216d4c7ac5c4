// How fast the daemon (`clatbar run` without --uplink) acts on what the network says, and what it
// costs to keep it resident. In the CLAT lab (router sending real RAs, TAYGA as the NAT64, an
// IPv4-only server), the medians of N tries (default 10) each of:
//   RA with PREF64 -> first IPv4 ping through the CLAT answered (from standby)
//   native IPv4 default route added -> the CLAT's IPv4 default route gone
//   native IPv4 gone -> the CLAT's default route back (within the grace period that keeps the
//     CLAT without its route after native IPv4 arrived: one `ip route`, docs/daemon.md)
//   PREF64 lifetime 0 -> standby (the TUN gone); a new prefix -> the status shows it
// and, with the router quiet (no RAs) and no traffic for 60 s in standby: the change of
// utime+stime and of voluntary context switches over all its threads; RSS in standby and active.
// Run as root: `npm run bench -- netaware` (or node build/bench/netaware.js [--tries N] [--idle S]
// [--settle S]; --help).
//
// The daemon's state directory (its journal) is a tmpfs, as /run/clatbar, the default, is on a
// systemd host: every change is journaled with an fsync before it is made, and on this VM's ext4
// disk those fsyncs alone added 100-300 ms to each bring-up and teardown, time a real host does
// not spend. The tmpfs is mounted inside the daemon's own mount namespace (`ip netns exec` makes
// one per command), so nothing changes on the host; the control socket lies outside it.
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import {
  buildClatLab,
  nsh,
  waitFor,
  CLATBAR,
  PREFIX,
  SERVER_V4,
  type ClatLab,
} from '../test/helpers/clat-lab.js';
import { callControl } from '../src-main/engine/control/client.js';
import type { EngineStatusDoc } from '../src-main/shared/status.js';
import { figure, save, startRun } from './data/write.js';
import { median } from './data/stats.js';

const USAGE = `usage: node build/bench/netaware.js [--tries N] [--idle S] [--settle S]   (as root)
  --tries N    tries of each reaction; the medians are reported (default 10)
  --idle S     the idle window in standby, no RAs and no traffic (default 60)
  --settle S   quiet time before that window (default 120: V8's memory reducer tail first)
Saved as docs/bench/netaware.json under \`npm run bench -- netaware\` (or CLATBAR_BENCH_OUT=DIR).`;
if (process.argv.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
for (const a of process.argv.slice(2))
  if (a.startsWith('--') && !['--tries', '--idle', '--settle'].includes(a)) {
    console.error(`unknown option ${a}\n${USAGE}`);
    process.exit(2);
  }

function option(flag: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const TRIES = option('--tries', 10);
const IDLE_S = option('--idle', 60);
/**
 * Quiet time before the idle window. After activity V8's memory reducer wakes the engine every
 * 8 s and then runs a full collection on its worker threads (measured with strace: ~80 s after
 * the last change, 100-200 ms of CPU and dozens of context switches; it gives back ~10 MB). The
 * window measures the engine at rest, after that tail; `--settle 30` shows the tail too.
 */
const SETTLE_S = option('--settle', 120);
const MIN_DELAY_BETWEEN_RAS_MS = 3000;
const OTHER = '2001:db8:46::/96';

/** ms until probe() is true, polling as fast as a subprocess allows. */
async function timeUntil(what: string, probe: () => boolean | Promise<boolean>, ms = 15000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await probe()) return performance.now() - t0;
    await sleep(10);
  }
  throw new Error(`timed out: ${what}`);
}

const pings = (cl: ClatLab) =>
  nsh(cl.lab, cl.laptop, `ping -n -c1 -W0.2 ${SERVER_V4} >/dev/null 2>&1 && echo ok`, true).includes('ok');
const clatRoute = (cl: ClatLab) =>
  nsh(cl.lab, cl.laptop, 'ip -4 route show default dev clat0 2>/dev/null', true).trim() !== '';

function procStats(pid: number): { cpuMs: number; voluntary: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  let voluntary = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      voluntary += Number(
        /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))?.[1] ??
          0,
      );
    } catch {
      // The thread ended while we looked.
    }
  }
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuMs: ticks * 10, voluntary, rssKb };
}

async function main(): Promise<void> {
  const run = startRun('netaware');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-netaware-'));
  const cl = await buildClatLab('na', { ra: { pref64: [] } });
  const sock = join(dir, 'engine.sock');
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  try {
    cl.lab.resolvConf(cl.laptop, 'nameserver 2001:db8:1::1\n');
    // sh execs node: the pid stays the daemon's (read from /proc below).
    const proc = cl.lab.spawn(cl.laptop, '/bin/sh', [
      '-c',
      `/usr/bin/mount -t tmpfs -o mode=0700,size=4m clatbar-state "$1" && shift && exec "$@"`,
      'sh',
      stateDir,
      process.execPath,
      CLATBAR,
      'run',
      '--state-dir',
      stateDir,
      '--control-socket',
      sock,
      '--data-dir',
      join(dir, 'data'),
      '--admin-policy',
      join(dir, 'admin.json'),
    ]);
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const status = async (): Promise<EngineStatusDoc | null> => {
      try {
        return (await callControl(sock, 'status')) as EngineStatusDoc;
      } catch {
        return null;
      }
    };
    await waitFor('the status socket', () => out.includes('status: clatbar status'), 30000);
    const state = async (want: string) => (await status())?.state === want;
    const t: Record<string, number[]> = { ra: [], v4on: [], v4off: [], withdraw: [], newPrefix: [] };
    for (let i = 0; i < TRIES; i++) {
      await timeUntil('standby with a prepared address', async () => {
        const s = await status();
        return s?.state === 'standby' && s.preparedClatIpv6 !== undefined;
      });
      cl.setRa({ pref64: [{ prefix: PREFIX, lifetime: 600 }] });
      t.ra.push(await timeUntil('IPv4 ping', () => pings(cl)));
      nsh(
        cl.lab,
        cl.laptop,
        'ip addr add 192.0.2.50/24 dev up0 && ip route add default via 192.0.2.1 dev up0',
      );
      t.v4on.push(await timeUntil('CLAT route gone', () => !clatRoute(cl)));
      await timeUntil('standby', () => state('standby'));
      nsh(cl.lab, cl.laptop, 'ip route del default via 192.0.2.1 dev up0');
      t.v4off.push(await timeUntil('CLAT route back', () => clatRoute(cl)));
      nsh(cl.lab, cl.laptop, 'ip addr del 192.0.2.50/24 dev up0');
      await timeUntil('active', () => state('active'));
      // A router sends RAs at least MIN_DELAY_BETWEEN_RAS (3 s, RFC 4861 6.2.1) apart; the
      // daemon damps a prefix that changes again sooner (discovery/monitor.ts), as it would a
      // rogue router's, so each change here comes as a router's next RA would.
      await sleep(MIN_DELAY_BETWEEN_RAS_MS);
      cl.setRa({ pref64: [{ prefix: OTHER, lifetime: 600 }] });
      t.newPrefix.push(await timeUntil('new prefix', async () => (await status())?.prefix === OTHER));
      await sleep(MIN_DELAY_BETWEEN_RAS_MS);
      cl.setRa({ pref64: [{ prefix: OTHER, lifetime: 0 }] });
      t.withdraw.push(await timeUntil('standby after lifetime 0', () => state('standby')));
      cl.setRa({ pref64: [] });
    }
    const pid = proc.pid!;
    // Resident cost: the router quiet (an RA once an hour), no traffic, standby.
    cl.setRa({ pref64: [], interval: 3600 });
    await sleep(SETTLE_S * 1000);
    const a = procStats(pid);
    await sleep(IDLE_S * 1000);
    const b = procStats(pid);
    cl.setRa({ pref64: [{ prefix: PREFIX, lifetime: 600 }], interval: 3600 });
    await timeUntil('active', () => state('active'));
    await timeUntil('IPv4 ping', () => pings(cl));
    const active = procStats(pid);
    const line = (name: string, xs: number[]) =>
      console.log(
        `${name.padEnd(46)} median ${median(xs).toFixed(0).padStart(5)} ms   (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`,
      );
    console.log(
      `netaware: ${TRIES} tries each, medians (the machine may be loaded by other work: see load below)`,
    );
    line('RA with PREF64 -> first IPv4 ping', t.ra);
    line('native IPv4 added -> CLAT default route gone', t.v4on);
    line('native IPv4 gone -> CLAT default route back', t.v4off);
    line('new PREF64 prefix -> in the status', t.newPrefix);
    line('PREF64 lifetime 0 -> standby', t.withdraw);
    console.log(
      `idle ${IDLE_S} s in standby (from ${SETTLE_S} s after the last change), no RAs: utime+stime +${b.cpuMs - a.cpuMs} ms, voluntary context switches (all threads) +${b.voluntary - a.voluntary}`,
    );
    console.log(
      `RSS: standby ${(b.rssKb / 1024).toFixed(1)} MB, active (idle, after ${TRIES} cycles) ${(active.rssKb / 1024).toFixed(1)} MB`,
    );
    console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    const second = [{ value: 1000, text: '<= 1 s' }];
    const reaction = (id: string, label: string, xs: number[]) =>
      figure({ id, label: `daemon, ${label}`, unit: 'ms', better: 'lower', rounds: xs, goals: second });
    /** A resident cost measured once, at most `max`. */
    const once = (id: string, label: string, unit: string, v: number, max: number, text: string) =>
      figure({
        id,
        label: `daemon, ${label}`,
        unit,
        better: 'lower',
        rounds: [v],
        goals: [{ value: max, text }],
      });
    await save(run, {
      title: 'Daemon: reactions to the network, and the resident cost',
      command: `npm run bench -- netaware (node build/bench/netaware.js --tries ${TRIES} --idle ${IDLE_S})`,
      settings: { tries: TRIES, idleSeconds: IDLE_S },
      figures: [
        reaction('ra-to-ping', 'RA with PREF64 -> first IPv4 ping through the CLAT (from standby)', t.ra),
        reaction('v4-on', 'native IPv4 added -> the CLAT default route gone', t.v4on),
        reaction('v4-off', 'native IPv4 gone -> the CLAT default route back', t.v4off),
        reaction('new-prefix', 'new PREF64 prefix -> in the status', t.newPrefix),
        reaction('withdraw', 'PREF64 lifetime 0 -> standby', t.withdraw),
        once('idle-cpu', `CPU in ${IDLE_S} s of standby without RAs`, 'ms', b.cpuMs - a.cpuMs, 0, 'none'),
        once(
          'idle-wakeups',
          `voluntary context switches in ${IDLE_S} s of standby`,
          'switches',
          b.voluntary - a.voluntary,
          2,
          '<= 2',
        ),
        once('rss-standby', 'RSS in standby', 'MB', b.rssKb / 1024, 60, '<= 60 MB'),
        once(
          'rss-active',
          `RSS active (idle, after ${TRIES} cycles)`,
          'MB',
          active.rssKb / 1024,
          70,
          '<= 70 MB',
        ),
      ],
    });
  } finally {
    await cl.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
