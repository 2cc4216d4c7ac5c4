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
import { Message, MessageType, NameFlag, RequestNameReply, Variant, systemBus } from 'dbus-next';

const NAME = 'org.freedesktop.NetworkManager';
const PATH = '/org/freedesktop/NetworkManager';
const PROPS = 'org.freedesktop.DBus.Properties';
const devices = JSON.parse(process.argv[2] ?? '{}') as Record<string, { uuid: string; id: string } | null>;
const names = Object.keys(devices);
const devicePath = (i: number) => `${PATH}/Devices/${i + 1}`;
const activePath = (i: number) => `${PATH}/ActiveConnection/${i + 1}`;

class Failure extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

function answer(msg: Message): [string, unknown[]] {
  if (msg.path === PATH && msg.interface === NAME && msg.member === 'GetDeviceByIpIface') {
    const i = names.indexOf(String(msg.body[0]));
    if (i < 0) throw new Failure(`${NAME}.UnknownDevice`, 'No device found for the requested iface.');
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
    throw new Failure('org.freedesktop.DBus.Error.UnknownProperty', `No such property '${prop}'`);
  }
  throw new Failure('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member}`);
}

const bus = systemBus();
bus.on('error', (err: unknown) => {
  process.stderr.write(`fake-networkmanager: bus error: ${String(err)}\n`);
  process.exit(1);
});
bus.addMethodHandler((msg: Message) => {
  if (msg.type !== MessageType.METHOD_CALL) return false;
  if (
    msg.interface === 'org.freedesktop.DBus.Peer' ||
    msg.interface === 'org.freedesktop.DBus.Introspectable'
  )
    return false;
  try {
    const [sig, body] = answer(msg);
    bus.send(Message.newMethodReturn(msg, sig, body));
  } catch (err) {
    const e = err instanceof Failure ? err : new Failure('org.freedesktop.DBus.Error.Failed', String(err));
    // dbus-next's typings say string; at runtime it is the call being answered (as in fake-resolved).
    bus.send(Message.newError(msg as unknown as string, e.dbusName, e.message));
  }
  return true;
});
const got = await bus.requestName(NAME, NameFlag.DO_NOT_QUEUE);
if (got !== RequestNameReply.PRIMARY_OWNER) throw new Error(`could not own ${NAME} (reply ${got})`);
process.stdout.write(`fake-networkmanager: owning ${NAME}\n`);
process.on('SIGTERM', () => {
  bus.disconnect();
  process.exit(0);
});
