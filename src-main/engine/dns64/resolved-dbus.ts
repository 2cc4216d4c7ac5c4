// systemd-resolved's D-Bus API (org.freedesktop.resolve1 on the system bus), the part the engine
// uses: whether resolved runs, what a link's DNS configuration is, and per-link settings with
// their revert. Signatures are resolved's own (org.freedesktop.resolve1(5)); the calls are made
// with explicit signatures, not through introspection, so a resolved that lacks a method says so
// with UnknownMethod instead of a proxy silently missing it.
//
// Errors come back as ResolvedError, whose message names the fix (permission, a link
// systemd-networkd manages, resolved gone), so the engine can log it in plain words.
import { Message, MessageType, sessionBus, DBusError, type MessageBus } from 'dbus-next';
import { overrideRefusal } from '../system/env-override.js';
import net from 'node:net';
import { ipJson, type IpLink } from '../system/iproute.js';
import { formatIPv4, formatIPv6, ipv4Bytes, ipv4FromBytes, parseIPv4, parseIPv6 } from '../ip/address.js';

export const RESOLVE1 = 'org.freedesktop.resolve1';
const MANAGER_PATH = '/org/freedesktop/resolve1';
const MANAGER = 'org.freedesktop.resolve1.Manager';
const LINK = 'org.freedesktop.resolve1.Link';
const DBUS = 'org.freedesktop.DBus';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
const AF_INET = 2;
const AF_INET6 = 10;
const DEFAULT_TIMEOUT_MS = 10_000;

/** The polkit actions resolved checks for what we call (resolved's own policy file names them). */
export const POLKIT_ACTIONS = [
  'org.freedesktop.resolve1.set-dns-servers',
  'org.freedesktop.resolve1.set-domains',
  'org.freedesktop.resolve1.set-default-route',
  'org.freedesktop.resolve1.set-llmnr',
  'org.freedesktop.resolve1.set-mdns',
  'org.freedesktop.resolve1.set-dnssec',
  'org.freedesktop.resolve1.set-dns-over-tls',
  'org.freedesktop.resolve1.revert',
];

/** One DNS server as resolved lists it (DNSEx: address, port, TLS server name). */
export interface ResolvedServer {
  family: 4 | 6;
  address: string;
  /** 53 when resolved says 0 ("the default"). */
  port: number;
  /** DNS-over-TLS server name, '' when none. */
  serverName: string;
  /** For the Manager's list: the link it belongs to, 0 for global servers. */
  ifindex: number;
}

/** A search or routing domain; routeOnly is resolvectl's "~" prefix. "." with routeOnly is "~.". */
export interface ResolvedDomain {
  name: string;
  routeOnly: boolean;
}

export interface LinkDnsConfig {
  ifindex: number;
  servers: ResolvedServer[];
  domains: ResolvedDomain[];
  /** null when this resolved has no DefaultRoute property (before systemd 240). */
  defaultRoute: boolean | null;
}

export class ResolvedError extends Error {
  constructor(
    message: string,
    /** The D-Bus error name, or null for connection problems. */
    readonly dbusName: string | null,
  ) {
    super(message);
  }
}

/** The interface index `ip` reports for a link (resolved speaks ifindexes, not names). */
export async function ifindexOf(ifname: string): Promise<number> {
  let first: Partial<IpLink> | undefined;
  try {
    first = (await ipJson<IpLink>(['link', 'show', 'dev', ifname]))[0];
  } catch (err) {
    throw new Error(`no link ${ifname}: ${(err as Error).message}`);
  }
  if (!first || typeof first.ifindex !== 'number')
    throw new Error(`\`ip -j link show dev ${ifname}\` gave no ifindex`);
  return first.ifindex;
}

/** The link name for an ifindex, or null when no such link exists (now). */
export async function ifnameOf(ifindex: number): Promise<string | null> {
  try {
    for (const l of await ipJson<Partial<IpLink>>(['link', 'show']))
      if (l.ifindex === ifindex && typeof l.ifname === 'string') return l.ifname;
  } catch {
    // `ip` failing here means we cannot tell; the caller treats that as "gone".
  }
  return null;
}

/** Address text to resolved's (family, bytes) pair. */
export function addressBytes(address: string): { family: number; bytes: Buffer } {
  const bare = address.split('%')[0];
  if (net.isIPv4(bare)) return { family: AF_INET, bytes: Buffer.from(ipv4Bytes(parseIPv4(bare))) };
  if (!net.isIPv6(bare)) throw new Error(`'${address}' is not an IP address`);
  return { family: AF_INET6, bytes: Buffer.from(parseIPv6(bare)) };
}

