// The engine's status document (control API `status` and `state` pushes; shared/status.ts) as
// the app shows it (shared/ipc.ts EngineStatus). Defensive on purpose: a field with the wrong
// type is left out rather than trusted, extra fields are ignored (an older app works with a newer
// engine), and the foreground engine's document (`clatbar run --uplink`, state "running" before
// the daemon) maps too. Only a document without a known state is refused.
import type {
  EngineStatus,
  EngineState,
  PrefixSource,
  Traffic,
  Dns64Activity,
  Transition,
  EngineSettings,
} from '../shared/ipc.js';
import type { Message } from '../shared/status.js';
import { appMessage } from '../shared/i18n.js';

/** The reply is not a clatbar engine status. */
export class ProtocolError extends Error {}

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const str = (o: Json, k: string): string | undefined =>
  typeof o[k] === 'string' ? (o[k] as string) : undefined;
const num = (o: Json, k: string): number | undefined =>
  typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined;

/** A {code, params, text} message, or a bare string the engine sent (shown as it is). */
export function messageOf(v: unknown): Message | undefined {
  if (typeof v === 'string') return { code: 'text', text: v };
  if (!isObject(v) || typeof v.code !== 'string' || typeof v.text !== 'string') return undefined;
  const params: Record<string, string | number | boolean> = {};
  if (isObject(v.params))
    for (const [k, p] of Object.entries(v.params))
      if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean') params[k] = p;
  return Object.keys(params).length ? { code: v.code, params, text: v.text } : { code: v.code, text: v.text };
}

const PREFIX_SOURCES: readonly string[] = ['pref64', 'ipv4only.arpa', 'configured'];
const STATES: readonly string[] = ['off', 'standby', 'active', 'attention', 'stopping'];

/** Data path counters that are drops, under the names DROP_REASONS uses. */
export const DATA_PATH_DROPS: Readonly<Record<string, string>> = {
  writeRefused: 'write-refused',
  writeErrors: 'write-errors',
  stagedOverflow: 'staged-overflow',
};

function dns64From(v: unknown): Dns64Activity | undefined {
  if (!isObject(v) || typeof v.queries !== 'number') return undefined;
  const upstream = isObject(v.upstream) ? v.upstream : {};
  const listen = Array.isArray(v.listen)
    ? v.listen.filter((x): x is string => typeof x === 'string')
    : undefined;
  return {
    mode: v.mode === 'auto' || v.mode === 'on' ? v.mode : undefined,
    listen,
    queries: v.queries,
    synthesized: num(v, 'synthesized') ?? 0,
    ptrSynthesized: num(v, 'ptrSynthesized'),
    cacheHits: num(v, 'cacheHits'),
    passedThrough: num(v, 'passedThrough'),
    servfail: num(v, 'servfail'),
    upstreamDoesDns64: typeof v.upstreamDoesDns64 === 'boolean' ? v.upstreamDoesDns64 : null,
    upstreamTimeouts: num(upstream, 'timeouts'),
  };
}

/** Traffic and drops from the engine's counters (translated46/64, bytes46/64, tun.*, drop.*). */
export function trafficFrom(
  counters: Json,
  sampledAt: number,
): { traffic: Traffic; drops: Record<string, number> } {
  const count = (k: string) => num(counters, k) ?? 0;
  const drops: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) {
    if (typeof v !== 'number' || v <= 0) continue;
    if (k.startsWith('drop.')) drops[k.slice(5)] = v;
    else if (Object.hasOwn(DATA_PATH_DROPS, k)) drops[DATA_PATH_DROPS[k]] = v;
  }
  const traffic: Traffic = {
    sampledAt,
    packets4to6: count('translated46'),
    packets6to4: count('translated64'),
    bytes4to6: num(counters, 'bytes46'),
    bytes6to4: num(counters, 'bytes64'),
    icmpErrorsSent: count('icmpErrorsSent'),
    fragmentsEmitted: count('fragmentsEmitted'),
  };
  if (num(counters, 'tun.rxPackets') !== undefined)
    traffic.tunIn = { packets: count('tun.rxPackets'), bytes: count('tun.rxBytes') };
  if (num(counters, 'tun.txPackets') !== undefined)
    traffic.tunOut = { packets: count('tun.txPackets'), bytes: count('tun.txBytes') };
  return { traffic, drops };
}

function transitionsFrom(v: unknown): Transition[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Transition[] = [];
  for (const t of v) {
    if (!isObject(t)) continue;
    const time = str(t, 'time');
    const to = str(t, 'to');
    const reason = messageOf(t.reason);
    if (time && to && reason)
      out.push({ time, to, reason, ...(str(t, 'from') ? { from: str(t, 'from') } : {}) });
  }
  return out;
}

/**
 * Maps the engine's `status` result to the app's view. Throws ProtocolError when the reply is not
 * a status at all.
 */
