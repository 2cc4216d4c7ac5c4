// `clatbar lab`: the main job on any Linux machine. `up` builds the IPv6-only network of
// topology.ts in three fixed namespaces (clatbar-laptop, -router, -server), starts the router's
// resolver, the server's services and the engine in the laptop namespace (its own state
// directory and control socket: never the host's engine or resolver), and waits until IPv4
// works from the laptop. `down` removes all of it, also after an `up` that was killed half way.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_NET, type LabNames } from './topology.js';
import { buildLabNetwork, waitUntil, GiveUp, IP, TAYGA, type LabHost } from './network.js';
import { UNBOUND, writeResolverConfig } from './resolver.js';
import { PYTHON3 } from './ra-sender.js';
import { HTTP_PORT } from './servers.js';
import { run, startTime, alive, stopProcess } from './proc.js';
import {
  LAB_DIR,
  LAB_NAMES,
  LAB_PATHS,
  LAPTOP_ETC,
  LAPTOP_SOCKET_DIR,
  LabLedger,
  readState,
  type LabState,
} from './state.js';
import { NETNS_RUN_DIR, NETNS_SOCKET_ROOT } from '../system/netns-name.js';

export const PING = '/usr/bin/ping';
export const GETENT = '/usr/bin/getent';
export const SS = '/usr/bin/ss';
export const UMOUNT = '/usr/bin/umount';
/** The clatbar command of this installation (build/src-main/engine/lab -> bin/clatbar). */
export const CLATBAR_BIN = fileURLToPath(new URL('../../../../bin/clatbar', import.meta.url));
export const ENGINE_STATE_DIR = join(LAB_DIR, 'engine');
export const ENGINE_DATA_DIR = join(LAB_DIR, 'engine-data');
export const LAB_CONTROL_SOCKET = join(LAPTOP_SOCKET_DIR, 'engine.sock');
/** How long `up` waits for IPv4 through the engine before it gives up. */
const IPV4_WAIT_MS = 40_000;

type Say = (line: string) => void;

/** The tools the lab runs, each with the Debian package that has it. */
const TOOLS: [string, string][] = [
  [IP, 'iproute2'],
  [TAYGA, 'tayga'],
  [UNBOUND, 'unbound'],
  [PYTHON3, 'python3'],
  [PING, 'iputils-ping'],
  [SS, 'iproute2'],
  [GETENT, 'libc-bin'],
];

/** The command line of the laptop's engine. */
export function engineArgv(): string[] {
  // Daemon mode, as the installed unit runs it: the engine picks the uplink and decides by
  // itself. Its choices and (never existing) admin file stay inside the lab's directory, so the
  // host's /var/lib/clatbar and /etc/clatbar are not read. The network's unbound does DNS64 for names,
  // so the engine's stub stays off: it would hook the system resolver, which for a process in
  // a namespace can be the host's systemd-resolved.
  return [
    process.execPath,
    CLATBAR_BIN,
    'run',
    '--data-dir',
    ENGINE_DATA_DIR,
    '--admin-policy',
    join(LAB_DIR, 'admin-policy.json'),
    '--dns64',
    'off',
    '--state-dir',
    ENGINE_STATE_DIR,
    '--control-socket',
    LAB_CONTROL_SOCKET,
  ];
}

function existingNamespaces(): string[] {
  return Object.values(LAB_NAMES).filter((n) => existsSync(join(NETNS_RUN_DIR, n)));
}

/** The lab's host: fixed names, every namespace, process and path recorded before it is made. */
class RecordedHost implements LabHost<number> {
  constructor(private readonly ledger: LabLedger) {}

  async addNamespace(role: keyof LabNames): Promise<string> {
    const name = LAB_NAMES[role];
    this.ledger.record((s) => s.namespaces.push(name));
    await run([IP, 'netns', 'add', name]);
    await this.exec(name, [IP, 'link', 'set', 'lo', 'up']);
    return name;
  }

  exec(ns: string, argv: string[]): Promise<string> {
    return run([IP, 'netns', 'exec', ns, ...argv]);
  }

