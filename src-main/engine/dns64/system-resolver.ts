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
import { DBusError } from 'dbus-next';
import type { Journal } from '../system/journal.js';
import { parseServer, type UpstreamServer } from '../dns/upstream.js';
import {
  ResolvedBus,
  ResolvedError,
  explain,
  formatDomains,
  ifindexOf,
  systemBusAddress,
  resolvedOnBus,
  type LinkDnsConfig,
  type ResolvedDomain,
  type ResolvedServer,
} from './resolved-dbus.js';
import { say, sayNothing, type Say } from '../../shared/say.js';

export const RESOLV_CONF = '/etc/resolv.conf';
/** resolved's list of the servers it uses itself, for programs that bypass its stub. */
export const RESOLVED_UPSTREAM_CONF = '/run/systemd/resolve/resolv.conf';
/** systemd-resolved's own stub listener addresses: never an upstream of ours. */
const RESOLVED_STUBS = ['127.0.0.53', '127.0.0.54'];

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
  opts: { resolvConfPath?: string; exclude?: string[]; useResolved?: boolean } = {},
): UpstreamServer[] {
  const fromFile = (path: string) =>
    toUpstreams(
      readResolvConf(path).map((address) => ({ address, port: 53 })),
      opts.exclude,
    );
  const out = fromFile(opts.resolvConfPath ?? RESOLV_CONF);
  return out.length === 0 && opts.useResolved !== false ? fromFile(RESOLVED_UPSTREAM_CONF) : out;
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
    const ifindex = await ifindexOf(opts.iface);
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
  log?: Say;
}

export interface Hooked {
  how: 'systemd-resolved' | 'resolv.conf';
  /** The journal entry's `what`, so a caller can undo this one on its own (journal.undoEntry). */
  what: string;
  /**
   * Stops watching resolved (systemd-resolved only: our settings are put back when another
   * program resets them). Call before undoing, or the watch would put them back.
   */
  close(): void;
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
  if (useResolved) return { how: 'systemd-resolved', ...(await hookResolved(opts)) };
  return { how: 'resolv.conf', what: await hookResolvConf(opts), close: () => {} };
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
 * our link: their multicast would only be dropped by the translator. DNSSEC and DNS-over-TLS
 * too: the stub's synthesized answers cannot validate, and it speaks plain DNS only.
 */
async function hookResolved(opts: HookOptions): Promise<{ what: string; close: () => void }> {
  const log = opts.log ?? sayNothing;
  if (!opts.iface) throw new Error('systemd-resolved needs the link to attach our DNS server to');
  const iface = opts.iface;
  const ifindex = await ifindexOf(iface);
  const what = `systemd-resolved: DNS ${opts.address} with routing domain ~. on ${iface} (ifindex ${ifindex})`;
  let bus: ResolvedBus;
  try {
    bus = await ResolvedBus.connect();
  } catch (err) {
    throw explain(err, `connecting to set DNS on ${iface}`, iface);
  }
  try {
    if (opts.uplink) await warnIfUplinkClaimsAll(bus, opts.uplink, log);
    const argv = [process.execPath, RESOLVED_UNDO, 'revert-link', String(ifindex), iface];
    // The bus this was done on, so recovery from another environment reverts on the same bus.
    if (process.env.DBUS_SYSTEM_BUS_ADDRESS) argv.push('--bus', systemBusAddress());
    opts.journal.record(what, { kind: 'exec', argv });
    try {
      await applyOurLink(bus, ifindex, opts.address);
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      const failed = err;
      const e = explain(failed.cause, `${failed.step} on ${iface} (ifindex ${ifindex})`, iface);
      const outcome = await opts.journal.undoLast();
      const after =
        failed.done === 0
          ? 'nothing was changed'
          : outcome?.ok
            ? `the ${failed.done} setting(s) made before were reverted (RevertLink)`
            : `reverting the ${failed.done} setting(s) made before failed too: ${outcome?.detail ?? 'no journal entry'}`;
      throw new ResolvedError(`${e.message}. DNS is left as it was: ${after}`, e.dbusName);
    }
  } catch (err) {
    bus.close();
    throw err;
  }
  // From here on our settings are in place (and journaled): a watch that cannot be set up costs
  // the watch, not the hook. Failing here would leave resolved sending every name to a stub the
  // caller then stops, until the engine's stop reverted it.
  const keeper = new ResolvedKeeper(bus, ifindex, iface, opts.address, log);
  try {
    await bus.onResolvedChange((why) => keeper.trigger(why));
    // A reset between our last call and the subscription would otherwise go unseen.
    keeper.trigger('while subscribing');
  } catch (err) {
    keeper.close();
    log(
      say('resolved.unwatched', {
        iface,
        error: explain(err, 'subscribing to its signals', iface).message,
      }),
    );
  }
  log(
    opts.uplink
      ? say('resolved.hooked-uplink-kept', { address: opts.address, iface, ifindex, uplink: opts.uplink })
      : say('resolved.hooked', { address: opts.address, iface, ifindex }),
  );
  return { what, close: () => keeper.close() };
}

/** Which call of applyOurLink failed, after how many succeeded. */
class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly done: number,
    override readonly cause: unknown,
  ) {
    super(`${step} failed`);
  }
}

/**
 * Our settings on our link, in the order RESOLVED-VPNS.md asks for. Rejects with a StepFailed
 * (which call, how many succeeded before it).
 */
