// `selfTest`: real checks of what a user needs from the CLAT, each with a result (pass, fail or
// skipped), a sentence, and the fix, each a message with a code and parameters (translated by the
// app from the shared catalogs) beside its English words. Targets are configurable
// (`run --selftest-target`, `--selftest-name`); the defaults are public anycast resolvers, tests
// always pass lab addresses. Every probe is bounded in time and runs beside the data path, never on it.
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { execOut } from '../system/exec.js';
import { findFirewallProblems } from '../system/firewall.js';
import { learnUplinkResolvers } from '../dns64/system-resolver.js';
import { formatIPv6, ipv4Bytes, parseIPv4, parsePrefix6 } from '../ip/address.js';
import { embedIPv4 } from '../ip/rfc6052.js';
import { engineMessage } from '../../shared/engine-words.js';
import type { SelfTestCheck, SelfTestReport } from '../../shared/control.js';
import type { EngineStatusDoc, Message } from '../../shared/status.js';

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
type Params = NonNullable<Message['params']>;

/**
 * One check's outcome. Each sentence is a message with a code and parameters (its English words
 * live in the shared catalog, shared/locales/en.ts under engine.selftest_*, beside the Korean),
 * and the same words as plain English strings for the CLI and older clients.
 */
function check(
  id: string,
  result: SelfTestCheck['result'],
  text: Message,
  fix?: Message,
  titleParams?: Params,
): SelfTestCheck {
  const title = engineMessage(`selftest.${id}.title`, titleParams);
  const messages = fix ? { title, text, fix } : { title, text };
  return fix
    ? { id, title: title.text, result, text: text.text, fix: fix.text, messages }
    : { id, title: title.text, result, text: text.text, messages };
}

/** A sentence of check `id`: its code is selftest.ID.WHAT. */
const say = (id: string, what: string, params?: Params): Message =>
  engineMessage(`selftest.${id}.${what}`, params);

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
  const id = 'ipv4-icmp';
  if (!active) return check(id, 'skipped', say(id, 'inactive'));
  for (const { address } of t.ipv4)
    if (await ping([address])) return check(id, 'pass', say(id, 'pass', { address }));
  return check(
    id,
    'fail',
    say(id, 'fail', { addresses: t.ipv4.map((x) => x.address).join(', ') }),
    say(id, 'fix'),
  );
}

async function tcpCheck(t: SelfTestTargets, active: boolean): Promise<SelfTestCheck> {
  const id = 'ipv4-tcp';
  if (!active) return check(id, 'skipped', say(id, 'inactive'));
  const tried: string[] = [];
  for (const { address, port } of t.ipv4) {
    const r = await tcpConnect(address, port);
    // A refusal is an answer from the far end: the path works.
    if (r === 'open' || r === 'refused')
      return check(id, 'pass', say(id, r === 'open' ? 'connected' : 'refused', { address, port }));
    tried.push(`${address}:${port}: ${r}`);
  }
  return check(id, 'fail', say(id, 'fail', { tried: tried.join('; ') }), say(id, 'fix'));
}

