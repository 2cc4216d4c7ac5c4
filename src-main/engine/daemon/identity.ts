// Which network the laptop is on, stable across reconnects to the same network and different
// between networks: a hash of the uplink's name, the default router's address and the uplink's
// /64 (the router tells apart two networks that reuse one ULA or documentation prefix; the /64
// two networks behind routers of one make that a cloned MAC would merge). The display name is
// the uplink and its /64.
//
// NetworkManager's connection UUID (and its name or SSID) is the better id where NetworkManager
// runs; not built yet (see docs/daemon.md).
import { createHash } from 'node:crypto';

export interface NetworkIdentity {
  id: string;
  name: string;
  idSource: 'networkmanager' | 'hash';
}

/**
 * The router stands in by its link-local address, not by the MAC the neighbour table holds: the
 * table only knows the MAC once traffic flowed (a network's id must not change when it does),
 * and a router's link-local address is derived from its MAC (EUI-64) or stable per RFC 7217.
 */
export function hashIdentity(uplink: string, gateway: string | undefined, subnet64: string): NetworkIdentity {
  const h = createHash('sha256')
    .update(`${uplink}\n${gateway ?? ''}\n${subnet64}`)
    .digest('hex')
    .slice(0, 16);
  return { id: `net-${h}`, name: `${uplink} ${subnet64}`, idSource: 'hash' };
}
