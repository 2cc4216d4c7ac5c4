// RFC 8925 (DHCPv4 option 108, "IPv6-only preferred") through NetworkManager: while clatbar's
// policy allows the CLAT on the network, NetworkManager's DHCPv4 client asks for option 108, so an
// IPv6-mostly network can withhold IPv4 from this host, as it does for macOS, iOS and Android. The
// host may only ask while it can do without IPv4, that is while a CLAT stands ready (RFC 8925
// §1 "IPv6-only capable host", §3.2): never beside policy "never", a `disable`, another CLAT, or a
// bring-up that failed, and never while clatbar does not run.
//
// How: the connection's ipv4.dhcp-ipv6-only-preferred (NetworkManager 1.52 and later; Debian 12
// has 1.42) set to 1 in the device's *applied* connection with Device.Reapply, the way
// `nmcli device modify` does it. The profile and its file are never touched (no secrets pass
// through clatbar), the change ends with the activation at the latest (disconnect, reboot, a
// NetworkManager restart), and Reapply reconfigures the device without deactivating it, meant to
// make its DHCPv4 client ask on the current attachment already. A value the connection has of its own (0 or 1) is the user's and is left alone. Every request is
// journaled before it is made (its own journal in STATE_DIR/networkmanager: the CLAT instance's
// journal comes and goes with the instance, the request spans standby and active) and undone on
// stand-down, stop, crash recovery and the next start (v6only-undo.ts runs the undo step).
//
// All calls go over the daemon's one system bus connection (ResolvedBus: explicit signatures, a
// timeout), with the names and signatures of NetworkManager's published interface definitions
// (org.freedesktop.NetworkManager{,.Device,.Connection.Active,.DHCP4Config}.xml).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Variant } from 'dbus-next';
import { Journal, type UndoOutcome } from '../system/journal.js';
import { systemBusAddress, type ResolvedBus } from '../dns64/resolved-dbus.js';
import type { Classification, EngineStateName, Message } from '../../shared/status.js';
import { NM, NM_PATH, NM_UUID, nmDevice, nmGet } from './nm-dbus.js';
import { say, type Say } from '../../shared/say.js';

const KEY = 'dhcp-ipv6-only-preferred';
/** NMSettingIP4DhcpIpv6OnlyPreferred: DEFAULT -1, NO 0, YES 1 (AUTO 2 since 1.58: NM's own CLAT). */
const DEFAULT = -1;
const YES = 1;
/** The release that has ipv4.dhcp-ipv6-only-preferred (NMSettingIP4DhcpIpv6OnlyPreferred: "Since: 1.52"). */
export const NM_V6ONLY_SINCE: readonly [number, number] = [1, 52];
/** The DHCP4Config option key of option 108; its value is V6ONLY_WAIT in seconds. */
export const OPTION_108_KEY = 'ipv6_only_preferred';

/** The program the journal runs to undo a request (v6only-undo.ts). */
export const V6ONLY_UNDO = fileURLToPath(new URL('./v6only-undo.js', import.meta.url));

/** Whether a NetworkManager version string ("1.52.0", "1.42.4", "1.53.2-dev") has the setting. */
export function nmHasV6OnlyPreferred(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > NM_V6ONLY_SINCE[0] || (major === NM_V6ONLY_SINCE[0] && minor >= NM_V6ONLY_SINCE[1]);
}

/** What NetworkManager says about the uplink, as far as option 108 goes. */
export interface NmUplink {
  iface: string;
  version: string;
  /** NetworkManager has ipv4.dhcp-ipv6-only-preferred. */
  supported: boolean;
  device: string;
  /** The active connection's UUID and name. */
  uuid: string;
  name: string;
  /** ipv4.method of the applied connection ("auto" is DHCPv4). */
  method: string;
  /** ipv4.dhcp-ipv6-only-preferred of the applied connection (-1 when the connection has none). */
  value: number;
  /** The last DHCPv4 reply carried option 108: IPv4 withheld for waitSeconds (V6ONLY_WAIT). */
  withheld: { waitSeconds: number } | null;
}

type Settings = Record<string, Record<string, Variant>>;

async function applied(
  bus: ResolvedBus,
  device: string,
): Promise<{ settings: Settings; versionId: unknown }> {
  const [settings, versionId] = await bus.call({
    destination: NM,
    path: device,
    iface: `${NM}.Device`,
    member: 'GetAppliedConnection',
    signature: 'u',
    body: [0],
  });
  if (typeof settings !== 'object' || settings === null)
    throw new Error('GetAppliedConnection gave no settings');
  return { settings: settings as Settings, versionId };
}

