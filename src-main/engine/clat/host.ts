// The host side of bring-up: sysctls, addresses, routes and proxy-ND, each journaled before it
// is made (system/journal.ts), in an order that never leaves the uplink without its SLAAC
// address or default route, even for a moment.
import { existsSync, writeFileSync } from 'node:fs';
import type { Journal } from '../system/journal.js';
import { readSysctl, ifSysctl } from '../system/iproute.js';
import { DEFAULTS, type ClatPlan } from './plan.js';
import { CommandError, execOut } from '../system/exec.js';
import { say, type Say } from '../../shared/say.js';

export interface HostSetup {
  /** How forwarding was turned on, for the status and the docs' wording. */
  forwarding: 'per-interface (force_forwarding)' | 'global (net.ipv6.conf.all.forwarding)';
}

/** The TUN's own settings: they vanish with the device, so they need no journal entry. */
export function configureTun(plan: ClatPlan, log: Say): void {
  const tun = plan.opts.tun;
  const set = (key: string, value: string) => {
    if (readSysctl(key) !== null) writeSysctl(key, value);
  };
  // Loose reverse-path filtering on the TUN (RFC 3704 §2.4 "loose"): the kernel takes the max of
  // `all` and the interface, so 2 here wins over a strict 1 in `all`. Strict mode would drop
  // every translated reply whenever a native IPv4 route (--force) points elsewhere.
  set(ifSysctl(4, tun, 'rp_filter'), '2');
  // The TUN is not a link to any router: no RAs, no autoconfigured addresses from it.
  set(ifSysctl(6, tun, 'accept_ra'), '0');
  set(ifSysctl(6, tun, 'autoconf'), '0');
  log(say('clat.tun-sysctls', { tun }));
}

function writeSysctl(key: string, value: string): void {
  writeFileSync(`/proc/sys/${key}`, `${value}\n`);
}

/**
 * Uplink sysctls, in this order (docs/clat.md, "Traps"):
 * 1. accept_ra=2 on the uplink *before* any forwarding: when forwarding turns on, Linux purges
 *    default routes learned from RAs on every interface whose accept_ra is not 2 and ignores
 *    later RAs (net/ipv6/addrconf.c), which would cut the laptop off.
 * 2. forwarding=1 on the uplink: proxy-ND only answers on an interface with forwarding on.
 * 3. force_forwarding=1 on the uplink and the TUN (Linux >= 6.17) so packets are forwarded
 *    between just these two without turning the whole host into a router; older kernels need
 *    net.ipv6.conf.all.forwarding=1.
 * 4. proxy_ndp=1 on the uplink, and proxy_delay=0 so proxied answers are not held back.
 */
export async function configureUplink(journal: Journal, plan: ClatPlan, log: Say): Promise<HostSetup> {
  const up = plan.opts.uplink;
  const tun = plan.opts.tun;
  const acceptRa = readSysctl(ifSysctl(6, up, 'accept_ra'));
  if (acceptRa === '1') {
    await journal.setSysctl(ifSysctl(6, up, 'accept_ra'), '2');
    log(say('clat.accept-ra-raised', { uplink: up }));
  } else {
    log(say('clat.accept-ra-kept', { uplink: up, value: String(acceptRa) }));
  }
  await journal.setSysctl(ifSysctl(6, up, 'forwarding'), '1');
  log(say('clat.forwarding-on', { uplink: up }));
  let forwarding: HostSetup['forwarding'];
  if (existsSync(`/proc/sys/${ifSysctl(6, up, 'force_forwarding')}`)) {
    await journal.setSysctl(ifSysctl(6, up, 'force_forwarding'), '1');
    // The TUN's value dies with the device; journaled anyway costs nothing and reads well.
    writeSysctl(ifSysctl(6, tun, 'force_forwarding'), '1');
    forwarding = 'per-interface (force_forwarding)';
    log(say('clat.force-forwarding-on', { uplink: up, tun }));
  } else {
    await journal.setSysctl('net/ipv6/conf/all/forwarding', '1');
    forwarding = 'global (net.ipv6.conf.all.forwarding)';
    log(say('clat.global-forwarding-on'));
  }
  await journal.setSysctl(ifSysctl(6, up, 'proxy_ndp'), '1');
  // Linux holds back its answer to a multicast solicitation for a proxied address by a random
  // 0-800 ms (neigh proxy_delay, RFC 4861 §7.2.8's advice for several proxies of one address).
  // We are the only one, and the wait lands on the first packet of every new IPv4 flow after
  // the router's cache entry expired: a DNS lookup or a connect() that stalls for no reason.
  await journal.setSysctl(`net/ipv6/neigh/${up}/proxy_delay`, '0');
  log(say('clat.proxy-ndp-on', { uplink: up }));
  return { forwarding };
}

