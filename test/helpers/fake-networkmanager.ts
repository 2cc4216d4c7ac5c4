// A FAKE NetworkManager: it owns org.freedesktop.NetworkManager on a (private) system bus and
// answers the part of NetworkManager's D-Bus API the daemon uses, with the names, signatures,
// object paths and error names of NetworkManager's published interface definitions
// (introspection/org.freedesktop.NetworkManager.xml, .Device.xml, .Connection.Active.xml,
// .DHCP4Config.xml; errors from libnm's nm-errors.h):
//   org.freedesktop.NetworkManager.GetDeviceByIpIface(s iface) -> o
//     (error org.freedesktop.NetworkManager.UnknownDevice for a device it does not know)
//   Properties.Get: Manager.Version (s); Device.ActiveConnection (o, "/" when none),
//     Device.Dhcp4Config (o, "/" when no DHCPv4 reply), Device.State (u: 100 activated, 30
//     disconnected); Connection.Active.Uuid (s), .Id (s); DHCP4Config.Options (a{sv} of strings)
//   Device.GetAppliedConnection(u flags) -> (a{sa{sv}} connection, t version_id)
//   Device.Reapply(a{sa{sv}} connection, t version_id, u flags): VersionIdMismatch when the id is
//     not the current one, NotActive without an activation, IncompatibleConnection when a setting
//     other than ipv4/ipv6 differs from the applied one, and (like NetworkManager parsing a
//     connection strictly) Settings.Connection.InvalidProperty for an ipv4 property this version
//     does not have: ipv4.dhcp-ipv6-only-preferred exists from 1.52 on
//     (NMSettingIP4DhcpIpv6OnlyPreferred, "Since: 1.52"). A successful Reapply takes the new ipv4
//     setting and counts the version id up.
// Where NetworkManager serializes settings it leaves out properties at their default, so an
// applied connection without dhcp-ipv6-only-preferred means -1 (default).
//
// Why a fake: Debian 12's NetworkManager (1.42, which predates the option-108 setting) needs
// systemd and udev to manage devices, and would manage the test namespaces' links itself. What
// NetworkManager does inside (its DHCPv4 client restarting on Reapply, the reply with option 108)
// is not modelled: the test says what the DHCPv4 reply was, on stdin. The key of option 108 in
// DHCP4Config.Options is "ipv6_only_preferred" (engine/daemon/v6only-preferred.ts OPTION_108_KEY).
//
//   node fake-networkmanager.js DEVICES [OPTIONS]
//     DEVICES  '{"up0": {"uuid": "...", "id": "Home", "method": "auto", "v6only": -1,
//                        "dhcp4": {"ip_address": "192.0.2.10"}}, "up1": null}'
//              (null: a managed device with no active connection; method default "auto";
//              v6only: the connection's own ipv4.dhcp-ipv6-only-preferred, default -1; dhcp4:
//              the options of the last DHCPv4 reply, none when absent)
//     OPTIONS  '{"version": "1.52.0"}' (default "1.42.4", Debian 12's)
//   stdin, one JSON object a line: {"dhcp4": {"up0": {...} | null}} sets the last DHCPv4 reply;
//     {"activate": {"up0": {"uuid": "...", "id": "..."}}} starts a new activation (the applied
//     connection from the profile again, so without what a Reapply changed). "ok" on stdout after.
//   stdout: "owning ..." once the name is owned; {"reapply": IFACE, "ipv4": {...}} per Reapply.
// SIGTERM ends it.
import { createInterface } from 'node:readline';
import { Variant, type Message } from 'dbus-next';
import { BusFailure, connectFake, serveFake, type Reply } from './fake-dbus-service.js';

const NAME = 'org.freedesktop.NetworkManager';
const PATH = '/org/freedesktop/NetworkManager';
const PROPS = 'org.freedesktop.DBus.Properties';
const DEVICE = `${NAME}.Device`;

interface DeviceSpec {
  uuid: string;
  id: string;
  method?: string;
  v6only?: number;
  dhcp4?: Record<string, string> | null;
}
interface DeviceState {
  spec: DeviceSpec | null;
  /** The applied connection's ipv4.dhcp-ipv6-only-preferred (-1: default, not serialized). */
  applied: number;
  versionId: bigint;
}