async function dnsCheck(t: SelfTestTargets): Promise<SelfTestCheck> {
  const id = 'dns-system';
  const title = { name: t.name };
  const ask = async (family: 4 | 6): Promise<string> => {
    try {
      return (await withTimeout(lookup(t.name, { family }), PROBE_MS)).address;
    } catch (err) {
      return `error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  };
  const [a, aaaa] = await Promise.all([ask(4), ask(6)]);
  const ok = (x: string) => !x.startsWith('error:');
  if (ok(a) && ok(aaaa)) return check(id, 'pass', say(id, 'pass', { a, aaaa }), undefined, title);
  return check(
    id,
    'fail',
    say(id, 'fail', { a, aaaa }),
    say(id, ok(aaaa) ? 'fix-dns64' : 'fix-resolver'),
    title,
  );
}

async function ipv4onlyCheck(status: Status): Promise<SelfTestCheck> {
  const id = 'ipv4only-arpa';
  const uplink = typeof status.uplink === 'string' ? status.uplink : '';
  if (!uplink) return check(id, 'skipped', say(id, 'no-uplink'));
  let servers: string[];
  try {
    const exclude = typeof status.clatIpv4 === 'string' ? [status.clatIpv4] : [];
    servers = (await learnUplinkResolvers({ iface: uplink, exclude })).upstreams.map((u) =>
      u.address.includes(':') ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`,
    );
  } catch (err) {
    return check(id, 'skipped', say(id, 'unreadable', { error: (err as Error).message }));
  }
  if (servers.length === 0) return check(id, 'skipped', say(id, 'no-resolvers', { uplink }));
  const r = new Resolver({ timeout: PROBE_MS, tries: 1 });
  r.setServers(servers);
  try {
    const aaaa = await r.resolve6('ipv4only.arpa');
    return check(id, 'pass', say(id, 'pass', { servers: servers.join(', '), addresses: aaaa.join(', ') }));
  } catch (err) {
    const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return check(
      id,
      'fail',
      say(id, 'fail', { servers: servers.join(', '), error }),
      say(
        id,
        status.prefixSource === 'pref64' || status.prefixSource === 'configured'
          ? 'fix-prefix-known'
          : 'fix-no-prefix',
      ),
    );
  } finally {
    r.cancel();
  }
}

async function mtuCheck(t: SelfTestTargets, status: Status, active: boolean): Promise<SelfTestCheck> {
  const id = 'path-mtu';
  const prefix = typeof status.prefix === 'string' ? status.prefix : '';
  const mtu = typeof status.ipv6Mtu === 'number' ? status.ipv6Mtu : 0;
  if (!active || !prefix || !mtu) return check(id, 'skipped', say(id, 'inactive'));
  const dst = formatIPv6(embedIPv4(parsePrefix6(prefix), ipv4Bytes(parseIPv4(t.ipv4[0].address))));
  // ICMPv6 echo: 40 bytes IPv6 header + 8 ICMPv6 header + payload = the MTU.
  if (await ping(['-6', '-M', 'do', '-s', String(mtu - 48), dst]))
    return check(id, 'pass', say(id, 'pass', { mtu, dst }));
  if (!(await ping(['-6', dst]))) return check(id, 'skipped', say(id, 'no-echo', { dst }));
  return check(id, 'fail', say(id, 'fail', { mtu, dst }), say(id, 'fix'));
}

async function stubCheck(t: SelfTestTargets, status: Status): Promise<SelfTestCheck> {
  const id = 'dns64-stub';
  const dns64 = status.dns64 as { listen?: string[] } | undefined;
  if (!dns64?.listen?.length) return check(id, 'skipped', say(id, 'not-running'));
  const listen = dns64.listen.join(', ');
  const r = new Resolver({ timeout: PROBE_MS, tries: 1 });
  r.setServers(dns64.listen);
  try {
    const aaaa = await r.resolve6(t.name);
    return check(id, 'pass', say(id, 'pass', { listen, addresses: aaaa.join(', '), name: t.name }));
  } catch (err) {
    const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return check(id, 'fail', say(id, 'fail', { listen, name: t.name, error }), say(id, 'fix'));
  } finally {
    r.cancel();
  }
}

async function firewallCheck(status: Status): Promise<SelfTestCheck> {
  const id = 'firewall';
  const tun = typeof status.tun === 'string' ? status.tun : '';
  const uplink = typeof status.uplink === 'string' ? status.uplink : '';
  if (!tun || !uplink) return check(id, 'skipped', say(id, 'no-tun'));
  const findings = await findFirewallProblems(tun, uplink);
  // The findings themselves (which rule, and the command that fixes it) are firewall.ts's words.
  const real = findings.filter((f) => !f.couldNotCheck);
  if (real.length)
    return check(
      id,
      'fail',
      say(id, 'fail', { findings: real.map((f) => `${f.where}: ${f.problem}`).join('; ') }),
      say(id, 'fix', { fixes: real.map((f) => f.fix).join('; ') }),
    );
  if (findings.length)
    return check(
      id,
      'skipped',
      say(id, 'unchecked', { findings: findings.map((f) => f.problem).join('; ') }),
      say(id, 'fix', { fixes: findings.map((f) => f.fix).join('; ') }),
    );
  return check(id, 'pass', say(id, 'pass'));
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
