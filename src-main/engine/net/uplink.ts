// What the engine needs to know about the uplink before it starts: that it exists and is up,
// its global IPv6 address and /64, its IPv6 default route and the IPv6 path MTU towards the
// NAT64 prefix. Read from iproute2 JSON, so a snapshot is a plain object that logs well.
import { link, addresses, defaultRoutes, routeGet, routeMtu, type IpAddrInfo } from '../system/iproute.js';
import { parseIPv6, formatIPv6 } from '../ip/address.js';

export interface UplinkSnapshot {
  name: string;
  ifindex: number;
  mtu: number;
  /** The global address the host itself uses (SLAAC or static), non-temporary preferred. */
  address: string;
  /** Its /64, as text ("2001:db8:1::/64"): the CLAT address is taken from here. */
  subnet64: string;
  /** All global IPv6 addresses on the uplink, to avoid colliding with them. */
  allAddresses: string[];
  defaultRoute: { gateway?: string; metric?: number; protocol?: string };
  /** The IPv6 MTU towards the NAT64 prefix: route MTU, cached PMTU or the link MTU. */
  pathMtu: number;
}

export class CheckFailed extends Error {
  constructor(
    message: string,
    /** What the user can do about it. */
    readonly fix: string,
  ) {
    super(`${message}\n  fix: ${fix}`);
  }
}

function usable(a: IpAddrInfo): boolean {
  return a.family === 'inet6' && a.scope === 'global' && !a.tentative && !a.dadfailed && !a.deprecated;
}

/** Checks the uplink and describes it; throws CheckFailed with the fix when it cannot carry a CLAT. */
export async function snapshotUplink(name: string, towards?: string): Promise<UplinkSnapshot> {
  // The four reads at once: in the daemon this sits between the router advertisement and the
  // first IPv4 packet. Their failures are looked at in order below.
  const [linkR, addrsR, routesR, towardsR] = await Promise.allSettled([
    link(name),
    addresses(6, name),
    defaultRoutes(6),
    towards ? routeGet(6, towards) : Promise.resolve(null),
  ]);
  const got = <T>(r: PromiseSettledResult<T>): T => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  };
  const l = got(linkR);
  if (!l)
    throw new CheckFailed(
      `uplink '${name}' does not exist`,
      'pass the interface that carries your IPv6 connection (see `ip -6 route show default`)',
    );
  if (!l.flags.includes('UP'))
    throw new CheckFailed(
      `uplink '${name}' is down`,
      `bring it up first (ip link set ${name} up) or connect it`,
    );
  const infos = (got(addrsR)[0]?.addr_info ?? []).filter(usable);
  if (infos.length === 0)
    throw new CheckFailed(
      `uplink '${name}' has no global IPv6 address (usable, not tentative or deprecated)`,
      'wait for SLAAC/DHCPv6 to give it one, or check that the network is IPv6-enabled (ip -6 addr show dev ' +
        `${name})`,
    );
  // The host's own stable address: prefer non-temporary /64s, then the longest-lived.
  const pick =
    infos.find((a) => a.prefixlen === 64 && !a.temporary) ??
    infos.find((a) => a.prefixlen === 64) ??
    infos[0];
  if (pick.prefixlen > 64)
    throw new CheckFailed(
      `uplink '${name}' has only ${pick.local}/${pick.prefixlen}; a CLAT address needs a /64 to take an address from`,
      "use a network that gives the host a /64 by SLAAC; a DHCPv6-only network hands out single /128 addresses, and a CLAT (like Android's and clatd) needs the /64 to answer for its own address by proxy-ND",
    );
  const routes = got(routesR).filter((r) => r.dev === name);
  if (routes.length === 0)
    throw new CheckFailed(
      `uplink '${name}' has no IPv6 default route`,
      `check that router advertisements arrive (accept_ra on ${name}) or add one: ip -6 route add default via ROUTER dev ${name}`,
    );
  const best = routes.reduce((a, b) => ((a.metric ?? 0) <= (b.metric ?? 0) ? a : b));
  const sub = parseIPv6(pick.local);
  sub.fill(0, 8);
  let pathMtu = routeMtu(best) ?? l.mtu;
  const r = got(towardsR);
  const m = r && routeMtu(r);
  if (m) pathMtu = Math.min(pathMtu, m);
  return {
    name,
    ifindex: l.ifindex,
    mtu: l.mtu,
    address: pick.local,
    subnet64: `${formatIPv6(sub)}/64`,
    allAddresses: infos.map((a) => a.local),
    defaultRoute: { gateway: best.gateway, metric: best.metric, protocol: best.protocol },
    pathMtu: Math.min(pathMtu, l.mtu),
  };
}
