// The two NetworkManager D-Bus calls every use of it starts with: the device behind an interface
// name, and a property of one of its objects. Over the daemon's one system bus connection
// (ResolvedBus: explicit signatures, a timeout), with the names of NetworkManager's published
// interface definitions (introspection/org.freedesktop.NetworkManager.xml).
import type { ResolvedBus } from '../dns64/resolved-dbus.js';

export const NM = 'org.freedesktop.NetworkManager';
export const NM_PATH = '/org/freedesktop/NetworkManager';
/** What a connection UUID may look like (it ends up in network ids and the journal's undo steps). */
export const NM_UUID = /^[0-9A-Fa-f-]{8,64}$/;

/**
 * The object path of NetworkManager's device for iface, or null when NetworkManager is not on
 * the bus or does not know the device (unmanaged, a test's veth).
 */
export async function nmDevice(bus: ResolvedBus, iface: string): Promise<string | null> {
  const [owned] = await bus.call({
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    iface: 'org.freedesktop.DBus',
    member: 'NameHasOwner',
    signature: 's',
    body: [NM],
  });
  if (owned !== true) return null;
  try {
    const [device] = await bus.call({
      destination: NM,
      path: NM_PATH,
      iface: NM,
      member: 'GetDeviceByIpIface',
      signature: 's',
      body: [iface],
    });
    return typeof device === 'string' ? device : null;
  } catch (err) {
    if ((err as { type?: string }).type === `${NM}.UnknownDevice`) return null;
    throw err;
  }
}

/** One property of one of NetworkManager's objects (org.freedesktop.DBus.Properties.Get). */
export async function nmGet(bus: ResolvedBus, path: string, iface: string, prop: string): Promise<unknown> {
  const [v] = await bus.call({
    destination: NM,
    path,
    iface: 'org.freedesktop.DBus.Properties',
    member: 'Get',
    signature: 'ss',
    body: [iface, prop],
  });
  return (v as { value?: unknown } | undefined)?.value;
}
