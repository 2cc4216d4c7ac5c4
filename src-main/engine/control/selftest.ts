// `selfTest`: real checks of what a user needs from the CLAT, each with a result (pass, fail or
// skipped), a sentence, and the fix. Targets are configurable (`run --selftest-target`,
// `--selftest-name`); the defaults are public anycast resolvers, tests always pass lab
// addresses. Every probe is bounded in time and runs beside the data path, never on it.
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { execOut } from '../system/exec.js';
import { findFirewallProblems } from '../system/firewall.js';
import { learnUplinkResolvers } from '../dns64/system-resolver.js';
import { formatIPv6, ipv4Bytes, parseIPv4, parsePrefix6 } from '../ip/address.js';
import { embedIPv4 } from '../ip/rfc6052.js';
import type { SelfTestCheck, SelfTestReport } from '../../shared/control.js';
import type { EngineStatusDoc } from '../../shared/status.js';

export type { SelfTestReport };

/** Quad9 and Cloudflare on 443: anycast, always up, and answering TCP on that port. */
export const DEFAULT_SELFTEST_TARGETS = ['9.9.9.9:443', '1.1.1.1:443'];
export const DEFAULT_SELFTEST_NAME = 'example.com';
const PROBE_MS = 3000;

export interface SelfTestTargets {
  ipv4: Array<{ address: string; port: number }>;
  name: string;
}

/** "192.0.2.1" or "192.0.2.1:8080" (port 443 by default). */
export function parseTarget(text: string): { address: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] === undefined ? 443 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new Error(
      `--selftest-target ${text}: give an IPv4 address, optionally with :PORT (e.g. 192.0.2.1:443)`,
    );
  parseIPv4(m[1]);
  return { address: m[1], port };
}

type Status = Record<string, unknown>;

function check(
  id: string,
  title: string,
  result: SelfTestCheck['result'],
  text: string,
  fix?: string,
): SelfTestCheck {
  return fix ? { id, title, result, text, fix } : { id, title, result, text };
}

function tcpConnect(address: string, port: number): Promise<'open' | 'refused' | string> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: PROBE_MS });
    const done = (r: string) => {
      s.destroy();
      resolve(r);
    };
    s.once('connect', () => done('open'));
    s.once('timeout', () => done(`no answer within ${PROBE_MS / 1000} s`));
    s.once('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'refused' : (e.code ?? e.message)),
    );
  });
}

async function ping(args: string[]): Promise<boolean> {
  try {
    await execOut(['ping', '-n', '-c', '1', '-W', String(PROBE_MS / 1000), ...args], {
      timeoutMs: PROBE_MS + 2000,
    });
    return true;
  } catch {
    return false;
  }
}

async function icmpCheck(t: SelfTestTargets, active: boolean): Promise<SelfTestCheck> {
  const title = 'IPv4 ping through the CLAT';
  if (!active)
    return check(
      'ipv4-icmp',
      title,
      'skipped',
      'the CLAT is not active, so there is nothing to ping through',
    );
  for (const { address } of t.ipv4)
    if (await ping([address]))
      return check('ipv4-icmp', title, 'pass', `${address} answered a ping over IPv4`);
  return check(
    'ipv4-icmp',
    title,
    'fail',
    `no answer to a ping from ${t.ipv4.map((x) => x.address).join(', ')}`,
    'check the NAT64 prefix (clatbar status) and the firewall check below; some networks drop ICMP, so look at the TCP check too',
  );
}

async function tcpCheck(t: SelfTestTargets, active: boolean): Promise<SelfTestCheck> {
  const title = 'IPv4 TCP connection through the CLAT';
  if (!active) return check('ipv4-tcp', title, 'skipped', 'the CLAT is not active');
  const tried: string[] = [];
  for (const { address, port } of t.ipv4) {
    const r = await tcpConnect(address, port);
    // A refusal is an answer from the far end: the path works.
    if (r === 'open' || r === 'refused')
      return check(
        'ipv4-tcp',
        title,
        'pass',
        `${address}:${port} answered (${r === 'open' ? 'connected' : 'refused the port'})`,
      );
    tried.push(`${address}:${port}: ${r}`);
  }
  return check(
    'ipv4-tcp',
    title,
    'fail',
    `no TCP answer: ${tried.join('; ')}`,
    "check the NAT64 prefix (clatbar status), the firewall check, and that the network's NAT64 works (ping6 the prefix + an IPv4 address)",
  );
}

