// Which network the laptop is on, stable across reconnects to the same network and different
// between networks: a hash of the uplink's name, the default router's link-layer address and
// the uplink's /64 (the router's MAC tells two networks that reuse one ULA or documentation
// prefix apart; the /64 tells apart two networks behind routers of one make and model that
// a cloned MAC would otherwise merge). The display name is the uplink and its /64.
//
// NetworkManager's connection UUID (and its name or SSID) is the better id where NetworkManager
// runs; not built yet (see docs/daemon.md).
import { createHash } from 'node:crypto';
import { ipJsonAsync } from './netstate.js';

export interface NetworkIdentity {
  id: string;
  name: string;
  idSource: 'networkmanager' | 'hash';
}

interface Neigh {
  dst: string;
  dev?: string;
  lladdr?: string;
}

/**
 * The router's link-layer address as the kernel's neighbour table knows it (an RA with a
 * source link-layer option puts it there). Remembered per (uplink, router address): a
 * neighbour entry that is flushed or not there yet must not change the network's id.
 */
const routerMacs = new Map<string, string>();

export async function routerMac(uplink: string, gateway: string | undefined): Promise<string> {
  if (!gateway) return '';
  const key = `${uplink} ${gateway}`;
  const known = routerMacs.get(key);
  if (known) return known;
  let mac = '';
  try {
    const n = await ipJsonAsync<Neigh>(['-6', 'neigh', 'show', 'dev', uplink, 'to', gateway]);
    mac = n.find((e) => e.lladdr)?.lladdr ?? '';
  } catch {
    // No answer: the router's address stands in for its MAC (below).
  }
  if (mac) {
    if (routerMacs.size > 256) routerMacs.clear();
    routerMacs.set(key, mac);
  }
  return mac;
}

export async function hashIdentity(
  uplink: string,
  gateway: string | undefined,
  subnet64: string,
): Promise<NetworkIdentity> {
  // Without a MAC (no neighbour entry) the router's link-local address is used: it is derived
  // from the MAC on most routers, and stable on the rest (RFC 7217).
  const router = (await routerMac(uplink, gateway)) || gateway || '';
  const h = createHash('sha256').update(`${uplink}\n${router}\n${subnet64}`).digest('hex').slice(0, 16);
  return { id: `net-${h}`, name: `${uplink} ${subnet64}`, idSource: 'hash' };
}