function textOf(family: number, bytes: Buffer): { family: 4 | 6; address: string } | null {
  if (family === AF_INET && bytes.length === 4)
    return { family: 4, address: formatIPv4(ipv4FromBytes(bytes)) };
  if (family === AF_INET6 && bytes.length === 16) return { family: 6, address: formatIPv6(bytes) };
  return null;
}

/** A D-Bus variant as dbus-next hands it over: the value is whatever the signature says. */
interface VariantLike {
  signature: string;
  value: unknown;
}

function isVariant(v: unknown): v is VariantLike {
  return typeof v === 'object' && v !== null && 'signature' in v && 'value' in v;
}

/** Servers from a DNS a(iay) / DNSEx a(iayqs) link property or a(iiay) / a(iiayqs) Manager one. */
export function parseServers(value: unknown, withIfindex: boolean, ifindex = 0): ResolvedServer[] {
  if (!Array.isArray(value)) return [];
  const out: ResolvedServer[] = [];
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const e = entry as unknown[];
    const off = withIfindex ? 1 : 0;
    const idx = withIfindex ? e[0] : ifindex;
    const fam = e[off];
    const bytes = e[off + 1];
    if (typeof idx !== 'number' || typeof fam !== 'number' || !Buffer.isBuffer(bytes)) continue;
    const t = textOf(fam, bytes);
    if (!t) continue;
    const port = typeof e[off + 2] === 'number' && (e[off + 2] as number) > 0 ? (e[off + 2] as number) : 53;
    const serverName = typeof e[off + 3] === 'string' ? (e[off + 3] as string) : '';
    out.push({ ...t, port, serverName, ifindex: idx });
  }
  return out;
}

export function parseDomains(value: unknown): ResolvedDomain[] {
  if (!Array.isArray(value)) return [];
  const out: ResolvedDomain[] = [];
  for (const entry of value as unknown[]) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'boolean')
      out.push({ name: entry[0], routeOnly: entry[1] });
  }
  return out;
}

/** Domains as resolvectl prints them: "~." for the root routing domain, "~corp.example", "example". */
export function formatDomains(domains: readonly ResolvedDomain[]): string {
  return domains.map((d) => (d.routeOnly ? `~${d.name}` : d.name)).join(' ') || '(none)';
}

/** The system bus address we use: DBUS_SYSTEM_BUS_ADDRESS (as dbus-next reads it) or the default. */
export function systemBusAddress(): string {
  const override = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  // As root, only a bus socket root owns in root-only directories (system/env-override.ts).
  if (override && overrideRefusal('DBUS_SYSTEM_BUS_ADDRESS', override) === null) return override;
  return 'unix:path=/var/run/dbus/system_bus_socket';
}

/**
 * An undo program's `--bus ADDRESS` (the bus the change was made on, journaled with it): taken
 * out of argv into DBUS_SYSTEM_BUS_ADDRESS, where systemBusAddress() checks it. Returns the rest.
 */
export function takeBusOption(argv: string[]): string[] {
  const at = argv.indexOf('--bus');
  if (at < 0) return argv;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = argv[at + 1];
  return [...argv.slice(0, at), ...argv.slice(at + 2)];
}

/** Connection failures that mean "there is no system bus here", so resolved cannot be running. */
export const NO_BUS = ['ENOENT', 'ECONNREFUSED'];

/**
 * Turns a failed call into a ResolvedError whose message says what was refused and what fixes it.
 * `doing` is plain words ("setting DNS on clat0").
 */