const specs = JSON.parse(process.argv[2] ?? '{}') as Record<string, DeviceSpec | null>;
const options = JSON.parse(process.argv[3] ?? '{}') as { version?: string };
const version = options.version ?? '1.42.4';
const hasV6Only = (() => {
  const [maj, min] = version.split('.').map(Number);
  return maj > 1 || (maj === 1 && min >= 52);
})();
const names = Object.keys(specs);
const state: DeviceState[] = names.map((n) => ({
  spec: specs[n],
  applied: specs[n]?.v6only ?? -1,
  versionId: 1n,
}));
if (!hasV6Only && state.some((s) => s.applied !== -1))
  throw new Error(`NetworkManager ${version} has no ipv4.dhcp-ipv6-only-preferred`);
const devicePath = (i: number) => `${PATH}/Devices/${i + 1}`;
const activePath = (i: number) => `${PATH}/ActiveConnection/${i + 1}`;
const dhcp4Path = (i: number) => `${PATH}/DHCP4Config/${i + 1}`;

/** The applied connection as NetworkManager serializes it (defaults left out). */
function appliedConnection(i: number): Record<string, Record<string, Variant>> {
  const s = state[i];
  const spec = s.spec!;
  const ipv4: Record<string, Variant> = {
    method: new Variant('s', spec.method ?? 'auto'),
    'address-data': new Variant('aa{sv}', []),
    dns: new Variant('au', []),
    'route-data': new Variant('aa{sv}', []),
  };
  if (s.applied !== -1) ipv4['dhcp-ipv6-only-preferred'] = new Variant('i', s.applied);
  return {
    connection: {
      id: new Variant('s', spec.id),
      uuid: new Variant('s', spec.uuid),
      type: new Variant('s', '802-11-wireless'),
      'interface-name': new Variant('s', names[i]),
      permissions: new Variant('as', []),
    },
    '802-11-wireless': {
      ssid: new Variant('ay', Buffer.from(spec.id)),
      mode: new Variant('s', 'infrastructure'),
    },
    ipv4,
    ipv6: {
      method: new Variant('s', 'auto'),
      'addr-gen-mode': new Variant('i', 1),
      'address-data': new Variant('aa{sv}', []),
    },
    proxy: {},
  };
}

/** Plain values of a settings dictionary, for comparing and printing. */
function plain(v: unknown): unknown {
  if (v instanceof Variant) return plain(v.value);
  if (Buffer.isBuffer(v)) return `bytes:${v.toString('hex')}`;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, plain(x)]),
    );
  return v;
}

const IPV4_KNOWN = new Set([
  'method',
  'address-data',
  'addresses',
  'dns',
  'dns-search',
  'route-data',
  'routes',
  'gateway',
  'may-fail',
  'dhcp-client-id',
  'dhcp-timeout',
  ...(hasV6Only ? ['dhcp-ipv6-only-preferred'] : []),
]);

function reapply(i: number, body: unknown[]): Reply {
  const [conn, versionId, flags] = body as [Record<string, Record<string, Variant>>, bigint, number];
  const s = state[i];
  if (!s.spec) throw new BusFailure(`${DEVICE}.NotActive`, 'Device is not activated');
  if (flags !== 0) throw new BusFailure(`${DEVICE}.InvalidArgument`, 'Invalid flags specified');
  if (versionId !== 0n && versionId !== s.versionId)
    throw new BusFailure(
      `${DEVICE}.VersionIdMismatch`,
      `Reapply failed because device changed (version-id ${s.versionId} vs ${versionId})`,
    );
  for (const key of Object.keys(conn.ipv4 ?? {}))
    if (!IPV4_KNOWN.has(key))
      throw new BusFailure(
        'org.freedesktop.NetworkManager.Settings.Connection.InvalidProperty',
        `ipv4.${key}: unknown property`,
      );
  const before = appliedConnection(i);
  for (const setting of new Set([...Object.keys(before), ...Object.keys(conn)])) {
    if (setting === 'ipv4' || setting === 'ipv6') continue;
    if (JSON.stringify(plain(before[setting] ?? {})) !== JSON.stringify(plain(conn[setting] ?? {})))
      throw new BusFailure(
        `${DEVICE}.IncompatibleConnection`,
        `Can't reapply changes to '${setting}' setting`,
      );
  }
  const v = conn.ipv4?.['dhcp-ipv6-only-preferred']?.value;
  s.applied = typeof v === 'number' ? v : -1;
  s.versionId++;
  process.stdout.write(`${JSON.stringify({ reapply: names[i], ipv4: plain(conn.ipv4 ?? {}) })}\n`);
  return ['', []];
}

