// The CLAT benchmarks' bench topology and probes, shared by bench/clat.ts and bench/udp-cost.ts
// (the leading underscore keeps `npm run bench` from running this file as a benchmark): laptop
// namespaces on their own veth and /64 to one host, `clatbar run` on a laptop, a process's CPU
// time and memory from /proc, and the command line.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../test/helpers/netns.js';
import { nsh, waitFor, CLATBAR, PREFIX } from '../test/helpers/clat-lab.js';

/** The kernel's clock tick for /proc's utime and stime (USER_HZ, 100 on every Linux build). */
export const TICKS_PER_SECOND = 100;

/** utime + stime of /proc/.../stat (user and system time, in ticks). */
function statTicks(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function procStat(pid: number): { rssKb: number; hwmKb: number; ticks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), ticks: statTicks(`/proc/${pid}/stat`) };
}

/** CPU ticks of a process's main thread (the event loop: reads, JavaScript, writes) and of all its threads. */
export function threadTicks(pid: number): { main: number; all: number } {
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      all += statTicks(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // A thread that ended between the listing and the read: its time is in the process's total.
    }
  }
  return { main: statTicks(`/proc/${pid}/task/${pid}/stat`), all };
}

/**
 * A benchmark's command line: --help prints `usage` and exits, an option not in `flags` exits 2
 * with it; the returned function reads a flag's value, else its environment variable, else the
 * default (so `npm run bench` can pass settings as variables).
 */
export function benchOptions(
  usage: string,
  flags: string[],
): (flag: string, env: string, dflt: string) => string {
  if (process.argv.includes('--help')) {
    console.log(usage);
    process.exit(0);
  }
  for (const a of process.argv.slice(2))
    if (a.startsWith('--') && !flags.includes(a)) {
      console.error(`unknown option ${a}\n${usage}`);
      process.exit(2);
    }
  return (flag, env, dflt) => {
    const i = process.argv.indexOf(flag);
    if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
    return process.env[env] ?? dflt;
  };
}

/** A laptop namespace on its own veth and /64 to the shared host. */
export function laptopNs(lab: Lab, host: string, name: string, n: number): string {
  const ns = lab.ns(name);
  lab.veth(ns, 'up0', host, `h${n}`);
  nsh(lab, host, `sysctl -qw net.ipv6.conf.h${n}.accept_dad=0`);
  lab.exec(host, 'ip', ['addr', 'add', `2001:db8:${n}::1/64`, 'dev', `h${n}`, 'nodad']);
  nsh(lab, ns, 'sysctl -qw net.ipv6.conf.up0.accept_dad=0');
  lab.exec(ns, 'ip', ['addr', 'add', `2001:db8:${n}::2/64`, 'dev', 'up0', 'nodad']);
  lab.exec(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', `2001:db8:${n}::1`, 'dev', 'up0']);
  return ns;
}

/**
 * `clatbar run` on a bench laptop, up; with CLAT_BENCH_PROF, a V8 CPU profile of it. `env` adds
 * to the engine's environment (the CLATBAR_* measurement overrides).
 */
export async function startClatbar(
  ns: string,
  stateDir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const engine = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      ...(process.env.CLAT_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CLAT_BENCH_PROF}`] : []),
      CLATBAR,
      'run',
      '--uplink',
      'up0',
      '--prefix',
      PREFIX,
      '--state-dir',
      stateDir,
      '--control-socket',
      join(stateDir, 'engine.sock'),
      ...args,
    ],
    { env: { ...process.env, ...env } },
  );
  let log = '';
  engine.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  engine.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('clatbar to come up', () => log.includes('CLAT is up') || engine.exitCode !== null, 30000);
  if (!log.includes('CLAT is up')) throw new Error(`clatbar did not come up:\n${log}`);
  return engine;
}
