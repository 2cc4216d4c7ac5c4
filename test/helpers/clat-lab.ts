// The CLAT lab for the test suites: the product's lab network (src-main/engine/lab, what
// `clatbar lab up` builds) in throwaway namespaces whose names carry this process's pid, so
// parallel runs never collide, all removed by dispose() (from t.after). The acceptance tests and
// bench/clat.ts build on it, so what is measured is what is tested and what a user sees.
//
//   laptop (up0: SLAAC from RAs)  --  router (r0 2001:db8:1::1/64, NAT64 2001:db8:64::/96 via
//   tayga, dynamic pool 198.51.100.0/24; r1 203.0.113.1/24)  --  server (s0 203.0.113.10/24)
//
// The bench topology is smaller: laptop -- host, where the host owns 2001:db8:64::203.0.113.10
// itself, so only the laptop's CLAT translates.
import { writeFileSync, mkdtempSync, rmSync, mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab, sh } from './netns.js';
import { LAB_NET } from '../../src-main/engine/lab/topology.js';
import { buildLabNetwork, type LabHost } from '../../src-main/engine/lab/network.js';
import { writeRaConfig, type RaConfig } from '../../src-main/engine/lab/ra-sender.js';
import { UNBOUND, writeResolverConfig } from '../../src-main/engine/lab/resolver.js';
import { HTTP_PORT, UPLOAD_PORT } from '../../src-main/engine/lab/servers.js';

export type { RaConfig };
export const PREFIX = LAB_NET.nat64Prefix;
export const LAN_PREFIX = LAB_NET.lanPrefix;
export const ROUTER_LL_GW = LAB_NET.routerLan;
export const SERVER_V4 = LAB_NET.serverV4;
export const SERVER_V6_MAPPED = LAB_NET.serverViaNat64;
export const ROUTER_V4 = LAB_NET.routerV4;

/** Waits (polling, without any timing assertion) until probe() returns true or ms pass. */
export async function waitFor(what: string, probe: () => boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (probe()) return;
    } catch {
      // Not there yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface ClatLab {
  lab: Lab;
  laptop: string;
  router: string;
  server: string;
  /** Directory the server serves over HTTP; holds the generated files. */
  wwwDir: string;
  uplink: string;
  tayga: ChildProcess;
  /** The router's RA sender. */
  raSender: ChildProcess;
  /** Changes what the router announces; an RA with it goes out at once. */
  setRa(cfg: RaConfig): void;
  dispose(): Promise<void>;
}

/** Runs a shell command line inside a namespace. */
export function nsh(lab: Lab, ns: string, line: string, allowFail = false): string {
  return lab.exec(ns, 'sh', ['-c', line], { allowFail });
}

/** The product's lab build on a test Lab: pid-tagged names, children killed by dispose(). */
function testHost(lab: Lab): LabHost<ChildProcess> {
  return {
    addNamespace: async (role) => lab.ns(role),
    exec: async (ns, argv) => lab.exec(ns, argv[0], argv.slice(1)),
    veth: async (a, aIf, b, bIf) => lab.veth(a, aIf, b, bIf),
    spawn: async (ns, argv) => {
      const child = lab.spawn(ns, argv[0], argv.slice(1));
      child.stdout?.resume();
      child.stderr?.resume();
      return child;
    },
  };
}