function answer(msg: Message): Reply {
  if (msg.path === PATH && msg.interface === NAME && msg.member === 'GetDeviceByIpIface') {
    const i = names.indexOf(String(msg.body[0]));
    if (i < 0) throw new BusFailure(`${NAME}.UnknownDevice`, 'No device found for the requested iface.');
    return ['o', [devicePath(i)]];
  }
  const d = names.findIndex((_, i) => devicePath(i) === msg.path);
  if (d >= 0 && msg.interface === DEVICE && msg.member === 'GetAppliedConnection') {
    if (!state[d].spec) throw new BusFailure(`${DEVICE}.NotActive`, 'Device is not activated');
    return ['a{sa{sv}}t', [appliedConnection(d), state[d].versionId]];
  }
  if (d >= 0 && msg.interface === DEVICE && msg.member === 'Reapply') return reapply(d, msg.body);
  if (msg.interface === PROPS && msg.member === 'Get') {
    const [iface, prop] = msg.body as [string, string];
    if (msg.path === PATH && iface === NAME && prop === 'Version') return ['v', [new Variant('s', version)]];
    if (d >= 0 && iface === DEVICE) {
      const s = state[d];
      if (prop === 'ActiveConnection') return ['v', [new Variant('o', s.spec ? activePath(d) : '/')]];
      if (prop === 'State') return ['v', [new Variant('u', s.spec ? 100 : 30)]];
      if (prop === 'Dhcp4Config') return ['v', [new Variant('o', s.spec?.dhcp4 ? dhcp4Path(d) : '/')]];
    }
    const a = names.findIndex((_, i) => activePath(i) === msg.path && state[i].spec);
    if (a >= 0 && iface === `${NAME}.Connection.Active` && (prop === 'Uuid' || prop === 'Id'))
      return ['v', [new Variant('s', prop === 'Uuid' ? state[a].spec!.uuid : state[a].spec!.id)]];
    const c = names.findIndex((_, i) => dhcp4Path(i) === msg.path && state[i].spec?.dhcp4);
    if (c >= 0 && iface === `${NAME}.DHCP4Config` && prop === 'Options')
      return [
        'v',
        [
          new Variant(
            'a{sv}',
            Object.fromEntries(
              Object.entries(state[c].spec!.dhcp4!).map(([k, v]) => [k, new Variant('s', v)]),
            ),
          ),
        ],
      ];
    throw new BusFailure('org.freedesktop.DBus.Error.UnknownProperty', `No such property '${prop}'`);
  }
  throw new BusFailure('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member}`);
}

await serveFake(connectFake('fake-networkmanager'), 'fake-networkmanager', NAME, answer);

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as {
    dhcp4?: Record<string, Record<string, string> | null>;
    activate?: Record<string, { uuid: string; id: string }>;
  };
  for (const [dev, opts] of Object.entries(cmd.dhcp4 ?? {})) {
    const s = state[names.indexOf(dev)];
    if (s.spec) s.spec.dhcp4 = opts;
  }
  for (const [dev, conn] of Object.entries(cmd.activate ?? {})) {
    const s = state[names.indexOf(dev)];
    s.spec = { ...(s.spec ?? {}), ...conn, dhcp4: null };
    s.applied = s.spec.v6only ?? -1;
    s.versionId = 1n;
  }
  process.stdout.write('ok\n');
});