async function applyOurLink(bus: ResolvedBus, ifindex: number, address: string): Promise<void> {
  const steps: [string, () => Promise<void>][] = [
    ['SetLinkDomains ~.', () => bus.setLinkDomains(ifindex, [{ name: '.', routeOnly: true }])],
    ['SetLinkDefaultRoute yes', () => bus.setLinkDefaultRoute(ifindex, true)],
    ['SetLinkLLMNR no', () => bus.setLinkLlmnr(ifindex, 'no')],
    ['SetLinkMulticastDNS no', () => bus.setLinkMulticastDns(ifindex, 'no')],
    // The stub's synthesized AAAA records carry no signatures: a resolved that validates
    // (DNSSEC=yes, or allow-downgrade in a signed zone) would call them bogus and answer SERVFAIL
    // for every IPv4-only name in a signed zone (RFC 6147 §5.5: the validator must then be the
    // DNS64's, not downstream of it). The stub validates nothing itself and never sets AD.
    ['SetLinkDNSSEC no', () => bus.setLinkDnssec(ifindex, 'no')],
    // The stub speaks plain DNS on port 53 only: with a global DNSOverTLS=yes, resolved would
    // otherwise try TLS to it and every name would fail.
    ['SetLinkDNSOverTLS no', () => optional(bus.setLinkDnsOverTls(ifindex, 'no'))],
    [`SetLinkDNSEx ${address}`, () => bus.setLinkDns(ifindex, [{ address, port: 53 }])],
  ];
  let done = 0;
  for (const [step, run] of steps) {
    try {
      await run();
    } catch (cause) {
      throw new StepFailed(step, done, cause);
    }
    done++;
  }
}

/** A call an older resolved may not have (UnknownMethod): without it there is nothing to set. */
async function optional(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof DBusError) || err.type !== 'org.freedesktop.DBus.Error.UnknownMethod') throw err;
  }
}

/** How many times within REAPPLY_WINDOW_MS the keeper puts our settings back before it gives up. */
const REAPPLY_LIMIT = 5;
const REAPPLY_WINDOW_MS = 60_000;

/**
 * Keeps our link's settings while the stub runs. Other programs reset per-link settings of links
 * they do not own: NetworkManager does so for externally created TUN devices when networks change
 * (reported against OpenVPN's update-systemd-resolved and TUN-based proxies), after which resolved
 * would send every name to the uplink again, unsynthesized. So on every change resolved announces
 * (and when resolved restarts) we read our link back, and put our settings back if they are gone,
 * saying so. No new journal entry is needed: the one RevertLink undoes it all. If something keeps
 * resetting them, we stop after REAPPLY_LIMIT times a minute rather than fight it.
 */
class ResolvedKeeper {
  private closed = false;
  private running = false;
  private pending: string | null = null;
  private readonly reapplied: number[] = [];

  constructor(
    private readonly bus: ResolvedBus,
    private readonly ifindex: number,
    private readonly iface: string,
    private readonly address: string,
    private readonly log: Say,
  ) {}

  trigger(why: string): void {
    if (this.closed) return;
    this.pending = why;
    if (this.running) return;
    this.running = true;
    void this.run().finally(() => (this.running = false));
  }

  private ours(cfg: LinkDnsConfig): boolean {
    return (
      cfg.servers.some((s) => s.address === this.address && s.port === 53) &&
      cfg.domains.some((d) => d.name === '.' && d.routeOnly) &&
      cfg.defaultRoute !== false
    );
  }

  private async run(): Promise<void> {
    while (this.pending !== null && !this.closed) {
      const why = this.pending;
      this.pending = null;
      try {
        if (this.ours(await this.bus.linkConfig(this.ifindex))) continue;
        if (this.closed) return;
        const now = Date.now();
        while (this.reapplied.length && now - this.reapplied[0] > REAPPLY_WINDOW_MS) this.reapplied.shift();
        if (this.reapplied.length >= REAPPLY_LIMIT) {
          this.log(say('resolved.given-up', { iface: this.iface, times: REAPPLY_LIMIT }));
          this.close();
          return;
        }
        this.reapplied.push(now);
        await applyOurLink(this.bus, this.ifindex, this.address);
        this.log(say('resolved.reapplied', { iface: this.iface, why, address: this.address }));
      } catch (err) {
        if (this.closed) return;
        const cause = err instanceof StepFailed ? err.cause : err;
        const e = explain(cause, `checking our settings on ${this.iface}`, this.iface);
        // The link going away (the engine stopping) ends the watch quietly.
        if (e.dbusName === 'org.freedesktop.resolve1.NoSuchLink') return;
        this.log(say('resolved.check-failed', { error: e.message }));
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bus.close();
  }
}

/**
 * When the uplink has "~." too, both links match every name equally and resolved asks both,
 * taking the first positive answer: some AAAA answers then come unsynthesized from the network.
 * Not changed (see hookResolved for why the uplink is left alone); said, so a user can tell.
 */
async function warnIfUplinkClaimsAll(bus: ResolvedBus, uplink: string, log: Say): Promise<void> {
  try {
    const cfg = await bus.linkConfig(await ifindexOf(uplink));
    if (cfg.domains.some((d) => d.name === '.' && d.routeOnly))
      log(say('resolved.uplink-claims-all', { uplink, domains: formatDomains(cfg.domains) }));
  } catch {
    // Only a warning: an uplink resolved does not know has no domains to compete with.
  }
}

/** /etc/resolv.conf (or the given path) naming only the stub; the old file journaled. */
async function hookResolvConf(opts: HookOptions): Promise<string> {
  const log = opts.log ?? sayNothing;
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
    await opts.journal.apply(what, { kind: 'exec', argv: ['ln', '-sfn', target, path] }, write);
  } else {
    what = `${path} -> nameserver ${opts.address}`;
    await opts.journal.apply(what, { kind: 'restore-file', path, content: old, mode: 0o644 }, write);
  }
  log(say('resolvconf.hooked', { path, address: opts.address }));
  return what;
}