export function toEngineStatus(reply: unknown, controlSocket: string, sampledAt: number): EngineStatus {
  if (!isObject(reply)) throw new ProtocolError('the status is not an object');
  const raw = str(reply, 'state');
  if (raw === undefined) throw new ProtocolError('"state" is missing or not a string');
  if (raw !== 'running' && !STATES.includes(raw)) throw new ProtocolError(`unknown engine state "${raw}"`);
  const uplink = str(reply, 'uplink');
  const prefix = str(reply, 'prefix');
  let state: EngineState;
  let reason = messageOf(reply.reason);
  let problem = messageOf(reply.fix);
  if (raw === 'running') {
    // The foreground engine before the daemon: running is active, or waiting for a prefix.
    if (prefix === '' || prefix === undefined) {
      state = 'attention';
      reason = appMessage('app.noPrefix', { uplink: uplink ?? '?' });
      problem = appMessage('app.noPrefixFix');
      const why = str(reply, 'prefixProblem');
      if (why) reason = { ...reason, text: `${reason.text} (${why})` };
    } else {
      state = 'active';
      reason = appMessage('app.activeLegacy', { prefix, uplink: uplink ?? '?' });
    }
  } else state = raw as EngineState;
  if (state === 'stopping' && !reason) reason = appMessage('app.engineStopping');
  const status: EngineStatus = { state, reason: reason ?? { code: 'text', text: raw } };
  if (problem) status.problem = problem;

  const pid = num(reply, 'pid');
  status.engine = {
    controlSocket,
    ...(pid !== undefined ? { pid } : {}),
    ...(str(reply, 'startedAt') ? { startedAt: str(reply, 'startedAt') } : {}),
    ...(str(reply, 'version') ? { version: str(reply, 'version') } : {}),
  };
  if (isObject(reply.network) && str(reply.network, 'id') && str(reply.network, 'name')) {
    status.network = { id: str(reply.network, 'id')!, name: str(reply.network, 'name')! };
    const classification = str(reply, 'classification');
    if (classification) status.network.classification = classification;
    if (isObject(reply.policy)) {
      const p = reply.policy;
      if (p.value === 'auto' || p.value === 'always' || p.value === 'never') status.network.policy = p.value;
      if (str(p, 'source')) status.network.policySource = str(p, 'source');
      if (p.override === 'enable') status.network.override = 'enabled';
      if (p.override === 'disable') status.network.override = 'disabled';
    }
  }
  if (uplink) status.uplink = uplink;
  const why = messageOf(reply.uplinkWhy);
  if (why) status.uplinkWhy = why;
  if (prefix) {
    const src = str(reply, 'prefixSource');
    status.prefix = {
      prefix,
      source: src && PREFIX_SOURCES.includes(src) ? (src as PrefixSource) : 'configured',
    };
    const left = num(reply, 'prefixLifetimeLeft');
    const expires = str(reply, 'prefixExpiresAt');
    if (expires && Number.isFinite(Date.parse(expires))) status.prefix.expiresAt = Date.parse(expires);
    else if (left !== undefined) status.prefix.expiresAt = sampledAt + left * 1000;
  }
  const tun = str(reply, 'tun');
  const clatIpv4 = str(reply, 'clatIpv4');
  const clatIpv6 = str(reply, 'clatIpv6');
  const mtu = num(reply, 'ipv6Mtu');
  if (tun && clatIpv4 && clatIpv6 && mtu !== undefined) {
    status.clat = { ipv4: clatIpv4, ipv6: clatIpv6, tun, mtu, ipv4Mtu: num(reply, 'ipv4Mtu') };
    if (typeof reply.checksumNeutral === 'boolean') status.clat.checksumNeutral = reply.checksumNeutral;
  }
  if (isObject(reply.counters)) Object.assign(status, trafficFrom(reply.counters, sampledAt));
  const warnings = Array.isArray(reply.firewallWarnings)
    ? reply.firewallWarnings.filter((w): w is string => typeof w === 'string')
    : [];
  if (warnings.length) status.warnings = warnings;
  const dns64 = dns64From(reply.dns64);
  if (dns64) status.dns64 = dns64;
  const transitions = transitionsFrom(reply.transitions);
  if (transitions) status.transitions = transitions;
  // The inbound filter in force: the daemon's instance (or, with none, the network's option), or
  // the foreground engine's --inbound.
  if (reply.inbound === 'allow' || reply.inbound === 'deny') status.inbound = reply.inbound;
  const settings: EngineSettings = {};
  const dns64Mode = reply.dns64Mode;
  if (dns64Mode === 'off' || dns64Mode === 'auto' || dns64Mode === 'on') settings.dns64Mode = dns64Mode;
  // The daemon's default for networks without a policy of their own; the administrator's is
  // locked, with the file it is written in.
  const d = isObject(reply.defaultPolicy) ? reply.defaultPolicy : undefined;
  if (d && (d.value === 'auto' || d.value === 'always' || d.value === 'never')) {
    settings.defaultPolicy = d.value;
    if (d.source === 'admin-default') {
      const file = str(d, 'adminFile');
      settings.locked = {
        defaultPolicy: file ? appMessage('app.adminDefaultIn', { file }) : appMessage('app.adminDefault'),
      };
    }
  }
  if (Object.keys(settings).length) status.settings = settings;
  return status;
}
