// Which network the laptop is on, stable across reconnects to the same network and different
// between networks: a hash of the uplink's name, the default router's address and the uplink's
// /64 (the router tells apart two networks that reuse one ULA or documentation prefix; the /64
// two networks behind routers of one make that a cloned MAC would merge). The display name is
// the uplink and its /64.
//
// Where NetworkManager manages the uplink, its connection UUID is the id instead (stable across
// reconnects, and the user's own name for the network as the display name).
import { createHash } from 'node:crypto';
import type { ResolvedBus } from '../dns64/resolved-dbus.js';
import { NM, NM_UUID, nmDevice, nmGet } from './nm-dbus.js';

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

/**
 * The NetworkManager connection active on the uplink, as its network id (the connection UUID)
 * and display name (the connection's name: the SSID for Wi-Fi unless renamed), when
 * NetworkManager is on the system bus and manages the uplink; null otherwise. The bus
 * connection is the daemon's one, passed in (ResolvedBus's call: explicit signatures, a timeout).
 */
export async function networkManagerIdentity(
  bus: ResolvedBus,
  uplink: string,
): Promise<NetworkIdentity | null> {
  // Not one of NetworkManager's devices (unmanaged, a test's veth): the hash is the id.
  const device = await nmDevice(bus, uplink);
  if (!device) return null;
  const get = (path: string, iface: string, prop: string) => nmGet(bus, path, iface, prop);
  const active = await get(device, `${NM}.Device`, 'ActiveConnection');
  if (typeof active !== 'string' || active === '/') return null;
  const uuid = await get(active, `${NM}.Connection.Active`, 'Uuid');
  const name = await get(active, `${NM}.Connection.Active`, 'Id');
  if (typeof uuid !== 'string' || !NM_UUID.test(uuid)) return null;
  return {
    id: `nm-${uuid.toLowerCase()}`,
    name: typeof name === 'string' && name ? name.slice(0, 128) : uplink,
    idSource: 'networkmanager',
  };
}