/** Addresses, routes and the proxy neighbour: four `ip` commands run as one (ipBatch). */
export async function configureAddressing(
  journal: Journal,
  plan: ClatPlan,
  clatIpv6: string,
  log: Say,
): Promise<void> {
  const { uplink, tun, clatIpv4 } = plan.opts;
  await ipBatch(journal, [
    {
      what: `IPv4 address ${clatIpv4}/29 on ${tun}`,
      argv: ['ip', 'addr', 'add', `${clatIpv4}/29`, 'dev', tun],
      undo: ['ip', 'addr', 'del', `${clatIpv4}/29`, 'dev', tun],
    },
    {
      what: `route ${clatIpv6}/128 into ${tun}`,
      argv: ['ip', 'route', 'add', `${clatIpv6}/128`, 'dev', tun],
      undo: ['ip', '-6', 'route', 'del', `${clatIpv6}/128`, 'dev', tun],
    },
    {
      what: `proxy neighbour ${clatIpv6} on ${uplink}`,
      argv: ['ip', 'neigh', 'add', 'proxy', clatIpv6, 'dev', uplink],
      undo: ['ip', '-6', 'neigh', 'del', 'proxy', clatIpv6, 'dev', uplink],
    },
    // Last: IPv4 goes into the TUN only once the addresses it needs are there.
    defaultRouteStep(plan),
  ]);
  log(say('clat.ipv6-address-routed', { address: clatIpv6, tun, uplink }));
  log(
    say('clat.default-route-added', {
      tun,
      metric: DEFAULTS.routeMetric,
      ipv4Mtu: plan.ipv4Mtu,
      ipv6Mtu: plan.ipv6Mtu,
    }),
  );
}

/**
 * The CLAT's IPv4 default route: the step of bring-up, and the one the daemon takes out and puts
 * back on its own during the grace period after native IPv4 arrived (ClatEngine
 * withdrawDefaultRoute/restoreDefaultRoute). Its `what` names its journal entry.
 */
export function defaultRouteStep(plan: ClatPlan): IpStep {
  const { tun, clatIpv4 } = plan.opts;
  const metric = String(DEFAULTS.routeMetric);
  return {
    what: `IPv4 default route via ${tun}`,
    argv: [
      'ip',
      'route',
      'add',
      'default',
      'dev',
      tun,
      'metric',
      metric,
      'mtu',
      String(plan.ipv4Mtu),
      'src',
      clatIpv4,
    ],
    undo: ['ip', 'route', 'del', 'default', 'dev', tun, 'metric', metric],
  };
}

export interface IpStep {
  what: string;
  /**
   * An `ip` command line: ['ip', OBJECT, ...]. No options before the object: a batch line cannot
   * carry them (`-6`); ip takes the family from the addresses.
   */
  argv: string[];
  undo: string[];
}

/**
 * Journals every step's undo first, then makes all the steps with one `ip -batch -`: one process
 * instead of one per step, since bring-up sits between the router advertisement and the first
 * IPv4 packet (each `ip` costs 10-50 ms on a busy laptop). ip stops at the first line that
 * fails; then the steps up to it are undone, newest first, the ones after it only dropped from
 * the journal, and the error is thrown: nothing is left behind.
 */
export async function ipBatch(journal: Journal, steps: readonly IpStep[]): Promise<void> {
  const lines = steps.map((s) => {
    if (
      s.argv[0] !== 'ip' ||
      s.argv[1]?.startsWith('-') ||
      s.argv.some((a) => a === '' || /[\s"'\\#]/.test(a))
    )
      throw new Error(`internal: not an ip command for a batch: ${s.argv.join(' ')}`);
    return s.argv.slice(1).join(' ');
  });
  let recorded = 0;
  try {
    for (const s of steps) {
      journal.record(s.what, { kind: 'exec', argv: s.undo });
      recorded++;
    }
  } catch (err) {
    // An undo the journal refuses: nothing was made yet.
    for (; recorded > 0; recorded--) journal.forgetLast();
    throw err;
  }
  try {
    await execOut(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
  } catch (err) {
    // "Command failed -:N": lines after N never ran, and undoing them could remove what was
    // there before (a route of the same name); N itself may have half happened (as in
    // journal.apply). Without the line number, every step is undone.
    const failed = /Command failed -:(\d+)/.exec(err instanceof CommandError ? err.stderr : '');
    const ran = failed ? Math.min(Number(failed[1]), steps.length) : steps.length;
    for (let i = steps.length; i > ran; i--) journal.forgetLast();
    for (let i = ran; i > 0; i--) await journal.undoLast();
    throw err;
  }
}
