// `diagnostics`: a report a user can attach to a bug report and read before sending it.
// Versions, the engine's state and recent transitions, the network as the engine sees it, the
// addresses and routes it made, counters, the last 500 log lines and the latest self-test.
// Nothing secret: no tokens or keys are collected, and every MAC address anywhere in the report
// is replaced by a keyed hash (HMAC with a key made for this process, so the same device reads
// the same within a report and across reports of one run, but a MAC cannot be recovered by
// trying every vendor's range).
import { createHmac, randomBytes } from 'node:crypto';
import { release } from 'node:os';
import { execOut } from '../system/exec.js';
import { VERSION } from '../../shared/version.js';
import type { EngineStatusDoc, LogLine } from '../../shared/status.js';
import type { SelfTestReport } from '../../shared/control.js';

const MAC_KEY = randomBytes(32);
const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi;

/** A MAC address as a stable, unrecoverable token: "mac#3f2a9c01". */
export function hashMac(mac: string): string {
  return `mac#${createHmac('sha256', MAC_KEY).update(mac.toLowerCase()).digest('hex').slice(0, 8)}`;
}

/**
 * The last 64 bits of an IPv6 address made from a MAC (modified EUI-64, RFC 4291 appendix A:
 * the MAC's halves around ff:fe), as the canonical text form writes them.
 */
const EUI64 = /\b[0-9a-f]{1,4}:[0-9a-f]{0,2}ff:fe[0-9a-f]{2}:[0-9a-f]{1,4}\b/gi;

/**
 * Replaces every MAC address in a JSON-able value (keys and strings alike), and the interface
 * identifier of IPv6 addresses made from one (networks without privacy addresses).
 */
export function scrubMacs<T>(value: T): T {
  const text = JSON.stringify(value)
    .replace(MAC, (m) => hashMac(m))
    .replace(EUI64, (m) => hashMac(m).replace('mac#', 'eui64#'));
  return JSON.parse(text) as T;
}

async function firstLine(argv: string[]): Promise<string | null> {
  try {
    return (await execOut(argv, { timeoutMs: 3000 })).split('\n')[0].trim() || null;
  } catch {
    return null;
  }
}

async function ipJson(args: string[]): Promise<unknown> {
  try {
    return JSON.parse((await execOut(['ip', '-j', ...args], { timeoutMs: 3000 })) || '[]');
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export interface DiagnosticsSources {
  status: () => EngineStatusDoc;
  logs: () => LogLine[];
  lastSelfTest: () => SelfTestReport | null;
}

export async function diagnostics(src: DiagnosticsSources): Promise<Record<string, unknown>> {
  const status = src.status() as Record<string, unknown>;
  const tun = typeof status.tun === 'string' ? status.tun : null;
  const [nm, resolved, addrs, routes4, routes6, uplinkRoutes] = await Promise.all([
    firstLine(['NetworkManager', '--version']),
    firstLine(['resolvectl', '--version']),
    tun ? ipJson(['addr', 'show', 'dev', tun]) : null,
    tun ? ipJson(['-4', 'route', 'show', 'dev', tun]) : null,
    tun ? ipJson(['-6', 'route', 'show', 'dev', tun]) : null,
    ipJson(['-6', 'route', 'show', 'default']),
  ]);
  const report = {
    generatedAt: new Date().toISOString(),
    versions: {
      clatbar: VERSION,
      node: process.versions.node,
      kernel: release(),
      networkManager: nm,
      systemdResolved: resolved,
    },
    state: status.state,
    transitions: status.transitions ?? null,
    network: {
      id: status.network ?? null,
      classification: status.classification ?? null,
      policy: status.policy ?? null,
      uplink: status.uplink ?? null,
      prefix: status.prefix ?? null,
      prefixSource: status.prefixSource ?? null,
      prefixFrom: status.prefixFrom ?? null,
    },
    made: {
      clatIpv4: status.clatIpv4 ?? null,
      clatIpv6: status.clatIpv6 ?? null,
      tun,
      addresses: addrs,
      routesV4: routes4,
      routesV6: routes6,
      ipv6DefaultRoutes: uplinkRoutes,
    },
    counters: status.counters ?? null,
    status,
    logs: src.logs().slice(-500),
    selfTest: src.lastSelfTest(),
  };
  return scrubMacs(report);
}
