// A FAKE systemd-resolved: it owns org.freedesktop.resolve1 on a (private) system bus and
// implements the part of resolved's D-Bus API the engine calls, with resolved's real method
// signatures, object paths, error names and checks (org.freedesktop.resolve1(5),
// resolved-link-bus.c): GetLink, SetLinkDNS, SetLinkDNSEx, SetLinkDomains, SetLinkDefaultRoute,
// SetLinkLLMNR, SetLinkMulticastDNS, SetLinkDNSSEC, SetLinkDNSOverTLS, RevertLink, and the
// Properties of the Manager and Link objects.
//
// Why a fake: systemd-resolved cannot run on these machines (no systemd as PID 1), and installing
// it would take over the host's /etc/resolv.conf. It resolves no names; it keeps per-link state and
// a call log, which tests read over the same bus with the test-only method
// org.clatbar.FakeResolve1.Dump() -> s (JSON).
//
// Like resolved it knows the links of the network namespace it runs in (`ip -j link`), refuses
// unknown ifindexes (NoSuchLink), the loopback device and "managed" links (LinkBusy), forgets
// links that vanish, does what polkit would for callers that are not root (AccessDenied), and
// announces server changes with PropertiesChanged on the Manager, as resolved does.
//
//   node fake-resolved.js [--seed JSON] [--managed IFNAME] [--fail MEMBER] [--slow MEMBER]
//                         [--absent MEMBER]
//   --seed '{"up0":{"dns":[["2001:db8:1::1",53,""]],"domains":[["corp.example",false]]}}'
//   --fail MEMBER makes that method fail (org.freedesktop.DBus.Error.Failed), for tests of
//   half-done changes. --slow MEMBER answers that method (GetAll included) only after
//   SLOW_MS, for tests of a connection closed while a call waits for its reply.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { Message, Variant } from 'dbus-next';
import { BusFailure, connectFake, serveFake, type Reply } from './fake-dbus-service.js';
import {
  formatIPv4,
  formatIPv6,
  ipv4Bytes,
  ipv4FromBytes,
  parseIPv4,
  parseIPv6,
} from '../../src-main/engine/ip/address.js';

const NAME = 'org.freedesktop.resolve1';
const MANAGER_PATH = '/org/freedesktop/resolve1';
const MANAGER = 'org.freedesktop.resolve1.Manager';
const LINK = 'org.freedesktop.resolve1.Link';
const PROPS = 'org.freedesktop.DBus.Properties';
const FAKE = 'org.clatbar.FakeResolve1';

type Server = [number, Buffer, number, string]; // family, address, port, TLS name (DNSEx)
type Domain = [string, boolean];

interface LinkState {
  dns: Server[];
  domains: Domain[];
  defaultRoute: boolean;
  llmnr: string;
  mdns: string;
  /** "" is "the global setting", as resolved's Link properties say it. */
  dnssec: string;
  dnsOverTls: string;
}

