// Reading and changing links, addresses, routes and proxy neighbours through iproute2. State is
// read from `ip -j` JSON (stable across iproute2 versions, unlike the text form); changes go
// through the Journal so each one is written down with its undo before it is made.
import { existsSync, readFileSync } from 'node:fs';
import { execOut } from './exec.js';

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  dynamic?: boolean;
  temporary?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
  nodad?: boolean;
  mngtmpaddr?: boolean;
  noprefixroute?: boolean;
  label?: string;
  valid_life_time?: number;
  preferred_life_time?: number;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: IpAddrInfo[];
}

export interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  metric?: number;
  prefsrc?: string;
  scope?: string;
  flags?: string[];
  mtu?: number;
  metrics?: Array<{ mtu?: number }> | { mtu?: number };
  expires?: number;
  pref?: string;
}

export interface IpNeighProxy {
  dst: string;
  dev: string;
}

/** Runs `ip -j ARGS` and parses the answer (an empty answer is an empty list). */
export async function ipJson<T>(args: string[]): Promise<T[]> {
  const out = (await execOut(['ip', '-j', ...args])).trim();
  if (!out) return [];
  return JSON.parse(out) as T[];
}

export function links(): Promise<IpLink[]> {
  return ipJson<IpLink>(['-d', 'link', 'show']);
}

export async function link(name: string): Promise<IpLink | null> {
  if (!existsSync(`/sys/class/net/${name}`)) return null;
  return (await ipJson<IpLink>(['-d', 'link', 'show', 'dev', name]))[0] ?? null;
}

/** Every link with its addresses (`ip -j addr show`). */
export function addresses(family?: 4 | 6, dev?: string): Promise<IpLink[]> {
  const args = [...(family ? [`-${family}`] : []), 'addr', 'show', ...(dev ? ['dev', dev] : [])];
  return ipJson<IpLink>(args);
}

/** Routes of one family; table 'all' includes local/other tables. */
export function routes(family: 4 | 6, table = 'main'): Promise<IpRoute[]> {
  return ipJson<IpRoute>([`-${family}`, 'route', 'show', 'table', table]);
}

export async function defaultRoutes(family: 4 | 6): Promise<IpRoute[]> {
  return (await routes(family)).filter(
    (r) => r.dst === 'default' && (r.type === undefined || r.type === 'unicast'),
  );
}

/** `ip route get`: what the kernel would do for dst, with the cached path MTU if any. */
export async function routeGet(family: 4 | 6, dst: string): Promise<IpRoute | null> {
  try {
    return (await ipJson<IpRoute>([`-${family}`, 'route', 'get', dst]))[0] ?? null;
  } catch {
    return null;
  }
}

export function proxyNeighbours(dev?: string): Promise<IpNeighProxy[]> {
  return ipJson<IpNeighProxy>(['-6', 'neigh', 'show', 'proxy', ...(dev ? ['dev', dev] : [])]);
}

/** The MTU a route carries (`mtu N` metric), if it sets one. */
export function routeMtu(r: IpRoute): number | undefined {
  if (r.mtu !== undefined) return r.mtu;
  const m = Array.isArray(r.metrics) ? r.metrics.find((x) => x.mtu !== undefined) : r.metrics;
  return m?.mtu;
}

export function readSysctl(key: string): string | null {
  const path = key.includes('/') ? `/proc/sys/${key}` : `/proc/sys/${key.split('.').join('/')}`;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Sysctl key for one interface: names may hold dots, which sysctl keys spell as '/'. */
export function ifSysctl(family: 4 | 6, dev: string, name: string): string {
  return `net/ipv${family}/conf/${dev}/${name}`;
}