  async veth(a: string, aIf: string, b: string, bIf: string): Promise<void> {
    await run([IP, 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    await this.exec(a, [IP, 'link', 'set', aIf, 'up']);
    await this.exec(b, [IP, 'link', 'set', bIf, 'up']);
  }

  /** Detached, output to LAB_DIR/ROLE.log: it outlives `lab up` until `lab down`. */
  async spawn(ns: string, argv: string[], role: string): Promise<number> {
    const log = openSync(join(LAB_DIR, `${role}.log`), 'a', 0o600);
    try {
      const child = spawn(IP, ['netns', 'exec', ns, ...argv], {
        detached: true,
        stdio: ['ignore', log, log],
      });
      const pid = child.pid;
      if (pid === undefined) throw new Error(`could not start ${argv[0]} (${role})`);
      child.unref();
      // `ip netns exec` execs the program in place: the pid is the program's own.
      const start = startTime(pid);
      if (start) this.ledger.record((s) => s.processes.push({ role, pid, startTime: start }));
      return pid;
    } finally {
      closeSync(log);
    }
  }
}

function logTail(role: string, lines = 15): string {
  try {
    return readFileSync(join(LAB_DIR, `${role}.log`), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** What is missing to run the lab, as one message with the fix; null when all is there. */
export function missingTools(): string | null {
  const missing = TOOLS.filter(([path]) => !existsSync(path));
  if (missing.length === 0) return null;
  const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
  return `the lab needs ${missing.map(([p]) => p).join(', ')}: sudo apt install ${pkgs}`;
}

/** Builds the lab; on any failure removes what it made and rethrows. */
export async function labUp(say: Say): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the lab builds network namespaces: run it as root (sudo clatbar lab up)');
  const missing = missingTools();
  if (missing) throw new Error(missing);
  if (existsSync(LAB_DIR) || existingNamespaces().length > 0)
    throw new Error(
      'a lab is already there (see `sudo clatbar lab status`); remove it first with `sudo clatbar lab down`',
    );
  const ledger = LabLedger.create(!existsSync(NETNS_RUN_DIR));
  try {
    await build(ledger, say);
  } catch (err) {
    say(`lab up failed: ${(err as Error).message}`);
    say('removing what was made...');
    await labDown(() => {});
    throw err;
  }
}

async function build(ledger: LabLedger, say: Say): Promise<void> {
  const host = new RecordedHost(ledger);
  const N = LAB_NET;
  say(`building ${Object.values(LAB_NAMES).join(', ')}...`);
  const netDir = join(LAB_DIR, 'net');
  mkdirSync(netDir, { mode: 0o700 });
  const { names } = await buildLabNetwork(host, netDir);

  // The network's resolver on the router, with DNS64 for names (RFC 6147).
  const dnsDir = join(LAB_DIR, 'resolver');
  mkdirSync(dnsDir, { mode: 0o700 });
  const conf = writeResolverConfig(dnsDir, { dns64: N.nat64Prefix });
  await host.spawn(names.router, [UNBOUND, '-d', '-c', conf], 'unbound');
  await waitUntil('unbound on the router', async () =>
    (await host.exec(names.router, [SS, '-lun'])).includes(`[${N.routerLan}]:53`),
  );
  // The laptop's resolver, as DHCPv6 or RDNSS would give it: `ip netns exec` shows this file as
  // /etc/resolv.conf to everything run in the namespace. The host's resolver is never touched.
  ledger.record((s) => s.paths.unshift(LAPTOP_ETC));
  mkdirSync(LAPTOP_ETC, { recursive: true, mode: 0o755 });
  writeFileSync(
    join(LAPTOP_ETC, 'resolv.conf'),
    `# clatbar lab: the lab router's resolver (DNS64). Removed by \`clatbar lab down\`.\nnameserver ${N.routerLan}\n`,
  );

  // The IPv4-only server: web page, download, UDP echo, upload check (servers.ts).
  await host.spawn(names.server, [process.execPath, CLATBAR_BIN, 'lab', 'serve'], 'server');
  await waitUntil('the lab web server', async () =>
    (await host.exec(names.server, [SS, '-ltn'])).includes(`${N.serverV4}:${HTTP_PORT}`),
  );

  // The engine in the laptop: its own state directory and control socket.
  say('starting the clatbar engine in clatbar-laptop...');
  ledger.record((s) => {
    s.paths.unshift(LAPTOP_SOCKET_DIR);
    s.controlSocket = LAB_CONTROL_SOCKET;
  });
  mkdirSync(NETNS_SOCKET_ROOT, { recursive: true, mode: 0o755 });
  mkdirSync(LAPTOP_SOCKET_DIR, { recursive: true, mode: 0o755 });
  mkdirSync(ENGINE_STATE_DIR, { mode: 0o700 });
  mkdirSync(ENGINE_DATA_DIR, { mode: 0o700 });
  const engine = await host.spawn(names.laptop, engineArgv(), 'engine');
  const engineStart = startTime(engine) ?? '';
  await waitUntil(
    'IPv4 from the laptop to the server',
    async () => {
      if (!alive(engine, engineStart)) throw new GiveUp(`the engine exited:\n${logTail('engine')}`);
      await host.exec(names.laptop, [PING, '-c1', '-W1', '-n', N.serverV4]);
      return true;
    },
    IPV4_WAIT_MS,
  ).catch((err: unknown) => {
    throw err instanceof GiveUp
      ? err
      : new Error(`${(err as Error).message}; the engine said:\n${logTail('engine')}`);
  });
  const resolved = await host.exec(names.laptop, [GETENT, 'ahosts', N.serverName]);
  if (!resolved.includes(':'))
    throw new Error(`${N.serverName} does not resolve to an IPv6 address: ${resolved}`);
}

/** Removes the lab: idempotent, and whatever state `up` left (a record or none). */
export async function labDown(say: Say): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('removing the lab needs root: sudo clatbar lab down');
  const { state, problem } = readState();
  if (problem) say(`${problem}; removing the lab by its fixed names`);
  const present = existingNamespaces();
  // The engine first, politely: SIGTERM undoes its changes (its journal) before it exits.
  for (const p of state?.processes.filter((p) => p.role === 'engine') ?? []) {
    if (alive(p.pid, p.startTime)) say(`stopping the engine (pid ${p.pid})`);
    await stopProcess(p.pid, p.startTime, 10_000);
  }
  if (present.includes(LAB_NAMES.laptop) && existsSync(join(ENGINE_STATE_DIR, 'journal.json'))) {
    // Killed before it could undo: replay its journal, as after a crash.
    await run([
      IP,
      'netns',
      'exec',
      LAB_NAMES.laptop,
      process.execPath,
      CLATBAR_BIN,
      'run',
      '--cleanup',
      '--state-dir',
      ENGINE_STATE_DIR,
    ]).catch((err: unknown) => say(`engine cleanup: ${(err as Error).message}`));
  }
  for (const p of state?.processes ?? []) await stopProcess(p.pid, p.startTime, 3000);
  // Anything else still inside (a process `up` started but had not recorded yet).
  for (const ns of present) {
    const pids = (await run([IP, 'netns', 'pids', ns]).catch(() => ''))
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    for (const pid of pids) {
      const start = startTime(pid);
      if (start) await stopProcess(pid, start, 1000);
    }
    await run([IP, 'netns', 'del', ns]);
    say(`removed namespace ${ns}`);
  }
  for (const path of LAB_PATHS) {
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    say(`removed ${path}`);
  }
  removeIfEmpty(NETNS_SOCKET_ROOT);
  if (state?.madeNetnsDir && existsSync(NETNS_RUN_DIR) && readdirSync(NETNS_RUN_DIR).length === 0) {
    // The lab's first `ip netns add` made /run/netns, as a bind mount of itself (so namespaces
    // pinned there propagate); nothing else uses it now, so it goes too.
    if (isMountPoint(NETNS_RUN_DIR)) await run([UMOUNT, NETNS_RUN_DIR]);
    removeIfEmpty(NETNS_RUN_DIR);
    say(`removed ${NETNS_RUN_DIR}`);
  }
}

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Gone already.
  }
}

/** What `lab status` reports. */
export interface LabReport {
  namespaces: Record<string, boolean>;
  processes: (LabState['processes'][number] & { running: boolean })[];
  controlSocket: string | null;
  problem?: string;
}

export function labReport(): LabReport {
  const { state, problem } = readState();
  const present = existingNamespaces();
  return {
    namespaces: Object.fromEntries(Object.values(LAB_NAMES).map((n) => [n, present.includes(n)])),
    processes: (state?.processes ?? []).map((p) => ({ ...p, running: alive(p.pid, p.startTime) })),
    controlSocket: state?.controlSocket ?? null,
    problem,
  };
}
