// Points the host's resolver at our DNS64 stub and puts it back afterwards, through the undo
// journal (journal.ts) so a crash or kill -9 is repaired on the next start.
//
// With systemd-resolved running (its name has an owner on the system bus) we configure it over
// D-Bus (resolved-dbus.ts) on our own TUN link, undone by RevertLink; otherwise /etc/resolv.conf
// is rewritten with its old content journaled. The resolv.conf path is a parameter: inside
// `ip netns exec NS`, /etc/netns/NS/resolv.conf is what programs see, which is how the tests use it.
import {
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import type { Journal } from '../system/journal.js';
import { parseServer, type UpstreamServer } from './upstream.js';
import {
  ResolvedBus,
  ResolvedError,
  explain,
  formatDomains,
  ifindexOf,
  resolvedOnBus,
  type ResolvedDomain,
  type ResolvedServer,
} from './resolved-dbus.js';

export const RESOLV_CONF = '/etc/resolv.conf';
/** resolved's list of the servers it uses itself, for programs that bypass its stub. */
export const RESOLVED_UPSTREAM_CONF = '/run/systemd/resolve/resolv.conf';
/** systemd-resolved's own stub listener addresses: never an upstream of ours. */
const RESOLVED_STUBS = ['127.0.0.53', '127.0.0.54'];

/** Whether systemd-resolved is running: org.freedesktop.resolve1 has an owner on the system bus. */
export function resolvedRunning(): Promise<boolean> {
  return resolvedOnBus();
}

/** Nameserver addresses from resolv.conf text (RFC-less but universal format: `nameserver ADDR`). */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1].split('%')[0])) out.push(m[1]);
  }
  return out;
}