function valueIn(settings: Settings): number {
  const v = settings.ipv4?.[KEY]?.value;
  return typeof v === 'number' ? v : DEFAULT;
}

/** Option 108's V6ONLY_WAIT from DHCP4Config.Options, when the last reply carried it. */
export function withheldFrom(options: unknown): { waitSeconds: number } | null {
  if (typeof options !== 'object' || options === null) return null;
  const v = (options as Record<string, { value?: unknown } | undefined>)[OPTION_108_KEY]?.value;
  if (v === undefined) return null;
  const n = Number(v);
  // RFC 8925 §3.2: a value under MIN_V6ONLY_WAIT (300 s) counts as 300.
  return { waitSeconds: Number.isFinite(n) && n >= 300 ? Math.min(n, 0xffffffff) : 300 };
}

/** NetworkManager's view of the uplink, or null when it does not manage it (or has no connection on it). */
export async function readNmUplink(bus: ResolvedBus, iface: string): Promise<NmUplink | null> {
  const device = await nmDevice(bus, iface);
  if (!device) return null;
  const active = await nmGet(bus, device, `${NM}.Device`, 'ActiveConnection');
  if (typeof active !== 'string' || active === '/') return null;
  const [version, uuid, name] = await Promise.all([
    nmGet(bus, NM_PATH, NM, 'Version'),
    nmGet(bus, active, `${NM}.Connection.Active`, 'Uuid'),
    nmGet(bus, active, `${NM}.Connection.Active`, 'Id'),
  ]);
  // The UUID goes into the journal's undo step: only what a UUID looks like.
  if (typeof uuid !== 'string' || !NM_UUID.test(uuid)) return null;
  const v = typeof version === 'string' ? version : '';
  const nm: NmUplink = {
    iface,
    version: v,
    supported: nmHasV6OnlyPreferred(v),
    device,
    uuid,
    name: typeof name === 'string' && name ? name.slice(0, 128) : iface,
    method: '',
    value: DEFAULT,
    withheld: null,
  };
  // A NetworkManager without the setting has no option 108 either: nothing more to ask it.
  if (!nm.supported) return nm;
  const [{ settings }, dhcp4] = await Promise.all([
    applied(bus, device),
    nmGet(bus, device, `${NM}.Device`, 'Dhcp4Config'),
  ]);
  const options =
    typeof dhcp4 === 'string' && dhcp4 !== '/'
      ? await nmGet(bus, dhcp4, `${NM}.DHCP4Config`, 'Options')
      : null;
  const method = settings.ipv4?.method?.value;
  return {
    ...nm,
    method: typeof method === 'string' ? method : 'auto',
    value: valueIn(settings),
    withheld: withheldFrom(options),
  };
}

/**
 * Sets ipv4.dhcp-ipv6-only-preferred in the applied connection of iface's device, only while
 * that device still runs the activation of connection uuid and the value is still `from`
 * (anything else is someone else's change, or a new activation that never had ours). Returns
 * what happened, in words. The version id makes NetworkManager refuse a Reapply that would
 * overwrite a change made since GetAppliedConnection.
 */
export async function reapplyV6OnlyPreferred(
  bus: ResolvedBus,
  iface: string,
  uuid: string,
  from: number,
  to: number,
): Promise<'changed' | 'gone' | 'other-activation' | 'changed-by-someone-else'> {
  const device = await nmDevice(bus, iface);
  if (!device) return 'gone';
  const active = await nmGet(bus, device, `${NM}.Device`, 'ActiveConnection');
  if (typeof active !== 'string' || active === '/') return 'gone';
  if ((await nmGet(bus, active, `${NM}.Connection.Active`, 'Uuid')) !== uuid) return 'other-activation';
  const { settings, versionId } = await applied(bus, device);
  if (valueIn(settings) !== from) return 'changed-by-someone-else';
  const ipv4 = { ...(settings.ipv4 ?? {}) };
  if (to === DEFAULT) delete ipv4[KEY];
  else ipv4[KEY] = new Variant('i', to);
  await bus.call({
    destination: NM,
    path: device,
    iface: `${NM}.Device`,
    member: 'Reapply',
    signature: 'a{sa{sv}}tu',
    body: [{ ...settings, ipv4 }, versionId, 0],
  });
  return 'changed';
}

/** Whether clatbar's policy lets the CLAT run on the network now, for RFC 8925's purposes. */
export function clatAllowed(i: { state: EngineStateName; classification: Classification }): boolean {
  // off: policy "never" or `disable`; attention: the CLAT failed to start here; stopping: going
  // away; another CLAT: clatbar stands down for it.
  return (
    i.state !== 'off' &&
    i.state !== 'attention' &&
    i.state !== 'stopping' &&
    i.classification !== 'system-clat'
  );
}

