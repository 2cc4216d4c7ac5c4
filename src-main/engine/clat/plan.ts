// The checks before bring-up and the numbers bring-up will use, worked out without changing
// anything: so every refusal happens before the first change, and says what to do.
import { existsSync } from 'node:fs';
import { hasNetAdmin } from '../system/privilege.js';
import { defaultRoutes } from '../system/iproute.js';
import { findConflictingClats, tunOwner } from '../system/conflicts.js';
import { snapshotUplink, CheckFailed, type UplinkSnapshot } from '../net/uplink.js';
import { parsePrefix6, formatIPv6, parseIPv4, ipv4Bytes, type Prefix6 } from '../ip/address.js';
import { checkRfc6052Prefix, embedIPv4 } from '../ip/rfc6052.js';
import { clatIpv4Problem, inSubnet64 } from '../net/clat-address.js';
import type { Nat64Prefix } from '../discovery/monitor.js';
import { DEFAULT_CONTROL_SOCKET } from '../../shared/control.js';
import type { InboundMode } from './inbound-filter.js';
import { say, type Said } from '../../shared/say.js';

export { CheckFailed };

export interface ClatOptions {
  uplink: string;
  /**
   * NAT64 prefix text, e.g. 64:ff9b::/96 (--prefix). Absent: discovered on the uplink (PREF64,
   * then ipv4only.arpa; engine/discovery).
   */
  prefix?: string;
  /**
   * A prefix the caller already discovered (the daemon's supervisor, which keeps watching and
   * calls ClatEngine.followPrefix on changes): no discovery of the engine's own.
   */
  discovered?: Nat64Prefix;
  /**
   * The caller (the daemon) looked for other CLATs and weighed native IPv4 just before: checkHost
   * only checks the TUN name (not the same /proc scan twice between an RA and the first packet).
   */
  hostChecked?: boolean;
  /** Longest wait for discovery at start, ms (default 4000). */
  discoveryWaitMs?: number;
  /**
   * Aborted (a SIGINT, say) during the discovery wait: start() gives up at once with
   * StartAborted, nothing changed. Later, bring-up runs to its end and the caller stops it.
   */
  signal?: AbortSignal;
  clatIpv4: string;
  /** A fixed CLAT IPv6 address; generated in the uplink /64 when absent. */
  clatIpv6?: string;
  /** clatIpv6 passed DAD just before (the daemon's prepared address): not probed again. */
  clatIpv6Probed?: boolean;
  tun: string;
  /** IPv6 MTU to assume for the path; the uplink's when absent. */
  mtu?: number;
  dns64: 'off' | 'auto' | 'on';
  /**
   * deny (default when absent): only replies to this host's own flows come in through the CLAT
   * (clat/inbound-filter.ts); allow: unsolicited inbound IPv4 too (--inbound allow, or the
   * per-network opt-in).
   */
  inbound?: InboundMode;
  stateDir: string;
  controlSocket: string;
  force: boolean;
}

export const DEFAULTS = {
  clatIpv4: '192.0.0.4',
  tun: 'clat0',
  stateDir: '/run/clatbar',
  controlSocket: DEFAULT_CONTROL_SOCKET,
  dns64: 'off',
  inbound: 'deny',
  /**
   * Metric of our IPv4 default route. Higher loses, so any native default route (DHCP clients
   * use 0..20000) wins; 2^31-1 stays clear of tools that read the u32 as signed.
   */
  routeMetric: 2147483647,
} as const;

/** Bytes the IPv4 route MTU is below the IPv6 path MTU; see mtuDelta's comment in docs/clat.md. */
export const MTU_DELTA = 28;

export interface ClatPlan {
  opts: ClatOptions;
  prefix: Prefix6;
  uplink: UplinkSnapshot;
  /** MTU of the TUN and of the IPv6 side: the IPv6 path MTU. */
  ipv6Mtu: number;
  /** MTU of the IPv4 default route: ipv6Mtu - 28 (RFC 7915 §5.1.1: +20 header, +8 Fragment header). */
  ipv4Mtu: number;
}

/** An outcome of start that is not an error, with the log line that says so. */
class StartEnded extends Error {
  constructor(readonly said: Said) {
    super(said.text);
  }
}

/** "Not needed" is not an error: native IPv4 is better than any CLAT. */
export class NotNeeded extends StartEnded {}

/** opts.signal was aborted before anything was changed (during prefix discovery). */
export class StartAborted extends StartEnded {}

function checkPrivilege(): void {
  if (!hasNetAdmin())
    throw new CheckFailed(
      'changing the network needs root or CAP_NET_ADMIN',
      'run it with sudo, or from the systemd unit (it grants CAP_NET_ADMIN)',
    );
}

function checkClatIpv4(opts: ClatOptions): void {
  // RFC 7335: a CLAT's IPv4 address comes from 192.0.0.0/29. Anything else may be a real
  // network's address, and hides this CLAT from the other-CLAT check of the next one.
  const problem = clatIpv4Problem(opts.clatIpv4);
  if (problem)
    throw new CheckFailed(
      `--clat-ipv4 ${problem}`,
      'pick a host address of 192.0.0.0/29 (RFC 7335), e.g. --clat-ipv4 192.0.0.4',
    );
}