export function explain(err: unknown, doing: string, ifname?: string): ResolvedError {
  if (err instanceof ResolvedError) return err;
  if (err instanceof DBusError) {
    const name = err.type;
    const text = err.text || name;
    let fix: string;
    switch (name) {
      case 'org.freedesktop.DBus.Error.AccessDenied':
      case 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired':
      case 'org.freedesktop.PolicyKit1.Error.NotAuthorized':
        fix =
          'run the engine as root (the systemd unit or pkexec does), or let its user have the polkit actions ' +
          `${POLKIT_ACTIONS.join(', ')} (a rule in /etc/polkit-1/rules.d)`;
        break;
      case 'org.freedesktop.resolve1.LinkBusy':
        fix = /loopback/.test(text)
          ? 'resolved takes no per-link DNS on the loopback device; use the CLAT TUN'
          : `systemd-networkd manages ${ifname ?? 'the link'} (a .network file matches it), so resolved takes its DNS from networkd only: ` +
            `make networkd leave it alone (a .network file for it with [Link] Unmanaged=yes), or run with --dns64 off`;
        break;
      case 'org.freedesktop.resolve1.NoSuchLink':
        fix = `resolved does not know ${ifname ?? 'the link'} (yet): it must be up with an address`;
        break;
      case 'org.freedesktop.DBus.Error.ServiceUnknown':
      case 'org.freedesktop.DBus.Error.NameHasNoOwner':
      case 'org.freedesktop.DBus.Error.NoReply':
      case 'org.freedesktop.DBus.Error.Timeout':
        fix = 'systemd-resolved went away or stopped answering; see `systemctl status systemd-resolved`';
        break;
      default:
        fix = 'see `journalctl -u systemd-resolved`';
    }
    return new ResolvedError(`systemd-resolved refused ${doing}: ${text} (${name}); ${fix}`, name);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const msg = (err as Error | undefined)?.message ?? String(err);
  // EACCES: the socket's permissions; EPIPE/ECONNRESET (or EBADF from dbus-next's socket, when
  // it reads after the close) while connecting: dbus-daemon hung up during authentication, which
  // is what its policy does to a user it does not let connect.
  if (code === 'EACCES' || code === 'EPIPE' || code === 'ECONNRESET' || code === 'EBADF' || /auth/i.test(msg))
    return new ResolvedError(
      `the system bus (${systemBusAddress()}) refused us (uid ${process.getuid?.() ?? '?'}) while ${doing}: ${msg}; ` +
        'run the engine as root (the systemd unit or pkexec does)',
      null,
    );
  return new ResolvedError(
    `system bus (${systemBusAddress()}) failed while ${doing}: ${msg}; see \`systemctl status dbus\` ` +
      '(the bus itself is unwell; with --dns64 off clatbar does not need it)',
    null,
  );
}

/** A connection to the system bus for talking to resolved. close() when done. */
export class ResolvedBus {
  private failure: Error | null = null;
  private closed = false;
  private readonly failed = new Set<(err: Error) => void>();

  private constructor(
    private readonly bus: MessageBus,
    private readonly timeoutMs: number,
  ) {
    bus.on('error', (err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
      for (const f of this.failed) f(this.failure);
    });
  }

  /**
   * Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard socket). Rejects
   * with the socket error (code ENOENT when there is no bus) or a timeout.
   */
  static async connect(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ResolvedBus> {
    // dbus-next's systemBus() would take DBUS_SYSTEM_BUS_ADDRESS unchecked; sessionBus() with an
    // explicit address is the same client on the address we decided on.
    const bus = sessionBus({ busAddress: systemBusAddress() });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no answer from the system bus at ${systemBusAddress()} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: unknown): void => {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        bus.removeListener('connect', onConnect);
        bus.removeListener('error', onError);
      };
      bus.on('connect', onConnect);
      bus.on('error', onError);
    }).catch((err: unknown) => {
      disconnectQuietly(bus);
      throw err;
    });
    return new ResolvedBus(bus, timeoutMs);
  }

  /**
   * Disconnects. Calls still waiting for a reply end now, rejected: dbus-next never settles them
   * once its socket is gone, and their timeout timers would keep the process alive for up to
   * timeoutMs after the engine stopped.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new ResolvedError('the connection to the system bus was closed', null);
    for (const f of [...this.failed]) f(err);
    disconnectQuietly(this.bus);
  }

  /** One method call with an explicit signature; the reply body, or a rejection (DBusError, bus error, timeout). */
  async call(opts: {
    destination?: string;
    path?: string;
    iface: string;
    member: string;
    signature?: string;
    body?: unknown[];
  }): Promise<unknown[]> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new ResolvedError('the connection to the system bus was closed', null);
    const msg = new Message({
      destination: opts.destination ?? RESOLVE1,
      path: opts.path ?? MANAGER_PATH,
      interface: opts.iface,
      member: opts.member,
      signature: opts.signature ?? '',
      body: opts.body ?? [],
    });
    let onFail: ((err: Error) => void) | null = null;
    let timer: NodeJS.Timeout | null = null;
    try {
      const reply = await Promise.race([
        this.bus.call(msg),
        new Promise<never>((_, reject) => {
          onFail = reject;
          this.failed.add(reject);
          timer = setTimeout(
            () =>
              reject(
                new DBusError(
                  'org.freedesktop.DBus.Error.Timeout',
                  `no reply to ${opts.member} within ${this.timeoutMs} ms`,
                ),
              ),
            this.timeoutMs,
          );
        }),
      ]);
      // dbus-next types body as any[]; we hand it out as unknown[] and check every use.
      return (reply?.body ?? []) as unknown[];
    } finally {
      if (onFail) this.failed.delete(onFail);
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * Calls fn whenever resolved says its DNS configuration changed (PropertiesChanged on the
   * Manager: resolved emits it for "DNS" when any link's servers change, RevertLink included) or
   * resolved itself comes or goes (NameOwnerChanged). Signals only reach us after AddMatch.
   */
  async onResolvedChange(fn: (why: string) => void): Promise<void> {
    for (const rule of [
      `type='signal',sender='${RESOLVE1}',path='${MANAGER_PATH}',interface='${PROPERTIES}',member='PropertiesChanged'`,
      `type='signal',sender='${DBUS}',interface='${DBUS}',member='NameOwnerChanged',arg0='${RESOLVE1}'`,
    ])
      await this.call({
        destination: DBUS,
        path: '/org/freedesktop/DBus',
        iface: DBUS,
        member: 'AddMatch',
        signature: 's',
        body: [rule],
      });
    this.bus.on('message', (msg: Message) => {
      if (msg.type !== MessageType.SIGNAL) return;
      // dbus-next types the body as any[]; only strings are read from it here.
      const body = msg.body as unknown[];
      if (msg.path === MANAGER_PATH && msg.interface === PROPERTIES && msg.member === 'PropertiesChanged') {
        // Changed values (EMITS_CHANGE) or only their names (EMITS_INVALIDATION).
        const names = [
          ...Object.keys((body[1] as object | undefined) ?? {}),
          ...(Array.isArray(body[2]) ? (body[2] as unknown[]).map(String) : []),
        ];
        fn(`resolved's ${names.join(', ') || 'configuration'} changed`);
      } else if (msg.interface === DBUS && msg.member === 'NameOwnerChanged' && body[0] === RESOLVE1)
        fn(body[2] ? 'systemd-resolved (re)started' : 'systemd-resolved stopped');
    });
  }

  /** Whether org.freedesktop.resolve1 has an owner (NameHasOwner: asking never starts resolved). */
  async resolvedRunning(): Promise<boolean> {
    const [has] = await this.call({
      destination: DBUS,
      path: '/org/freedesktop/DBus',
      iface: DBUS,
      member: 'NameHasOwner',
      signature: 's',
      body: [RESOLVE1],
    });
    return has === true;
  }

  private async properties(path: string, iface: string): Promise<Map<string, unknown>> {
    const [all] = await this.call({
      path,
      iface: PROPERTIES,
      member: 'GetAll',
      signature: 's',
      body: [iface],
    });
    const out = new Map<string, unknown>();
    if (typeof all === 'object' && all !== null)
      for (const [k, v] of Object.entries(all)) out.set(k, isVariant(v) ? v.value : v);
    return out;
  }

  /** The Link object's DNS configuration (DNSEx, else DNS; Domains; DefaultRoute). */
  async linkConfig(ifindex: number): Promise<LinkDnsConfig> {
    const [path] = await this.call({ iface: MANAGER, member: 'GetLink', signature: 'i', body: [ifindex] });
    if (typeof path !== 'string')
      throw new ResolvedError(`GetLink(${ifindex}) returned no object path`, null);
    const props = await this.properties(path, LINK);
    const servers = props.has('DNSEx')
      ? parseServers(props.get('DNSEx'), false, ifindex)
      : parseServers(props.get('DNS'), false, ifindex);
    const dr = props.get('DefaultRoute');
    return {
      ifindex,
      servers,
      domains: parseDomains(props.get('Domains')),
      defaultRoute: typeof dr === 'boolean' ? dr : null,
    };
  }

  /** Every server resolved knows (Manager DNSEx/DNS): ifindex 0 are the global ones. */
  async allServers(): Promise<ResolvedServer[]> {
    const props = await this.properties(MANAGER_PATH, MANAGER);
    return props.has('DNSEx') ? parseServers(props.get('DNSEx'), true) : parseServers(props.get('DNS'), true);
  }

  /** SetLinkDNSEx (systemd ≥ 246, carries the port), else SetLinkDNS. */
  async setLinkDns(ifindex: number, servers: readonly { address: string; port?: number }[]): Promise<void> {
    const ex = servers.map((s) => {
      const { family, bytes } = addressBytes(s.address);
      return [family, bytes, s.port ?? 53, ''];
    });
    try {
      await this.call({
        iface: MANAGER,
        member: 'SetLinkDNSEx',
        signature: 'ia(iayqs)',
        body: [ifindex, ex],
      });
    } catch (err) {
      if (!(err instanceof DBusError) || err.type !== 'org.freedesktop.DBus.Error.UnknownMethod') throw err;
      if (servers.some((s) => (s.port ?? 53) !== 53))
        throw new ResolvedError(
          'this systemd-resolved has no SetLinkDNSEx and cannot take a port other than 53',
          null,
        );
      await this.call({
        iface: MANAGER,
        member: 'SetLinkDNS',
        signature: 'ia(iay)',
        body: [ifindex, ex.map(([f, b]) => [f, b])],
      });
    }
  }

  async setLinkDomains(ifindex: number, domains: readonly ResolvedDomain[]): Promise<void> {
    await this.call({
      iface: MANAGER,
      member: 'SetLinkDomains',
      signature: 'ia(sb)',
      body: [ifindex, domains.map((d) => [d.name, d.routeOnly])],
    });
  }

  async setLinkDefaultRoute(ifindex: number, on: boolean): Promise<void> {
    await this.call({ iface: MANAGER, member: 'SetLinkDefaultRoute', signature: 'ib', body: [ifindex, on] });
  }

  /** mode: "yes", "no", "resolve" (resolved's ResolveSupport names). */
  async setLinkLlmnr(ifindex: number, mode: string): Promise<void> {
    await this.call({ iface: MANAGER, member: 'SetLinkLLMNR', signature: 'is', body: [ifindex, mode] });
  }

  async setLinkMulticastDns(ifindex: number, mode: string): Promise<void> {
    await this.call({
      iface: MANAGER,
      member: 'SetLinkMulticastDNS',
      signature: 'is',
      body: [ifindex, mode],
    });
  }

  /** mode: "yes", "no", "allow-downgrade", or "" for the global setting. */
  async setLinkDnssec(ifindex: number, mode: string): Promise<void> {
    await this.call({ iface: MANAGER, member: 'SetLinkDNSSEC', signature: 'is', body: [ifindex, mode] });
  }

  /** mode: "yes", "no", "opportunistic", or "" for the global setting (systemd ≥ 239). */
  async setLinkDnsOverTls(ifindex: number, mode: string): Promise<void> {
    await this.call({ iface: MANAGER, member: 'SetLinkDNSOverTLS', signature: 'is', body: [ifindex, mode] });
  }

  /** Drops everything set over the bus for the link: resolved goes back to what it had before. */
  async revertLink(ifindex: number): Promise<void> {
    await this.call({ iface: MANAGER, member: 'RevertLink', signature: 'i', body: [ifindex] });
  }
}

function disconnectQuietly(bus: MessageBus): void {
  try {
    bus.disconnect();
  } catch {
    // Already closed (the socket failed): nothing left to release.
  }
  // disconnect() only ends our side of the socket and waits for the bus to close its side; a
  // bus that has stopped answering (hung dbus-daemon, a stale socket someone else listens on)
  // never does, and the open socket would keep a stopped engine alive for good. Everything we
  // send is awaited before close(), so there is nothing left to flush. dbus-next's typings do
  // not declare the connection's stream, hence the cast.
  const stream = (bus as unknown as { _connection?: { stream?: { destroy?: () => void } } })._connection
    ?.stream;
  stream?.destroy?.();
}

/**
 * Whether systemd-resolved runs: its name has an owner on the system bus. No system bus at all
 * (no socket, refused) means no. A bus that is there but turns us away is an error: we cannot
 * tell, and guessing wrong would rewrite resolved's /etc/resolv.conf under it.
 */
export async function resolvedOnBus(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<boolean> {
  let bus: ResolvedBus;
  try {
    bus = await ResolvedBus.connect(timeoutMs);
  } catch (err) {
    if (NO_BUS.includes((err as NodeJS.ErrnoException).code ?? '')) return false;
    throw explain(err, 'asking whether systemd-resolved runs');
  }
  try {
    return await bus.resolvedRunning();
  } catch (err) {
    throw explain(err, 'asking whether systemd-resolved runs');
  } finally {
    bus.close();
  }
}