interface Held {
  iface: string;
  uuid: string;
  name: string;
}

const nmKeyOf = (nm: NmUplink): Held => ({ iface: nm.iface, uuid: nm.uuid, name: nm.name });
const same = (a: Held | null, b: Held | null): boolean =>
  !!a && !!b && a.iface === b.iface && a.uuid === b.uuid;

export interface V6OnlyOptions {
  /** The daemon's state directory; the requests' journal lives in its networkmanager/ subdirectory. */
  stateDir: string;
  log: Say;
}

/**
 * The daemon's one option-108 request: at most one connection at a time (the uplink's). follow()
 * is called after every decision with what NetworkManager said about the uplink; requests run one
 * after another in the background, so nothing waits for them between an RA and the CLAT.
 */
export class V6OnlyPreferred {
  /** The request made (journaled, applied). */
  private held: Held | null = null;
  /** The request wanted: what the queued work ends in. */
  private target: Held | null = null;
  /** A request that failed is not tried again on the same activation. */
  private failed: { key: Held; status: Message } | null = null;
  private journal: Journal | null = null;
  private nm: NmUplink | null = null;
  private readFailed = false;
  private queue: Promise<void> = Promise.resolve();
  /** What the status says about option 108 on the current network. */
  status: Message | undefined;

  constructor(private readonly opts: V6OnlyOptions) {}

  private get dir(): string {
    return join(this.opts.stateDir, 'networkmanager');
  }

  /** Undoes the requests a crashed run left (the next start, `clatbar run --cleanup`). */
  async recover(): Promise<UndoOutcome[]> {
    const outcomes = await Journal.recover(this.dir, this.opts.log);
    if (outcomes.length)
      this.opts.log(
        say('v6only.recovered', { undone: outcomes.filter((o) => o.ok).length, total: outcomes.length }),
      );
    return outcomes;
  }

  /**
   * NetworkManager's view of the uplink, read again unless only the NAT64 prefix changed (no bus
   * round trips between an RA and the CLAT). A bus that fails keeps the last view of the same
   * uplink rather than let go of a request on a hiccup.
   */
  async observe(bus: ResolvedBus | null, iface: string | null, readAgain: boolean): Promise<NmUplink | null> {
    if (!bus || !iface) return (this.nm = null);
    if (!readAgain && this.nm?.iface === iface) return this.nm;
    try {
      this.nm = await readNmUplink(bus, iface);
      this.readFailed = false;
    } catch (err) {
      if (!this.readFailed)
        this.opts.log(say('v6only.read-failed', { uplink: iface, error: (err as Error).message }));
      this.readFailed = true;
      if (this.nm?.iface !== iface) this.nm = null;
    }
    return this.nm;
  }

  /** Resolves once the requests queued so far are made or undone. */
  settled(): Promise<void> {
    return this.queue;
  }

  /**
   * Asks for option 108 on the uplink's connection when the CLAT is allowed there and
   * NetworkManager can; lets go of an earlier request (another connection, or not allowed now).
   */
  follow(bus: ResolvedBus | null, nm: NmUplink | null, allowed: boolean): void {
    const want = bus && nm && allowed && nm.supported && nm.method === 'auto' ? nm : null;
    const key = want ? nmKeyOf(want) : null;
    if (want && same(this.target, key)) {
      this.status = requestedMessage(want);
      return;
    }
    if (want && this.failed && same(this.failed.key, key)) {
      this.status = this.failed.status;
      return;
    }
    // Only a connection without a value of its own gets ours (1 on the one we asked is ours).
    const next = want && want.value === DEFAULT ? key : null;
    const ours = nm && nm.value === YES && (same(this.held, nmKeyOf(nm)) || same(this.target, nmKeyOf(nm)));
    this.status =
      next && want
        ? requestedMessage(want)
        : notRequestedMessage(ours ? { ...nm, value: DEFAULT } : nm, allowed);
    if (!this.target && !next) return;
    this.target = next;
    this.queue = this.queue
      .then(async () => {
        if (!bus) return;
        if (this.held && !same(this.held, this.target)) await this.release(bus);
        if (want && next && same(this.target, next) && !this.held) await this.request(bus, want);
      })
      // Never a rejected queue: every later request and stop() waits on it.
      .catch((err: unknown) => this.opts.log(say('v6only.error', { error: (err as Error).message })));
  }

  /** Lets go of the request (stand-down, stop) and removes the journal. */
  async stop(bus: ResolvedBus | null): Promise<void> {
    this.target = null;
    await this.queue;
    if (this.held && bus) await this.release(bus);
    await this.journal?.undoAll(this.opts.log);
    this.journal = null;
  }