interface Call {
  member: string;
  ifindex?: number;
  ifname?: string;
  uid: number | null;
  args: unknown;
  error?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const managed = new Set(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--managed' ? [a] : [])));
const failing = new Set(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--fail' ? [a] : [])));
const slow = new Set(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--slow' ? [a] : [])));
// --absent MEMBER: a resolved too old to have that method (SetLinkDNSOverTLS came in systemd 239).
const absent = new Set(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--absent' ? [a] : [])));
const SLOW_MS = 3000;
const seed = JSON.parse(arg('--seed') ?? '{}') as Record<
  string,
  { dns?: [string, number, string][]; domains?: Domain[]; defaultRoute?: boolean }
>;

function defaults(): LinkState {
  return { dns: [], domains: [], defaultRoute: true, llmnr: 'yes', mdns: 'no', dnssec: '', dnsOverTls: '' };
}

function bytesOf(address: string): [number, Buffer] {
  if (net.isIPv4(address)) return [2, Buffer.from(ipv4Bytes(parseIPv4(address)))];
  return [10, Buffer.from(parseIPv6(address) as Uint8Array)];
}

function textOf(family: number, b: Buffer): string {
  return family === 2 ? formatIPv4(ipv4FromBytes(b)) : formatIPv6(b);
}

/** The namespace's links now: ifindex -> name and whether it is loopback. */
function links(): Map<number, { ifname: string; loopback: boolean }> {
  const out = new Map<number, { ifname: string; loopback: boolean }>();
  const list = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
    ifindex: number;
    ifname: string;
    flags?: string[];
  }[];
  for (const l of list)
    out.set(l.ifindex, { ifname: l.ifname, loopback: (l.flags ?? []).includes('LOOPBACK') });
  return out;
}

const state = new Map<number, LinkState>();
const calls: Call[] = [];

// Seeded links: what the network manager had pushed before the engine came.
for (const [ifname, cfg] of Object.entries(seed)) {
  const entry = [...links()].find(([, l]) => l.ifname === ifname);
  if (!entry) throw new Error(`--seed: no link ${ifname}`);
  state.set(entry[0], {
    ...defaults(),
    dns: (cfg.dns ?? []).map(([a, port, name]) => [...bytesOf(a), port, name] as Server),
    domains: cfg.domains ?? [],
    defaultRoute: cfg.defaultRoute ?? true,
  });
}

/** resolved forgets a link when it goes (RTM_DELLINK); the fake notices on its next call. */
function prune(): Map<number, { ifname: string; loopback: boolean }> {
  const now = links();
  for (const idx of [...state.keys()]) if (!now.has(idx)) state.delete(idx);
  return now;
}

function linkPath(ifindex: number): string {
  // sd_bus_path_encode: a leading digit is escaped as _3N.
  const s = String(ifindex);
  return `${MANAGER_PATH}/link/_3${s[0]}${s.slice(1)}`;
}

function ifindexOfPath(path: string): number | null {
  const m = /^\/org\/freedesktop\/resolve1\/link\/_3(\d)(\d*)$/.exec(path);
  return m ? Number(m[1] + m[2]) : null;
}

function linkProps(s: LinkState): Record<string, Variant> {
  return {
    DNS: new Variant(
      'a(iay)',
      s.dns.map(([f, b]) => [f, b]),
    ),
    DNSEx: new Variant('a(iayqs)', s.dns),
    Domains: new Variant('a(sb)', s.domains),
    DefaultRoute: new Variant('b', s.defaultRoute),
    LLMNR: new Variant('s', s.llmnr),
    MulticastDNS: new Variant('s', s.mdns),
    DNSSEC: new Variant('s', s.dnssec),
    DNSOverTLS: new Variant('s', s.dnsOverTls),
  };
}

function managerProps(): Record<string, Variant> {
  const all: [number, number, Buffer, number, string][] = [];
  for (const [idx, s] of state) for (const [f, b, p, n] of s.dns) all.push([idx, f, b, p, n]);
  return {
    DNS: new Variant(
      'a(iiay)',
      all.map(([i, f, b]) => [i, f, b]),
    ),
    DNSEx: new Variant('a(iiayqs)', all),
  };
}

function dump(): string {
  const now = prune();
  const linksOut: Record<string, unknown> = {};
  for (const [idx, s] of state) {
    const name = now.get(idx)?.ifname ?? String(idx);
    linksOut[name] = {
      ifindex: idx,
      dns: s.dns.map(([f, b, p, n]) => `${textOf(f, b)}#${p}${n ? `#${n}` : ''}`),
      domains: s.domains.map(([d, r]) => (r ? `~${d}` : d)),
      defaultRoute: s.defaultRoute,
      llmnr: s.llmnr,
      mdns: s.mdns,
      dnssec: s.dnssec,
      dnsOverTls: s.dnsOverTls,
    };
  }
  return JSON.stringify({ links: linksOut, calls });
}

const SIGNATURES: Record<string, string> = {
  GetLink: 'i',
  SetLinkDNS: 'ia(iay)',
  SetLinkDNSEx: 'ia(iayqs)',
  SetLinkDomains: 'ia(sb)',
  SetLinkDefaultRoute: 'ib',
  SetLinkLLMNR: 'is',
  SetLinkMulticastDNS: 'is',
  SetLinkDNSSEC: 'is',
  SetLinkDNSOverTLS: 'is',
  RevertLink: 'i',
};

const bus = connectFake('fake-resolved');

/** resolved's manager_send_changed(m, "DNS"): PropertiesChanged on the Manager after a link's servers change. */
function dnsChanged(): void {
  bus.send(Message.newSignal(MANAGER_PATH, PROPS, 'PropertiesChanged', 'sa{sv}as', [MANAGER, {}, ['DNS']]));
}

async function uidOf(sender: string): Promise<number | null> {
  const reply = await bus.call(
    new Message({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'GetConnectionUnixUser',
      signature: 's',
      body: [sender],
    }),
  );
  const uid: unknown = reply?.body[0];
  return typeof uid === 'number' ? uid : null;
}

/** One Manager method, as resolved-link-bus.c does it: link checks, argument checks, polkit, change. */
async function manager(msg: Message, uid: number | null): Promise<Reply> {
  const member = msg.member;
  const want = absent.has(member) ? undefined : SIGNATURES[member];
  if (want === undefined)
    throw new BusFailure(
      'org.freedesktop.DBus.Error.UnknownMethod',
      `Unknown method ${member} or interface ${MANAGER}.`,
    );
  if (msg.signature !== want)
    throw new BusFailure(
      'org.freedesktop.DBus.Error.InvalidArgs',
      `Invalid arguments '${msg.signature}' to call ${MANAGER}.${member}(), expecting '${want}'.`,
    );
  // dbus-next gives the body as any[]; each element is checked before use below.
  const body = msg.body as unknown[];
  const ifindex = body[0] as number;
  const now = prune();
  const link = now.get(ifindex);
  if (!link) throw new BusFailure('org.freedesktop.resolve1.NoSuchLink', `Link ${ifindex} not known`);
  const call: Call = { member, ifindex, ifname: link.ifname, uid, args: body.slice(1) };
  calls.push(call);
  try {
    if (member === 'GetLink') return ['o', [linkPath(ifindex)]];
    if (link.loopback)
      throw new BusFailure('org.freedesktop.resolve1.LinkBusy', `Link ${link.ifname} is loopback device.`);
    if (managed.has(link.ifname))
      throw new BusFailure('org.freedesktop.resolve1.LinkBusy', `Link ${link.ifname} is managed.`);
    if (member === 'SetLinkDomains')
      for (const d of body[1] as Domain[])
        if (d[0] === '.' && !d[1])
          throw new BusFailure(
            'org.freedesktop.DBus.Error.InvalidArgs',
            'Root domain is not suitable as search domain',
          );
    // What polkit answers for a caller without the action when no agent can ask: denied. Root passes.
    if (uid !== 0) throw new BusFailure('org.freedesktop.DBus.Error.AccessDenied', 'Access denied');
    if (failing.has(member))
      throw new BusFailure('org.freedesktop.DBus.Error.Failed', `injected failure of ${member}`);
    const s = state.get(ifindex) ?? defaults();
    switch (member) {
      case 'SetLinkDNS':
        s.dns = (body[1] as [number, Buffer][]).map(([f, b]) => [f, b, 0, ''] as Server);
        break;
      case 'SetLinkDNSEx':
        s.dns = body[1] as Server[];
        break;
      case 'SetLinkDomains':
        s.domains = body[1] as Domain[];
        break;
      case 'SetLinkDefaultRoute':
        s.defaultRoute = body[1] as boolean;
        break;
      case 'SetLinkLLMNR':
        s.llmnr = (body[1] as string) || 'yes';
        break;
      case 'SetLinkMulticastDNS':
        s.mdns = (body[1] as string) || 'yes';
        break;
      case 'SetLinkDNSSEC':
        s.dnssec = body[1] as string;
        break;
      case 'SetLinkDNSOverTLS':
        s.dnsOverTls = body[1] as string;
        break;
      case 'RevertLink':
        state.delete(ifindex);
        dnsChanged();
        return ['', []];
    }
    state.set(ifindex, s);
    if (member.startsWith('SetLinkDNS')) dnsChanged();
    return ['', []];
  } catch (err) {
    call.error = err instanceof BusFailure ? err.dbusName : String(err);
    throw err;
  }
}

function properties(msg: Message): Reply {
  const body = msg.body as unknown[];
  let props: Record<string, Variant>;
  let iface: string;
  if (msg.path === MANAGER_PATH) {
    props = managerProps();
    iface = MANAGER;
  } else {
    const idx = ifindexOfPath(msg.path);
    const now = prune();
    if (idx === null || !now.has(idx))
      throw new BusFailure('org.freedesktop.DBus.Error.UnknownObject', `Unknown object '${msg.path}'.`);
    props = linkProps(state.get(idx) ?? defaults());
    iface = LINK;
  }
  if (body[0] !== iface && body[0] !== '')
    throw new BusFailure(
      'org.freedesktop.DBus.Error.UnknownInterface',
      `Unknown interface '${String(body[0])}'.`,
    );
  if (msg.member === 'GetAll' && msg.signature === 's') return ['a{sv}', [props]];
  if (msg.member === 'Get' && msg.signature === 'ss') {
    const v = props[body[1] as string];
    if (!v)
      throw new BusFailure(
        'org.freedesktop.DBus.Error.UnknownProperty',
        `Unknown property ${String(body[1])}`,
      );
    return ['v', [v]];
  }
  throw new BusFailure('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member}`);
}

async function answer(msg: Message): Promise<Reply> {
  if (slow.has(msg.member)) await new Promise((r) => setTimeout(r, SLOW_MS));
  if (msg.interface === MANAGER && msg.path === MANAGER_PATH) return manager(msg, await uidOf(msg.sender));
  if (msg.interface === PROPS) return properties(msg);
  if (msg.interface === FAKE && msg.member === 'Dump') return ['s', [dump()]];
  throw new BusFailure('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member}`);
}

await serveFake(bus, 'fake-resolved', NAME, answer);