/** The acceptance topology: laptop -- router (NAT64 by tayga) -- IPv4-only server. */
export async function buildClatLab(tag = 'cl', opts: { ra?: RaConfig } = {}): Promise<ClatLab> {
  const lab = new Lab(tag);
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-lab-'));
  const wwwDir = join(dir, 'www');
  try {
    const net = await buildLabNetwork(testHost(lab), dir, opts);
    const setRa = (cfg: RaConfig) => {
      writeRaConfig(net.raConfig, cfg);
      net.raSender.kill('SIGUSR1');
    };
    const cleanup = async () => {
      await lab.dispose();
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      lab,
      ...net.names,
      wwwDir,
      uplink: LAB_NET.laptopIf,
      tayga: net.tayga,
      raSender: net.raSender,
      setRa,
      dispose: cleanup,
    };
  } catch (err) {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The lab server (`clatbar lab serve`) on the IPv4-only host: HTTP on :80 (the page, generated
 * downloads and the files of wwwDir, here filled with `files`: name -> MiB of random bytes), UDP
 * echo on :7, the sha256 of any TCP upload on :9000.
 */
export async function startServers(cl: ClatLab, files: Record<string, number> = {}): Promise<void> {
  const { lab, server, wwwDir } = cl;
  sh('mkdir', ['-p', wwwDir]);
  for (const [name, mb] of Object.entries(files))
    sh('dd', ['if=/dev/urandom', `of=${join(wwwDir, name)}`, 'bs=1M', `count=${mb}`, 'status=none']);
  const c = lab.spawn(server, process.execPath, [CLATBAR, 'lab', 'serve', '--www', wwwDir]);
  c.stdout?.resume();
  c.stderr?.resume();
  await waitFor('the HTTP server', () => nsh(lab, server, 'ss -ltn').includes(`${SERVER_V4}:${HTTP_PORT}`));
  await waitFor('the upload server', () =>
    nsh(lab, server, 'ss -ltn').includes(`${SERVER_V4}:${UPLOAD_PORT}`),
  );
}

/**
 * The network's resolver on the router (default 2001:db8:1::1): plain DNS unless `dns64` gives a
 * prefix for Unbound's dns64 module, with one name that has only an A record (v4only.example,
 * 203.0.113.10). `tail` lines go after the server: clause. Its config goes in dir.
 */
export async function startRouterResolver(
  cl: ClatLab,
  dir: string,
  opts: { address?: string; dns64?: string | null; tail?: string[] } = {},
): Promise<ChildProcess> {
  const address = opts.address ?? LAB_NET.routerLan;
  const conf = writeResolverConfig(dir, {
    address,
    dns64: opts.dns64,
    labZones: false,
    tail: [
      '  local-zone: "example." static',
      `  local-data: "v4only.example. 300 IN A ${SERVER_V4}"`,
      ...(opts.tail ?? []),
    ],
  });
  const unbound = cl.lab.spawn(cl.router, UNBOUND, ['-d', '-c', conf]);
  unbound.stdout?.resume();
  unbound.stderr?.resume();
  await waitFor(`unbound on ${address}`, () => nsh(cl.lab, cl.router, 'ss -lun').includes(`[${address}]:53`));
  return unbound;
}

/**
 * Unbound on the router at `address` serving ipv4only.arpa's zone to itself; with dns64 set it
 * synthesizes with that prefix (and so answers ipv4only.arpa, RFC 7050). Resolves once it listens.
 */
export async function startIpv4OnlyArpaResolver(
  cl: ClatLab,
  dir: string,
  address: string,
  dns64: string | null,
): Promise<ChildProcess> {
  // ipv4only.arpa's real zone (RFC 7050 §8.2: A 192.0.0.170 and .171), served to Unbound's own
  // iterator so its dns64 module synthesizes from it as from any A record. Unbound has no
  // built-in ipv4only.arpa, and the lab has no internet to fetch it from.
  const zone = join(dir, 'ipv4only.arpa.zone');
  writeFileSync(
    zone,
    [
      '$ORIGIN ipv4only.arpa.',
      '@ 3600 IN SOA ns.ipv4only.arpa. hostmaster.ipv4only.arpa. 1 3600 600 86400 3600',
      '@ 3600 IN NS ns.ipv4only.arpa.',
      '@ 3600 IN A 192.0.0.170',
      '@ 3600 IN A 192.0.0.171',
      '',
    ].join('\n'),
  );
  return startRouterResolver(cl, dir, {
    address,
    dns64,
    tail: [
      'auth-zone:',
      '  name: "ipv4only.arpa."',
      `  zonefile: "${zone}"`,
      '  for-upstream: yes',
      '  for-downstream: no',
    ],
  });
}

/**
 * Sets TAYGA up as a CLAT on the laptop, the way clatd does: a TUN with 192.0.0.1/29, a
 * default route into it, the CLAT IPv6 address proxied on the uplink and routed into the TUN.
 * Returns the child; its TUN and routes go with the namespace.
 */
export function taygaClat(
  lab: Lab,
  ns: string,
  opts: { uplink: string; clatV6: string; dir: string; tun?: string; mtu?: number },
): ChildProcess {
  const tun = opts.tun ?? 'tayclat';
  const conf = join(opts.dir, `${tun}.conf`);
  writeFileSync(
    conf,
    [`tun-device ${tun}`, 'ipv4-addr 192.0.0.2', `prefix ${PREFIX}`, `map 192.0.0.1 ${opts.clatV6}`, ''].join(
      '\n',
    ),
  );
  nsh(
    lab,
    ns,
    [
      `sysctl -qw net.ipv6.conf.${opts.uplink}.accept_ra=2 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.${opts.uplink}.proxy_ndp=1`,
      `tayga --mktun --config ${conf}`,
      `ip link set ${tun} up mtu ${opts.mtu ?? 1500}`,
      `ip addr add 192.0.0.1/29 dev ${tun}`,
      `ip route add default dev ${tun} mtu ${(opts.mtu ?? 1500) - 20}`,
      `ip -6 route add ${opts.clatV6}/128 dev ${tun}`,
      `ip -6 neigh add proxy ${opts.clatV6} dev ${opts.uplink}`,
    ].join(' && '),
  );
  const child = lab.spawn(ns, 'tayga', ['-d', '--config', conf]);
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/**
 * Everything bring-up may touch in a namespace, normalised so that only real differences show:
 * links, addresses, routes (all tables, both families), rules, proxy neighbours, net.* sysctls.
 * Counters and lifetimes that tick by themselves are dropped.
 */
export function hostState(lab: Lab, ns: string): Record<string, unknown> {
  const json = (args: string[]): unknown[] => {
    const out = lab.exec(ns, 'ip', ['-j', ...args]).trim();
    return out ? (JSON.parse(out) as unknown[]) : [];
  };
  const scrub = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(scrub);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (
          ['expires', 'valid_life_time', 'preferred_life_time', 'stats64', 'ifindex', 'link_index'].includes(
            k,
          )
        )
          continue;
        o[k] = scrub(x);
      }
      return o;
    }
    return v;
  };
  const sysctls = lab
    .exec(ns, 'sysctl', ['-a'], { allowFail: true })
    .split('\n')
    .filter((l) => /^net\.ipv[46]\.(conf|neigh)\./.test(l) || /^net\.ipv4\.ip_forward/.test(l))
    .filter((l) => !/stable_secret|base_reachable_time|gc_stale/.test(l))
    .sort();
  return {
    links: scrub(json(['link', 'show'])),
    addresses: scrub(json(['addr', 'show'])),
    routes4: scrub(json(['-4', 'route', 'show', 'table', 'all'])),
    routes6: scrub(json(['-6', 'route', 'show', 'table', 'all'])),
    rules4: json(['-4', 'rule', 'show']),
    rules6: json(['-6', 'rule', 'show']),
    proxyNeighbours: json(['-6', 'neigh', 'show', 'proxy']),
    sysctls,
  };
}