  private async request(bus: ResolvedBus, nm: NmUplink): Promise<void> {
    const key = nmKeyOf(nm);
    const undo = [process.execPath, V6ONLY_UNDO, 'reset', nm.iface, nm.uuid];
    if (process.env.DBUS_SYSTEM_BUS_ADDRESS) undo.push('--bus', systemBusAddress());
    try {
      this.journal ??= Journal.create(this.dir);
      await this.journal.apply(
        `DHCPv4 option 108 requested on ${nm.iface} (NetworkManager connection ${nm.name}, ${nm.uuid})`,
        { kind: 'exec', argv: undo },
        async () => {
          const r = await reapplyV6OnlyPreferred(bus, nm.iface, nm.uuid, DEFAULT, YES);
          if (r !== 'changed') throw new Error(WORDS[r]);
        },
      );
      this.held = key;
      this.failed = null;
      this.opts.log(say('v6only.asking', { uplink: nm.iface, version: nm.version, connection: nm.name }));
    } catch (err) {
      const e = (err as Error).message.split('\n')[0];
      const status = failedMessage(nm, e);
      this.failed = { key, status };
      if (same(this.target, key)) {
        this.target = null;
        this.status = status;
      }
      this.opts.log(say('v6only.ask-failed', { uplink: nm.iface, error: e }));
    }
  }

  private async release(bus: ResolvedBus): Promise<void> {
    const h = this.held;
    if (!h) return;
    this.held = null;
    try {
      const r = await reapplyV6OnlyPreferred(bus, h.iface, h.uuid, YES, DEFAULT);
      this.opts.log(
        r === 'changed'
          ? say('v6only.released', { uplink: h.iface, connection: h.name })
          : say(`v6only.release-${r}`, { uplink: h.iface, connection: h.name }),
      );
      // Undone in this process: the journal's step (a program) need not run.
      this.journal?.forgetLast();
    } catch (err) {
      // The journal's own step tries again (another process, its own connection to the bus).
      this.opts.log(say('v6only.release-failed', { uplink: h.iface, error: (err as Error).message }));
      await this.journal?.undoLast();
    }
  }
}

const WORDS: Record<string, string> = {
  gone: 'the device or NetworkManager is gone, and the applied connection with it',
  'other-activation': 'the device runs another activation, which never had the request',
  'changed-by-someone-else': 'someone else changed the setting since',
};

/** The status while option 108 is asked for on nm's connection. */
export function requestedMessage(nm: NmUplink): Message {
  return {
    code: 'v6only.requested',
    params: { connection: nm.name, version: nm.version },
    text: `DHCPv4 asks for option 108 (IPv6-only preferred, RFC 8925) on ${nm.name}: an IPv6-mostly network may withhold IPv4, the CLAT stands in (NetworkManager ${nm.version})`,
  };
}

/** Why option 108 is not asked for on nm's connection (undefined: nothing stands in the way). */
export function notRequestedMessage(nm: NmUplink | null, allowed: boolean): Message | undefined {
  if (!nm) return undefined;
  if (!nm.supported)
    return {
      code: 'v6only.unsupported',
      params: { version: nm.version || '?' },
      text: `DHCPv4 option 108 is not requested: NetworkManager ${nm.version || '?'} has no ipv4.dhcp-ipv6-only-preferred (${NM_V6ONLY_SINCE.join('.')} and later have it)`,
    };
  if (nm.method !== 'auto')
    return {
      code: 'v6only.not-dhcp',
      params: { method: nm.method },
      text: `DHCPv4 option 108 is not requested: the connection's IPv4 is not from DHCP (ipv4.method ${nm.method})`,
    };
  if (nm.value !== DEFAULT)
    return {
      code: 'v6only.connection-setting',
      params: { connection: nm.name, value: nm.value },
      text: `the connection ${nm.name} sets ipv4.dhcp-ipv6-only-preferred to ${nm.value} itself; clatbar leaves it as it is`,
    };
  if (!allowed)
    return {
      code: 'v6only.not-allowed',
      params: { connection: nm.name },
      text: `DHCPv4 option 108 is not requested on ${nm.name}: the CLAT may not run here now, so this host needs IPv4`,
    };
  return undefined;
}

/** The status when asking for option 108 failed (not tried again on the same activation). */
export function failedMessage(nm: NmUplink, error: string): Message {
  return {
    code: 'v6only.failed',
    params: { connection: nm.name, error },
    text: `DHCPv4 option 108 could not be requested on ${nm.name}: ${error}`,
  };
}