async function dnsCheck(t: SelfTestTargets): Promise<SelfTestCheck> {
  const title = `A and AAAA of ${t.name} through the system resolver`;
  const ask = async (family: 4 | 6): Promise<string> => {
    try {
      return (await withTimeout(lookup(t.name, { family }), PROBE_MS)).address;
    } catch (err) {
      return `error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  };
  const [a, aaaa] = await Promise.all([ask(4), ask(6)]);
  const ok = (x: string) => !x.startsWith('error:');
  if (ok(a) && ok(aaaa)) return check('dns-system', title, 'pass', `A ${a}, AAAA ${aaaa}`);
  return check(
    'dns-system',
    title,
    'fail',
    `A: ${a}; AAAA: ${aaaa}`,
    ok(aaaa)
      ? 'IPv4-only names need DNS64: run the engine with --dns64 auto'
      : 'check /etc/resolv.conf or resolvectl status: the system resolver does not answer',
  );
}

async function ipv4onlyCheck(status: Status): Promise<SelfTestCheck> {
  const title = "ipv4only.arpa from the network's resolvers (RFC 7050)";
  const uplink = typeof status.uplink === 'string' ? status.uplink : '';
  if (!uplink) return check('ipv4only-arpa', title, 'skipped', 'no uplink known yet');
  let servers: string[];
  try {
    const exclude = typeof status.clatIpv4 === 'string' ? [status.clatIpv4] : [];
    servers = (await learnUplinkResolvers({ iface: uplink, exclude })).upstreams.map((u) =>
      u.address.includes(':') ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`,
    );
  } catch (err) {
    return check(
      'ipv4only-arpa',
      title,
      'skipped',
      `could not check: the uplink's resolvers could not be read (${(err as Error).message})`,
    );
  }
  if (servers.length === 0)
    return check('ipv4only-arpa', title, 'skipped', `could not check: no resolvers are known for ${uplink}`);
  const r = new Resolver({ timeout: PROBE_MS, tries: 1 });
  r.setServers(servers);
  try {
    const aaaa = await r.resolve6('ipv4only.arpa');
    return check(
      'ipv4only-arpa',
      title,
      'pass',
      `${servers.join(', ')} synthesize ${aaaa.join(', ')}: the network does DNS64`,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return check(
      'ipv4only-arpa',
      title,
      'fail',
      `${servers.join(', ')} gave no AAAA for ipv4only.arpa (${code}): the network's resolvers do not do DNS64`,
      status.prefixSource === 'pref64' || status.prefixSource === 'configured'
        ? 'nothing to do while the prefix comes from PREF64 or --prefix; IPv4-only names need --dns64 auto'
        : 'pass --prefix, or ask the network operator for PREF64 in router advertisements',
    );
  } finally {
    r.cancel();
  }
}

async function mtuCheck(t: SelfTestTargets, status: Status, active: boolean): Promise<SelfTestCheck> {
  const title = 'path MTU towards the NAT64 (ping with DF)';
  const prefix = typeof status.prefix === 'string' ? status.prefix : '';
  const mtu = typeof status.ipv6Mtu === 'number' ? status.ipv6Mtu : 0;
  if (!active || !prefix || !mtu)
    return check('path-mtu', title, 'skipped', 'no NAT64 prefix or MTU in use yet');
  const dst = formatIPv6(embedIPv4(parsePrefix6(prefix), ipv4Bytes(parseIPv4(t.ipv4[0].address))));
  // ICMPv6 echo: 40 bytes IPv6 header + 8 ICMPv6 header + payload = the MTU.
  if (await ping(['-6', '-M', 'do', '-s', String(mtu - 48), dst]))
    return check('path-mtu', title, 'pass', `${mtu}-byte packets reach ${dst} unfragmented`);
  if (!(await ping(['-6', dst])))
    return check(
      'path-mtu',
      title,
      'skipped',
      `${dst} does not answer pings at all, so its path MTU cannot be probed`,
    );
  return check(
    'path-mtu',
    title,
    'fail',
    `${mtu}-byte packets do not reach ${dst}, small ones do: the path MTU is below what the CLAT assumes`,
    `restart the engine with a smaller --mtu (1280 always works)`,
  );
}

async function stubCheck(t: SelfTestTargets, status: Status): Promise<SelfTestCheck> {
  const title = 'the DNS64 stub answers';
  const dns64 = status.dns64 as { listen?: string[] } | undefined;
  if (!dns64?.listen?.length)
    return check('dns64-stub', title, 'skipped', 'the DNS64 stub does not run (--dns64 off)');
  const r = new Resolver({ timeout: PROBE_MS, tries: 1 });
  r.setServers(dns64.listen);
  try {
    const aaaa = await r.resolve6(t.name);
    return check(
      'dns64-stub',
      title,
      'pass',
      `${dns64.listen.join(', ')} gave AAAA ${aaaa.join(', ')} for ${t.name}`,
    );
  } catch (err) {
    return check(
      'dns64-stub',
      title,
      'fail',
      `${dns64.listen.join(', ')} gave no AAAA for ${t.name} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      "see the engine's log (clatbar logs) for the stub's upstreams",
    );
  } finally {
    r.cancel();
  }
}

async function firewallCheck(status: Status): Promise<SelfTestCheck> {
  const title = 'firewall rules that would drop translated traffic';
  const tun = typeof status.tun === 'string' ? status.tun : '';
  const uplink = typeof status.uplink === 'string' ? status.uplink : '';
  if (!tun || !uplink) return check('firewall', title, 'skipped', 'no TUN or uplink yet');
  const findings = await findFirewallProblems(tun, uplink);
  const real = findings.filter((f) => !f.couldNotCheck);
  if (real.length)
    return check(
      'firewall',
      title,
      'fail',
      real.map((f) => `${f.where}: ${f.problem}`).join('; '),
      real.map((f) => f.fix).join('; '),
    );
  if (findings.length)
    return check(
      'firewall',
      title,
      'skipped',
      findings.map((f) => f.problem).join('; '),
      findings.map((f) => f.fix).join('; '),
    );
  return check('firewall', title, 'pass', "nothing found that would drop the CLAT's traffic");
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}

export async function selfTest(
  targets: SelfTestTargets,
  statusOf: () => EngineStatusDoc,
): Promise<SelfTestReport> {
  const status = statusOf() as Status;
  const active =
    (status.state === 'running' || status.state === 'active') &&
    typeof status.prefix === 'string' &&
    status.prefix !== '';
  const checks = await Promise.all([
    icmpCheck(targets, active),
    tcpCheck(targets, active),
    dnsCheck(targets),
    ipv4onlyCheck(status),
    mtuCheck(targets, status, active),
    stubCheck(targets, status),
    firewallCheck(status),
  ]);
  return { at: new Date().toISOString(), checks };
}
