// The CLAT lab: an IPv6-only laptop behind a router that is the network's NAT64 (TAYGA), and an
// IPv4-only server, all in throwaway namespaces. The acceptance tests and bench/clat.ts both
// build on it, so what is measured is what is tested.
//
//   laptop (up0: SLAAC from RAs)  --  router (r0 2001:db8:1::1/64, NAT64 2001:db8:64::/96 via
//   tayga, dynamic pool 198.51.100.0/24; r1 203.0.113.1/24)  --  server (s0 203.0.113.10/24)
//
// The bench topology is smaller: laptop -- host, where the host owns 2001:db8:64::203.0.113.10
// itself, so only the laptop's CLAT translates.
import { writeFileSync, mkdtempSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab, sh } from './netns.js';

export const PREFIX = '2001:db8:64::/96';
export const LAN_PREFIX = '2001:db8:1::/64';
export const ROUTER_LL_GW = '2001:db8:1::1';
export const SERVER_V4 = '203.0.113.10';
export const SERVER_V6_MAPPED = '2001:db8:64::cb00:710a';
export const ROUTER_V4 = '203.0.113.1';

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

// A router advertisement sender, stdlib only: the kernel fills in the ICMPv6 checksum on raw
// ICMPv6 sockets. PIO 2001:db8:1::/64 (on-link, autonomous) and PREF64 options (RFC 8781) as
// the JSON config file says, re-read before every RA: {"interval": s, "pref64": [[prefix,
// length, lifetime s], ...], "raw": [hex option bytes, ...]}. It answers Router Solicitations (RFC 4861 §6.2.6) and SIGUSR1
// (a config change) with an RA at once.
const RA_SENDER = `
import json, select, signal, socket, struct, sys, time
ifname, conf = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())
PLC = {96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5}
class Poke(Exception): pass
def poke(*_): raise Poke()
signal.signal(signal.SIGUSR1, poke)
def send():
    c = json.load(open(conf))
    ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 600, 0, 0)
    pio = struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 3600, 1800, 0) + socket.inet_pton(socket.AF_INET6, '2001:db8:1::')
    opts = b''
    for prefix, length, lifetime in c.get('pref64', []):
        scaled = min(8191, (lifetime + 7) // 8)
        opts += struct.pack('!BBH', 38, 2, (scaled << 3) | PLC[length]) + socket.inet_pton(socket.AF_INET6, prefix)[:12]
    for raw in c.get('raw', []):
        opts += bytes.fromhex(raw)
    s.sendto(ra + pio + opts, ('ff02::1', 0, 0, idx))
    return float(c.get('interval', 1))
nxt = 0
while True:
    try:
        now = time.monotonic()
        if now >= nxt:
            nxt = now + send()
        r, _, _ = select.select([s], [], [], max(0, nxt - time.monotonic()))
        if r:
            data, addr = s.recvfrom(2048)
            if data and data[0] == 133:
                nxt = 0
    except Poke:
        nxt = 0
`;

