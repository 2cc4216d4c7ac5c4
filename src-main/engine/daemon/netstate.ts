// The network as the daemon sees it: links with their addresses, and the IPv4 and IPv6 main
// routing tables, read in one go from iproute2 JSON (system/exec.ts: asynchronously, by absolute
// path, with a timeout: this runs beside the packet path). Plus the pure uplink choice made from it.
import type { IpLink, IpRoute, IpAddrInfo } from '../system/iproute.js';
import { ipJson } from '../system/iproute.js';
import type { Message } from '../../shared/status.js';
import { parseIPv6, formatIPv6 } from '../ip/address.js';
import { engineMessage } from '../../shared/engine-words.js';

export interface NetSnapshot {
  /** Every link with its addresses and link kind (`ip -d addr show`). */
  links: IpLink[];
  routes6: IpRoute[];
  routes4: IpRoute[];
}

export async function readNetState(): Promise<NetSnapshot> {
  const [links, routes6, routes4] = await Promise.all([
    ipJson<IpLink>(['-d', 'addr', 'show']),
    ipJson<IpRoute>(['-6', 'route', 'show', 'table', 'main']),
    ipJson<IpRoute>(['-4', 'route', 'show', 'table', 'main']),
  ]);
  return { links, routes6, routes4 };
}

function isDefault(r: IpRoute): boolean {
  return r.dst === 'default' && (r.type === undefined || r.type === 'unicast');
}

function usableGlobal6(a: IpAddrInfo): boolean {
  return a.family === 'inet6' && a.scope === 'global' && !a.tentative && !a.dadfailed && !a.deprecated;
}

/** IPv4 default routes that are not through our TUN: native IPv4. */
export function nativeIpv4Defaults(s: NetSnapshot, ourTun: string): IpRoute[] {
  return s.routes4.filter((r) => isDefault(r) && r.dev !== ourTun);
}

/** Link kinds that never carry the CLAT: tunnels of VPNs and our own kind of device. */
const NEVER_KINDS = new Set(['tun', 'wireguard', 'ip6tnl', 'sit', 'gre', 'ip6gre', 'vti6', 'dummy']);

export interface UplinkChoice {
  name: string;
  gateway?: string;
  metric: number;
  /** The uplink's global address and /64 (from the first usable /64 address). */
  address: string;
  why: Message;
}

/**
 * The uplink: among the links that carry an IPv6 default route and have a usable global address,
 * the one with the lowest metric (then the lowest ifindex). Never our TUN or a tunnel; a veth or
 * bridge only when it carries the default route itself (a container's host-side veth, a bridge
 * for VMs never does). Null with the reason when there is none.
 */
export function pickUplink(s: NetSnapshot, ourTun: string): UplinkChoice | { none: Message } {
  const byName = new Map(s.links.map((l) => [l.ifname, l]));
  const passed: string[] = [];
  const candidates: UplinkChoice[] = [];
  for (const r of s.routes6.filter(isDefault)) {
    const dev = r.dev;
    if (!dev) continue;
    const l = byName.get(dev);
    const kind = l?.linkinfo?.info_kind;
    if (!l || dev === ourTun || (kind && NEVER_KINDS.has(kind))) {
      passed.push(`${dev} (${dev === ourTun ? 'our own TUN' : kind ? `a ${kind} device` : 'gone'})`);
      continue;
    }
    if (!l.flags.includes('UP')) {
      passed.push(`${dev} (down)`);
      continue;
    }
    const addrs = (l.addr_info ?? []).filter(usableGlobal6);
    const pick =
      addrs.find((a) => a.prefixlen === 64 && !a.temporary) ?? addrs.find((a) => a.prefixlen === 64);
    if (!pick) {
      passed.push(`${dev} (no usable global /64 address)`);
      continue;
    }
    const prev = candidates.find((c) => c.name === dev);
    const metric = r.metric ?? 0;
    if (prev && prev.metric <= metric) continue;
    if (prev) candidates.splice(candidates.indexOf(prev), 1);
    candidates.push({
      name: dev,
      gateway: r.gateway,
      metric,
      address: pick.local,
      why: { code: '', text: '' },
    });
  }
  if (candidates.length === 0)
    return {
      none: passed.length
        ? engineMessage('uplink.none', { passed: passed.join(', ') })
        : engineMessage('uplink.no-default-route'),
    };
  candidates.sort(
    (a, b) => a.metric - b.metric || (byName.get(a.name)?.ifindex ?? 0) - (byName.get(b.name)?.ifindex ?? 0),
  );
  const best = candidates[0];
  const others = candidates.slice(1).map((c) => `${c.name} (metric ${c.metric})`);
  best.why = {
    code: others.length ? 'uplink.lowest-metric' : 'uplink.only-default-route',
    params: {
      uplink: best.name,
      metric: best.metric,
      gateway: best.gateway ?? '',
      others: others.join(', '),
    },
    text:
      `${best.name} carries the IPv6 default route (via ${best.gateway ?? 'the link'}, metric ${best.metric}) ` +
      `and has the global address ${best.address}` +
      (others.length
        ? `; lowest metric of ${[best.name, ...candidates.slice(1).map((c) => c.name)].join(', ')}`
        : '') +
      (passed.length ? `; not ${passed.join(', ')}` : ''),
  };
  return best;
}

/** The uplink's /64 as text ("2001:db8:1::/64"), from its address. */
export function subnet64Of(address: string): string {
  const a = parseIPv6(address);
  a.fill(0, 8);
  return `${formatIPv6(a)}/64`;
}
