// A FAKE NetworkManager: it owns org.freedesktop.NetworkManager on a (private) system bus and
// answers the part of NetworkManager's D-Bus API the daemon asks for a network's identity, with
// the names, signatures and object paths of NetworkManager's published interface definitions
// (introspection/org.freedesktop.NetworkManager.xml, .Device.xml, .Connection.Active.xml):
//   org.freedesktop.NetworkManager.GetDeviceByIpIface(s iface) -> o
//     (error org.freedesktop.NetworkManager.UnknownDevice for a device it does not know)
//   org.freedesktop.DBus.Properties.Get(s, s) -> v for Device.ActiveConnection (o, "/" when none)
//   and Connection.Active.Uuid (s), .Id (s)
//
// Why a fake: Debian 12's NetworkManager needs systemd and udev to manage devices, and would
// manage the test namespaces' links itself. It knows only the devices given on its command line:
//   node fake-networkmanager.js '{"up0": {"uuid": "...", "id": "Home"}, "up1": null}'
// (null: a managed device with no active connection). SIGTERM ends it.
import { Variant, type Message } from 'dbus-next';
import { BusFailure, connectFake, serveFake, type Reply } from './fake-dbus-service.js';

const NAME = 'org.freedesktop.NetworkManager';
const PATH = '/org/freedesktop/NetworkManager';
const PROPS = 'org.freedesktop.DBus.Properties';
const devices = JSON.parse(process.argv[2] ?? '{}') as Record<string, { uuid: string; id: string } | null>;
const names = Object.keys(devices);
const devicePath = (i: number) => `${PATH}/Devices/${i + 1}`;
const activePath = (i: number) => `${PATH}/ActiveConnection/${i + 1}`;

function answer(msg: Message): Reply {
  if (msg.path === PATH && msg.interface === NAME && msg.member === 'GetDeviceByIpIface') {
    const i = names.indexOf(String(msg.body[0]));
    if (i < 0) throw new BusFailure(`${NAME}.UnknownDevice`, 'No device found for the requested iface.');
    return ['o', [devicePath(i)]];
  }
  if (msg.interface === PROPS && msg.member === 'Get') {
    const [iface, prop] = msg.body as [string, string];
    const d = names.findIndex((_, i) => devicePath(i) === msg.path);
    if (d >= 0 && iface === `${NAME}.Device` && prop === 'ActiveConnection')
      return ['v', [new Variant('o', devices[names[d]] ? activePath(d) : '/')]];
    const a = names.findIndex((_, i) => activePath(i) === msg.path && devices[names[i]]);
    if (a >= 0 && iface === `${NAME}.Connection.Active` && (prop === 'Uuid' || prop === 'Id'))
      return ['v', [new Variant('s', prop === 'Uuid' ? devices[names[a]]!.uuid : devices[names[a]]!.id)]];
    throw new BusFailure('org.freedesktop.DBus.Error.UnknownProperty', `No such property '${prop}'`);
  }
  throw new BusFailure('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member}`);
}

await serveFake(connectFake('fake-networkmanager'), 'fake-networkmanager', NAME, answer);