/** What the lab's router announces: PREF64 options [prefix, lifetime s], and how often. */
export interface RaConfig {
  pref64: { prefix: string; lifetime: number }[];
  /** Seconds between unsolicited RAs. default 1 */
  interval?: number;
  /** More options as hex bytes, appended as they are (malformed ones included). */
  raw?: string[];
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

/** The acceptance topology: laptop -- router (NAT64 by tayga) -- IPv4-only server. */
export async function buildClatLab(tag = 'cl', opts: { ra?: RaConfig } = {}): Promise<ClatLab> {
  const lab = new Lab(tag);
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-lab-'));
  const wwwDir = join(dir, 'www');
  try {
    const laptop = lab.ns('laptop');
    const router = lab.ns('router');
    const server = lab.ns('server');
    lab.veth(laptop, 'up0', router, 'r0');
    lab.veth(router, 'r1', server, 's0');

    // Router: IPv6 towards the laptop (sends RAs), IPv4 towards the server, NAT64 in between.
    nsh(
      lab,
      router,
      'sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 net.ipv6.conf.r0.accept_dad=0',
    );
    lab.exec(router, 'ip', ['addr', 'add', '2001:db8:1::1/64', 'dev', 'r0', 'nodad']);
    lab.exec(router, 'ip', ['addr', 'add', `${ROUTER_V4}/24`, 'dev', 'r1']);
    const conf = join(dir, 'tayga.conf');
    writeFileSync(
      conf,
      [
        'tun-device nat64',
        'ipv4-addr 198.51.100.1',
        `prefix ${PREFIX}`,
        'dynamic-pool 198.51.100.0/24',
        `data-dir ${dir}`,
        '',
      ].join('\n'),
    );
    lab.exec(router, 'tayga', ['--mktun', '--config', conf]);
    lab.exec(router, 'ip', ['link', 'set', 'nat64', 'up']);
    lab.exec(router, 'ip', ['route', 'add', '198.51.100.0/24', 'dev', 'nat64']);
    lab.exec(router, 'ip', ['-6', 'route', 'add', PREFIX, 'dev', 'nat64']);
    const tayga = lab.spawn(router, 'tayga', ['-d', '--config', conf]);
    tayga.stdout?.resume();
    tayga.stderr?.resume();
    await waitFor(
      'the router link-local address',
      () =>
        nsh(lab, router, 'ip -6 addr show dev r0 scope link').includes('fe80::') &&
        !nsh(lab, router, 'ip -6 addr show dev r0').includes('tentative'),
    );
    const raConf = join(dir, 'ra.json');
    // Written aside and renamed over: the sender reads the file before every RA, and a half
    // written one would end it (json.load raising), silencing the router for the rest of a test.
    const writeRa = (cfg: RaConfig) => {
      writeFileSync(
        `${raConf}.new`,
        JSON.stringify({
          interval: cfg.interval ?? 1,
          pref64: cfg.pref64.map((p) => [p.prefix.split('/')[0], Number(p.prefix.split('/')[1]), p.lifetime]),
          raw: cfg.raw ?? [],
        }),
      );
      renameSync(`${raConf}.new`, raConf);
    };
    writeRa(opts.ra ?? { pref64: [{ prefix: PREFIX, lifetime: 600 }] });
    const ra = lab.spawn(router, '/usr/bin/python3', ['-c', RA_SENDER, 'r0', raConf]);
    ra.stdout?.resume();
    ra.stderr?.resume();
    const setRa = (cfg: RaConfig) => {
      writeRa(cfg);
      ra.kill('SIGUSR1');
    };

    // Server: IPv4 only.
    nsh(lab, server, 'sysctl -qw net.ipv6.conf.all.disable_ipv6=1');
    lab.exec(server, 'ip', ['addr', 'add', `${SERVER_V4}/24`, 'dev', 's0']);
    lab.exec(server, 'ip', ['route', 'add', 'default', 'via', ROUTER_V4]);

    // Laptop: IPv6 only, address and default route from the RAs (SLAAC), as on real Wi-Fi.
    await waitFor(
      'the laptop to take a SLAAC address and an RA default route',
      () =>
        /2001:db8:1:0:[0-9a-f:]+\/64 scope global dynamic/.test(
          nsh(lab, laptop, 'ip -6 addr show dev up0'),
        ) &&
        !nsh(lab, laptop, 'ip -6 addr show dev up0').includes('tentative') &&
        nsh(lab, laptop, 'ip -6 route show default').includes('proto ra'),
    );
    const cleanup = async () => {
      await lab.dispose();
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      lab,
      laptop,
      router,
      server,
      wwwDir,
      uplink: 'up0',
      tayga,
      raSender: ra,
      setRa,
      dispose: cleanup,
    };
  } catch (err) {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Servers on the IPv4-only host: HTTP on :80 (files in wwwDir), UDP echo on :7, sha256 of any TCP upload on :9000. */
export async function startServers(cl: ClatLab, files: Record<string, number> = {}): Promise<void> {
  const { lab, server, wwwDir } = cl;
  sh('mkdir', ['-p', wwwDir]);
  for (const [name, mb] of Object.entries(files))
    sh('dd', ['if=/dev/urandom', `of=${join(wwwDir, name)}`, 'bs=1M', `count=${mb}`, 'status=none']);
  for (const [cmd, args] of [
    ['/usr/bin/python3', ['-m', 'http.server', '80', '--bind', SERVER_V4, '--directory', wwwDir]],
    ['socat', [`UDP4-RECVFROM:7,bind=${SERVER_V4},fork`, 'PIPE']],
    ['socat', [`TCP4-LISTEN:9000,bind=${SERVER_V4},reuseaddr,fork`, 'SYSTEM:sha256sum']],
  ] as const) {
    const c = lab.spawn(server, cmd, [...args]);
    c.stdout?.resume();
    c.stderr?.resume();
  }
  await waitFor('the HTTP server', () => nsh(lab, server, 'ss -ltn').includes(`${SERVER_V4}:80`));
  await waitFor('the upload server', () => nsh(lab, server, 'ss -ltn').includes(`${SERVER_V4}:9000`));
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
  const address = opts.address ?? '2001:db8:1::1';
  const conf = join(dir, `unbound-${address.replace(/:/g, '_')}.conf`);
  writeFileSync(
    conf,
    [
      'server:',
      `  interface: ${address}`,
      '  access-control: ::/0 allow',
      '  do-daemonize: no',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  use-syslog: no',
      `  module-config: "${opts.dns64 ? 'dns64 iterator' : 'iterator'}"`,
      ...(opts.dns64 ? [`  dns64-prefix: ${opts.dns64}`] : []),
      '  local-zone: "example." static',
      `  local-data: "v4only.example. 300 IN A ${SERVER_V4}"`,
      ...(opts.tail ?? []),
      '',
    ].join('\n'),
  );
  const unbound = cl.lab.spawn(cl.router, 'unbound', ['-d', '-c', conf]);
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
 * `args`) on the laptop, with its own state dir and control socket, and waits until it says the
 * CLAT is up or exits. The caller kills it (or lets cl.dispose() do so with the namespace).
 */
export async function startClatbarRun(
  cl: ClatLab,
  opts: { args?: string[]; stateDir?: string } = {},
): Promise<ClatbarRun> {
  const stateDir = opts.stateDir ?? join(cl.wwwDir, '..', 'state');
  const sock = join(stateDir, 'engine.sock');
  const proc = cl.lab.spawn(cl.laptop, process.execPath, [
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
  ]);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await waitFor('the CLAT to come up', () => out.includes('CLAT is up') || proc.exitCode !== null, 30000);
  return { proc, stateDir, sock, log: () => out, exited };
}