/** TUN name free, no other CLAT, no native IPv4 (NotNeeded unless --force). */
async function checkHost(opts: ClatOptions): Promise<void> {
  if (existsSync(`/sys/class/net/${opts.tun}`)) {
    // A process holding it open is alive: --cleanup cannot help, and deleting it would pull a
    // running CLAT's device out from under it.
    const owner = tunOwner(opts.tun);
    if (owner?.clatbar)
      throw new CheckFailed(
        `clatbar is already running a CLAT on ${opts.tun}: pid ${owner.pid}, \`${owner.command}\``,
        `stop it first (Ctrl-C in its terminal, or kill ${owner.pid}; it puts the network back as it stops), or pick another --tun name`,
      );
    if (owner)
      throw new CheckFailed(
        `an interface named ${opts.tun} already exists, held open by pid ${owner.pid} (\`${owner.command}\`)`,
        `pick another --tun name, or stop that program (kill ${owner.pid})`,
      );
    throw new CheckFailed(
      `an interface named ${opts.tun} already exists`,
      `if it is left from an earlier clatbar, run \`clatbar run --cleanup\`; otherwise pick another --tun name`,
    );
  }
  if (opts.hostChecked) return;
  // Before the native-IPv4 check: another CLAT's default route is not native IPv4.
  const found = await findConflictingClats(opts.tun);
  const conflicts = found.filter((c) => !c.couldNotCheck);
  if (conflicts.length > 0)
    throw new CheckFailed(
      `another CLAT is already active: ${conflicts.map((c) => c.what).join('; ')}`,
      conflicts.map((c) => c.fix).join('; '),
    );
  // Two CLATs stacked must never happen, so a check that could not run stops the start too.
  if (found.length > 0)
    throw new CheckFailed(found.map((c) => c.what).join('; '), found.map((c) => c.fix).join('; '));
  const native = (await defaultRoutes(4)).filter((r) => r.dev !== opts.tun);
  if (native.length > 0 && !opts.force)
    throw new NotNeeded(say('clat.not-needed', { via: native[0].gateway ?? native[0].dev ?? '?' }));
}

/**
 * The checks that need no NAT64 prefix, run before discovery waits for one: a host that cannot
 * or need not run a CLAT hears so at once, not after seconds of listening for RAs.
 */
export async function checkBeforeDiscovery(opts: ClatOptions): Promise<void> {
  checkPrivilege();
  checkClatIpv4(opts);
  await snapshotUplink(opts.uplink);
  await checkHost(opts);
}

/**
 * Every check, in order: privilege, prefix, uplink, TUN name, other CLATs, native IPv4.
 * Throws CheckFailed (with a fix) or NotNeeded. opts.prefix must be set by now (given, or
 * discovered).
 */
export async function planClat(opts: ClatOptions): Promise<ClatPlan> {
  checkPrivilege();
  if (!opts.prefix) throw new CheckFailed('no NAT64 prefix', 'pass --prefix, e.g. --prefix 64:ff9b::/96');
  let prefix: Prefix6;
  try {
    prefix = parsePrefix6(opts.prefix);
  } catch (err) {
    throw new CheckFailed(
      (err as Error).message,
      'pass --prefix as ADDRESS/LENGTH, e.g. --prefix 64:ff9b::/96',
    );
  }
  const problem = checkRfc6052Prefix(prefix)?.message;
  if (problem)
    throw new CheckFailed(
      `the NAT64 prefix ${opts.prefix} is not usable: ${problem}`,
      'ask the network for its prefix (it is in router advertisements as PREF64, or: dig AAAA ipv4only.arpa), or leave --prefix out to have it discovered',
    );
  checkClatIpv4(opts);
  const towards = formatIPv6(embedIPv4(prefix, ipv4Bytes(parseIPv4('192.0.2.1'))));
  const uplink = await snapshotUplink(opts.uplink, towards);
  if (opts.clatIpv6 && !inSubnet64(opts.clatIpv6, uplink.subnet64))
    throw new CheckFailed(
      `--clat-ipv6 ${opts.clatIpv6} is not inside the uplink's ${uplink.subnet64}`,
      'pick an address from that /64 (proxy-ND only answers on the uplink link), or omit it to get a random one',
    );
  await checkHost(opts);
  const ipv6Mtu = Math.min(opts.mtu ?? uplink.pathMtu, uplink.mtu);
  if (ipv6Mtu < 1280)
    throw new CheckFailed(
      `IPv6 MTU ${ipv6Mtu} is below the IPv6 minimum 1280 (RFC 8200 §5)`,
      'pass --mtu 1280 or more',
    );
  return { opts, prefix, uplink, ipv6Mtu, ipv4Mtu: ipv6Mtu - MTU_DELTA };
}