function readResolvConf(path: string): string[] {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/** Addresses to UpstreamServers without our own addresses, resolved's stub, or repeats. */
function toUpstreams(
  addrs: readonly { address: string; port: number }[],
  exclude: readonly string[] = [],
): UpstreamServer[] {
  const skip = new Set([...RESOLVED_STUBS, ...exclude]);
  const seen = new Set<string>();
  const out: UpstreamServer[] = [];
  for (const a of addrs) {
    const key = `${a.address}#${a.port}`;
    if (skip.has(a.address) || seen.has(key)) continue;
    seen.add(key);
    const u = parseServer(net.isIPv6(a.address.split('%')[0]) ? `[${a.address}]` : a.address, a.port);
    out.push(a.port === 53 ? u : { ...u, port: a.port });
  }
  return out;
}

/**
 * The machine's resolvers from files, synchronously: resolv.conf, and when that names only
 * resolved's stub, the servers resolved itself uses (/run/systemd/resolve/resolv.conf). For
 * callers that cannot wait; the engine's DNS64 uses learnUplinkResolvers (per link, over D-Bus).
 * Our own listen addresses (exclude) and resolved's stub are left out, so we never forward to
 * ourselves. useResolved: false skips resolved's file.
 */
export function learnResolvers(
  opts: { iface?: string; resolvConfPath?: string; exclude?: string[]; useResolved?: boolean } = {},
): UpstreamServer[] {
  let out = toUpstreams(
    readResolvConf(opts.resolvConfPath ?? RESOLV_CONF).map((address) => ({ address, port: 53 })),
    opts.exclude,
  );
  if (out.length === 0 && opts.useResolved !== false)
    out = toUpstreams(
      readResolvConf(RESOLVED_UPSTREAM_CONF).map((address) => ({ address, port: 53 })),
      opts.exclude,
    );
  return out;
}

export interface Learned {
  upstreams: UpstreamServer[];
  /** The uplink's domains in resolved (search and routing), for the log; [] from resolv.conf. */
  domains: ResolvedDomain[];
  /** Where the upstreams came from, in plain words. */
  source: string;
}

/** A server's address as the stub must dial it: link-local ones need the link's name as scope. */
function dialable(s: ResolvedServer, ifname: string): { address: string; port: number } {
  const linkLocal = s.family === 6 && /^fe[89ab]/i.test(s.address);
  return {
    address: linkLocal && !s.address.includes('%') ? `${s.address}%${ifname}` : s.address,
    port: s.port,
  };
}

/**
 * The uplink's resolvers as they are before we hook anything. With systemd-resolved running:
 * the uplink Link object's DNSEx (or DNS) and Domains over D-Bus, else resolved's global
 * servers; without it (or when resolved knows none): resolv.conf as learnResolvers reads it.
 */
export async function learnUplinkResolvers(opts: {
  iface: string;
  resolvConfPath?: string;
  exclude?: string[];
  /** Force or forbid systemd-resolved (default: ask the bus). */
  useResolved?: boolean;
}): Promise<Learned> {
  const useResolved = opts.useResolved ?? (await resolvedOnBus());
  if (useResolved) {
    const ifindex = ifindexOf(opts.iface);
    let bus: ResolvedBus;
    try {
      bus = await ResolvedBus.connect();
    } catch (err) {
      throw explain(err, `reading the DNS servers of ${opts.iface}`, opts.iface);
    }
    try {
      const link = await bus.linkConfig(ifindex);
      let upstreams = toUpstreams(
        link.servers.map((s) => dialable(s, opts.iface)),
        opts.exclude,
      );
      if (upstreams.length)
        return {
          upstreams,
          domains: link.domains,
          source: `systemd-resolved, link ${opts.iface} (ifindex ${ifindex})`,
        };
      upstreams = toUpstreams(
        (await bus.allServers()).filter((s) => s.ifindex === 0).map((s) => dialable(s, opts.iface)),
        opts.exclude,
      );
      if (upstreams.length)
        return { upstreams, domains: link.domains, source: 'systemd-resolved, global servers' };
    } catch (err) {
      throw explain(err, `reading the DNS servers of ${opts.iface}`, opts.iface);
    } finally {
      bus.close();
    }
  }
  const path = opts.resolvConfPath ?? RESOLV_CONF;
  return {
    upstreams: learnResolvers({ resolvConfPath: path, exclude: opts.exclude, useResolved }),
    domains: [],
    source: path,
  };
}

export interface HookOptions {
  journal: Journal;
  /** Address our stub listens on (port 53: resolv.conf cannot name another port). */
  address: string;
  /** Link to attach the DNS server to when systemd-resolved is used: the CLAT TUN. */
  iface?: string;
  /** The uplink, only read: to warn when it also claims every name ("~."). */
  uplink?: string;
  resolvConfPath?: string;
  /** Force or forbid systemd-resolved (default: ask the bus). */
  useResolved?: boolean;
  log?: (line: string) => void;
}

export interface Hooked {
  how: 'systemd-resolved' | 'resolv.conf';
  /** The journal entry's `what`, so a caller can undo this one first (journal.undoLast). */
  what: string;
}

/** The journal's undo program for the resolved hook (a D-Bus call cannot run synchronously). */
export const RESOLVED_UNDO = fileURLToPath(new URL('./resolved-undo.js', import.meta.url));

/**
 * Makes the host ask our stub. Every change is journaled before it is made; journal.undoAll()
 * (or Journal.recover after a crash) restores the previous state. A failure leaves nothing
 * changed (what was set is reverted at once) and says why.
 */
export async function hookSystemResolver(opts: HookOptions): Promise<Hooked> {
  const useResolved = opts.useResolved ?? (await resolvedOnBus());
  if (useResolved) return { how: 'systemd-resolved', what: await hookResolved(opts) };
  return { how: 'resolv.conf', what: hookResolvConf(opts) };
}

/**
 * systemd-resolved over D-Bus, on our own TUN link, not on the uplink. This is the "privacy VPN"
 * recipe of systemd's docs/RESOLVED-VPNS.md, which Tailscale and wg-quick follow too (CLATs
 * themselves, Android's clatd and NetworkManager's ipv4.clat, leave DNS to the network's DNS64,
 * so there is no CLAT precedent for a local stub):
 * - The routing domain "~." on our link matches every name with a suffix of zero labels, and
 *   resolved sends a query only to the links with the longest matching domain; links that are
 *   just default routes (the uplink) are asked only when no link's domain matches. So the
 *   uplink's servers stop being asked directly without touching the uplink, while names under
 *   the uplink's own search/routing domains (corp.example) still go to it, and its search list
 *   stays.
 * - The uplink's per-link settings belong to whoever manages it (NetworkManager pushes them over
 *   this same API and would overwrite ours at the next DHCP/RA update; RevertLink there would
 *   wipe its settings too; networkd's links refuse with LinkBusy).
 * - The TUN goes away with the engine, and resolved forgets a vanished link's settings, so even
 *   a crash with no recovery leaves nothing pointing at a dead stub.
 * Domains and default route go first, DNS last (RESOLVED-VPNS.md "Ordering": servers without
 * routing would take traffic before the routing is in place). LLMNR and mDNS are turned off on
 * our link: their multicast would only be dropped by the translator.
 */
async function hookResolved(opts: HookOptions): Promise<string> {
  const log = opts.log ?? (() => {});
  if (!opts.iface) throw new Error('systemd-resolved needs the link to attach our DNS server to');
  const iface = opts.iface;
  const ifindex = ifindexOf(iface);
  const what = `systemd-resolved: DNS ${opts.address} with routing domain ~. on ${iface} (ifindex ${ifindex})`;
  let bus: ResolvedBus;
  try {
    bus = await ResolvedBus.connect();
  } catch (err) {
    throw explain(err, `connecting to set DNS on ${iface}`, iface);
  }
  try {
    if (opts.uplink) await warnIfUplinkClaimsAll(bus, opts.uplink, log);
    const steps: [string, () => Promise<void>][] = [
      ['SetLinkDomains ~.', () => bus.setLinkDomains(ifindex, [{ name: '.', routeOnly: true }])],
      ['SetLinkDefaultRoute yes', () => bus.setLinkDefaultRoute(ifindex, true)],
      ['SetLinkLLMNR no', () => bus.setLinkLlmnr(ifindex, 'no')],
      ['SetLinkMulticastDNS no', () => bus.setLinkMulticastDns(ifindex, 'no')],
      [`SetLinkDNSEx ${opts.address}`, () => bus.setLinkDns(ifindex, [{ address: opts.address, port: 53 }])],
    ];
    const argv = [process.execPath, RESOLVED_UNDO, 'revert-link', String(ifindex), iface];
    // The bus this was done on, so recovery from another environment reverts on the same bus.
    if (process.env.DBUS_SYSTEM_BUS_ADDRESS) argv.push('--bus', process.env.DBUS_SYSTEM_BUS_ADDRESS);
    opts.journal.record(what, { kind: 'exec', argv });
    let done = 0;
    for (const [what, step] of steps) {
      try {
        await step();
        done++;
      } catch (err) {
        const e = explain(err, `${what} on ${iface} (ifindex ${ifindex})`, iface);
        const outcome = opts.journal.undoLast();
        const after =
          done === 0
            ? 'nothing was changed'
            : outcome?.ok
              ? `the ${done} setting(s) made before were reverted (RevertLink)`
              : `reverting the ${done} setting(s) made before failed too: ${outcome?.detail ?? 'no journal entry'}`;
        throw new ResolvedError(`${e.message}. DNS is left as it was: ${after}`, e.dbusName);
      }
    }
  } finally {
    bus.close();
  }
  log(
    `systemd-resolved: every DNS name now goes to ${opts.address} (the DNS64 stub) through ${iface} ` +
      `(ifindex ${ifindex}): routing domain ~., default route yes, LLMNR and mDNS off there` +
      `${opts.uplink ? `; ${opts.uplink} is not changed` : ''}. Stopping reverts it (RevertLink), journaled`,
  );
  return what;
}

/**
 * When the uplink has "~." too, both links match every name equally and resolved asks both,
 * taking the first positive answer: some AAAA answers then come unsynthesized from the network.
 * Not changed (see hookResolved for why the uplink is left alone); said, so a user can tell.
 */
async function warnIfUplinkClaimsAll(
  bus: ResolvedBus,
  uplink: string,
  log: (l: string) => void,
): Promise<void> {
  try {
    const cfg = await bus.linkConfig(ifindexOf(uplink));
    if (cfg.domains.some((d) => d.name === '.' && d.routeOnly))
      log(
        `note: ${uplink} has the routing domain ~. in systemd-resolved as well (domains: ${formatDomains(cfg.domains)}), so ` +
          `resolved asks its servers and the stub in parallel; names with only IPv4 addresses may then get no ` +
          `synthesized AAAA, and IPv4 apps still work through the CLAT`,
      );
  } catch {
    // Only a warning: an uplink resolved does not know has no domains to compete with.
  }
}

/** /etc/resolv.conf (or the given path) naming only the stub; the old file journaled. */
function hookResolvConf(opts: HookOptions): string {
  const log = opts.log ?? (() => {});
  const path = opts.resolvConfPath ?? RESOLV_CONF;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
  const isLink = existsSync(path) && lstatSync(path).isSymbolicLink();
  const keep = (old ?? '')
    .split('\n')
    .filter((l) => /^\s*(search|domain|options)\b/.test(l))
    .join('\n');
  const content = [
    '# Written by clatbar (DNS64 stub). The previous file comes back when clatbar stops.',
    `nameserver ${opts.address}`,
    keep,
    '',
  ]
    .filter((l, i, a) => l !== '' || i === a.length - 1)
    .join('\n');
  const write = (): void => {
    const tmp = join(dirname(path), `.resolv.conf.clatbar-${process.pid}`);
    writeFileSync(tmp, content, { mode: 0o644 });
    if (isLink) rmSync(path, { force: true });
    renameSync(tmp, path);
  };
  let what: string;
  if (isLink) {
    // A symlink (e.g. to resolved's stub file) is put back as the same symlink.
    const target = readlinkSync(path);
    what = `${path} -> nameserver ${opts.address} (was a link to ${target})`;
    opts.journal.apply(what, { kind: 'exec', argv: ['ln', '-sfn', target, path] }, write);
  } else {
    what = `${path} -> nameserver ${opts.address}`;
    opts.journal.apply(what, { kind: 'restore-file', path, content: old, mode: 0o644 }, write);
  }
  log(`${path} now names ${opts.address} as the only nameserver (the old file is journaled)`);
  return what;
}