/** The repository's bin/clatbar. */
export const CLATBAR = new URL('../../../bin/clatbar', import.meta.url).pathname;

/** `clatbar run` started on a lab's laptop, with what it printed so far. */
export interface ClatbarRun {
  proc: ChildProcess;
  stateDir: string;
  sock: string;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** Its exit code once it exits (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts `clatbar run --uplink <laptop's uplink> --prefix <the lab's NAT64 prefix>` (plus
 * `args`) on the laptop, with its own state dir and control socket, and waits until its output
 * matches `until` (default: it says the CLAT is up) or it exits. `privateEtc` is privateEtc()'s
 * shell prefix, for an engine that hooks the resolver. The caller kills it (or lets
 * cl.dispose() do so with the namespace).
 */
export async function startClatbarRun(
  cl: ClatLab,
  opts: { args?: string[]; stateDir?: string; privateEtc?: string; until?: RegExp } = {},
): Promise<ClatbarRun> {
  const stateDir = opts.stateDir ?? join(cl.wwwDir, '..', 'state');
  const sock = join(stateDir, 'engine.sock');
  const argv = [
    CLATBAR,
    'run',
    '--uplink',
    cl.uplink,
    '--prefix',
    PREFIX,
    '--state-dir',
    stateDir,
    '--control-socket',
    sock,
    ...(opts.args ?? []),
  ];
  return spawnClatbar(cl, argv, {
    stateDir,
    sock,
    privateEtc: opts.privateEtc,
    until: opts.until ?? /CLAT is up/,
  });
}

/** `clatbar ARGV` on the laptop, its output kept, resolved once the output matches `until` or it exits. */
async function spawnClatbar(
  cl: ClatLab,
  argv: string[],
  o: { stateDir: string; sock: string; privateEtc?: string; until: RegExp },
): Promise<ClatbarRun> {
  const proc = o.privateEtc
    ? cl.lab.spawn(cl.laptop, 'sh', ['-c', `${o.privateEtc} ${process.execPath} ${argv.join(' ')}`])
    : cl.lab.spawn(cl.laptop, process.execPath, argv);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await waitFor(`clatbar run to say ${o.until}`, () => o.until.test(out) || proc.exitCode !== null, 30000);
  return { proc, stateDir: o.stateDir, sock: o.sock, log: () => out, exited };
}

/**
 * `clatbar run` in daemon mode (no --uplink: what the installed service runs) on the laptop, its
 * state, data (the user's per-network policies) and admin file under `dir`, so a second start
 * with the same dir is the same daemon restarted. Resolves once its control socket is announced.
 */
export async function startClatbarDaemon(
  cl: ClatLab,
  dir: string,
  args: string[] = [],
): Promise<ClatbarRun & { dataDir: string }> {
  const stateDir = join(dir, 'state');
  const sock = join(stateDir, 'engine.sock');
  const dataDir = join(dir, 'data');
  const argv = [
    CLATBAR,
    'run',
    '--state-dir',
    stateDir,
    '--control-socket',
    sock,
    '--data-dir',
    dataDir,
    '--admin-policy',
    join(dir, 'admin-policy.json'),
    ...args,
  ];
  const run = await spawnClatbar(cl, argv, { stateDir, sock, until: /status: clatbar status/ });
  return { ...run, dataDir };
}

/**
 * A private copy of /etc for an engine that hooks the resolver (--dns64), with `resolvConf` as
 * its resolv.conf. Returns the directory and the shell prefix that bind-mounts it over /etc in
 * the command's own mount namespace (`ip netns exec` makes one per run) and then execs the
 * command. Everything that replays the engine's journal (`run --cleanup` too) must run behind
 * the same prefix: outside it "/etc/resolv.conf" is the machine's own.
 */
export function privateEtc(dir: string, resolvConf: string): { etc: string; prefix: string } {
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  for (const f of ['hosts', 'nsswitch.conf', 'passwd', 'group'])
    if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
  writeFileSync(join(etc, 'resolv.conf'), resolvConf);
  return { etc, prefix: `mount --bind ${etc} /etc && exec` };
}

/** The hops `traceroute -n` from ns to target lists (one probe each, 8 hops at most). */
export function tracerouteHops(lab: Lab, ns: string, target: string): { hops: string[]; text: string } {
  const text = nsh(lab, ns, `timeout 60 traceroute -n -q 1 -w 2 -m 8 ${target}`);
  const hops = text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[1])
    .filter(Boolean);
  return { hops, text };
}
