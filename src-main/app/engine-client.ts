// The app's client of the engine's control socket (JSON-RPC 2.0, one message per line; see
// engine/control/server.ts). Plain node:net, no electron, so it runs and is tested under
// plain Node, and the UI tests use it to play Electron main's part.
//
// `status` is asked every pollMs, one short connection per request: the engine's stop closes its
// server and waits for open connections, so a connection held open by the tray would keep the
// engine from exiting. When the engine goes away (not started yet, restarted, crashed) the
// client says so once and retries with exponential backoff. A peer that answers something other
// than clatbar's status is an error, not a crash: the line is bounded and parsed defensively.
import { connect, type Socket } from 'node:net';
import type {
  EngineClientOptions,
  EngineStatus,
  EngineStatusSource,
  PrefixSource,
  Traffic,
  Dns64Activity,
} from '../shared/ipc.js';
import { ENGINE_STATES, EngineStatusDocSchema } from '../shared/status.js';
import { CALL_TIMEOUT_MS } from '../shared/control.js';

/** Longest reply line we accept; a status is a few KiB. */
const MAX_LINE = 256 * 1024;

/** The reply is not a clatbar engine status. */
export class ProtocolError extends Error {}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optNum(o: Json, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const PREFIX_SOURCES: readonly PrefixSource[] = ['pref64', 'ipv4only.arpa', 'configured'];

/** Data path counters that are drops, under the names DROP_REASONS uses. */
const DATA_PATH_DROPS: Record<string, string> = {
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
    synthesized: optNum(v, 'synthesized') ?? 0,
    ptrSynthesized: optNum(v, 'ptrSynthesized'),
    cacheHits: optNum(v, 'cacheHits'),
    passedThrough: optNum(v, 'passedThrough'),
    servfail: optNum(v, 'servfail'),
    upstreamDoesDns64: typeof v.upstreamDoesDns64 === 'boolean' ? v.upstreamDoesDns64 : null,
    upstreamTimeouts: optNum(upstream, 'timeouts'),
  };
}

/**
 * Maps the engine's `status` document (shared/status.ts, validated with its zod schema) to the
 * app's view of it. Throws ProtocolError when the reply is not a status; extra fields are
 * ignored, so an older app works with a newer engine.
 */
export function toEngineStatus(reply: unknown, controlSocket: string, sampledAt: number): EngineStatus {
  if (!isObject(reply)) throw new ProtocolError('the status is not an object');
  if (typeof reply.state === 'string' && !(ENGINE_STATES as readonly string[]).includes(reply.state))
    throw new ProtocolError(`unknown engine state "${reply.state}"`);
  const parsed = EngineStatusDocSchema.safeParse(reply);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ProtocolError(`"${i.path.join('.')}" is missing or wrong: ${i.message}`);
  }
  const doc = parsed.data;
  const uplink = doc.uplink ?? '';
  const prefix = doc.prefix ?? '';
  // 'admin' (pinned by the admin file) is a configured prefix as far as the app is concerned.
  const prefixSource: PrefixSource =
    doc.prefixSource && (PREFIX_SOURCES as readonly string[]).includes(doc.prefixSource)
      ? (doc.prefixSource as PrefixSource)
      : 'configured';
  let status: EngineStatus;
  switch (doc.state) {
    case 'off':
      status = { state: 'off', reason: doc.reason.text };
      break;
    case 'standby':
      status = { state: 'standby', reason: doc.reason.text };
      break;
    case 'stopping':
      status = { state: 'standby', reason: 'the engine is stopping and putting the network back as it was' };
      break;
    case 'attention':
      status = { state: 'error', reason: doc.reason.text, problem: doc.fix?.text ?? doc.reason.text };
      break;
    case 'active':
      if (prefix === '') {
        // Running but with nothing to translate into: the network's PREF64 or DNS64 went away.
        // The engine keeps listening and resumes by itself when a prefix comes back.
        status = {
          state: 'error',
          reason: `no NAT64 prefix on ${uplink}: IPv4 apps cannot reach anything until the network announces one`,
          problem: `${doc.prefixProblem ?? 'the network announces no NAT64 prefix'}; clatbar resumes when one appears, or restart it with \`clatbar run --prefix PFX/LEN\``,
        };
      } else
        status = {
          state: 'active',
          reason: `IPv4 apps on this computer reach IPv4 hosts through the network's NAT64 (${prefix}) via ${uplink}`,
        };
      break;
  }
  status.engine = { pid: doc.pid, startedAt: doc.startedAt, controlSocket };
  if (doc.uplink) status.uplink = doc.uplink;
  if (prefix !== '') status.prefix = { prefix, source: prefixSource };
  if (
    doc.tun === undefined ||
    doc.clatIpv4 === undefined ||
    doc.clatIpv6 === undefined ||
    doc.ipv6Mtu === undefined
  )
    return status;
  // A CLAT instance runs (active, or stopping it): its addresses, traffic and drops.
  const counters = doc.counters ?? {};
  const count = (k: string) => optNum(counters, k) ?? 0;
  const drops: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) {
    if (v <= 0) continue;
    if (k.startsWith('drop.')) drops[k.slice(5)] = v;
    else if (Object.hasOwn(DATA_PATH_DROPS, k)) drops[DATA_PATH_DROPS[k]] = v;
  }
  const traffic: Traffic = {
    sampledAt,
    packets4to6: count('translated46'),
    packets6to4: count('translated64'),
    bytes4to6: optNum(counters, 'bytes46'),
    bytes6to4: optNum(counters, 'bytes64'),
    icmpErrorsSent: count('icmpErrorsSent'),
    fragmentsEmitted: count('fragmentsEmitted'),
  };
  if (optNum(counters, 'tun.rxPackets') !== undefined)
    traffic.tunIn = { packets: count('tun.rxPackets'), bytes: count('tun.rxBytes') };
  if (optNum(counters, 'tun.txPackets') !== undefined)
    traffic.tunOut = { packets: count('tun.txPackets'), bytes: count('tun.txBytes') };
  status.clat = {
    ipv4: doc.clatIpv4,
    ipv6: doc.clatIpv6,
    tun: doc.tun,
    mtu: doc.ipv6Mtu,
    ipv4Mtu: doc.ipv4Mtu,
    checksumNeutral: doc.checksumNeutral,
  };
  status.traffic = traffic;
  status.drops = drops;
  if (doc.firewallWarnings?.length) status.warnings = doc.firewallWarnings;
  const dns64 = dns64From(doc.dns64);
  if (dns64) status.dns64 = dns64;
  if (reply.inbound === 'allow' || reply.inbound === 'deny') status.inbound = reply.inbound;
  return status;
}

/** Why a connection attempt failed, in words, with the fix. */
function unreachable(err: NodeJS.ErrnoException, path: string): EngineStatus {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return {
        state: 'disconnected',
        reason: `no engine is running (nothing answers on ${path})`,
        problem:
          'start it with `sudo clatbar run --uplink IFACE` (it finds the NAT64 prefix; --prefix PFX/LEN sets it)',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        state: 'disconnected',
        reason: `no permission to open ${path}`,
        problem: 'the engine makes its socket readable by everyone; an older or foreign socket is in the way',
      };
    default:
      return { state: 'disconnected', reason: `cannot reach the engine on ${path}: ${err.message}` };
  }
}

export class EngineClient implements EngineStatusSource {
  private current: EngineStatus = { state: 'disconnected', reason: 'connecting to the engine' };
  private lastSent = '';
  private readonly listeners = new Set<(s: EngineStatus) => void>();
  /** The request in flight: its connection, id and timeout. */
  private sock: Socket | null = null;
  private requestTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  /** The next request (after pollMs, or after a backoff). */
  private nextTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private closed = true;
  private readonly pollMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: EngineClientOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.retryMinMs = options.retryMinMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    this.retryMs = this.retryMinMs;
  }

  get status(): EngineStatus {
    return this.current;
  }

  start(): void {
    if (!this.closed) return;
    this.closed = false;
    this.request();
  }

  onStatus(listener: (s: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.finish();
    if (this.nextTimer) clearTimeout(this.nextTimer);
    this.nextTimer = null;
  }

  private emit(s: EngineStatus): void {
    this.current = s;
    // A disconnected status repeats on every retry; say it once.
    const key = JSON.stringify(s);
    if (key === this.lastSent) return;
    this.lastSent = key;
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // One broken listener must not stop the others or the client.
      }
    }
  }

  /** One `status` request on a connection of its own. */
  private request(): void {
    const path = this.options.socketPath;
    const id = this.nextId++;
    const sock = connect(path);
    this.sock = sock;
    let buf = '';
    const mine = () => this.sock === sock;
    const notAnEngine = (problem: string) =>
      this.failed({
        state: 'error',
        reason: `something on ${path} answers, but not as a clatbar engine`,
        problem,
      });
    this.requestTimer = setTimeout(() => {
      if (!mine()) return;
      this.failed({
        state: 'error',
        reason: `the engine did not answer within ${this.timeoutMs} ms`,
        problem: 'it may be stuck; restarting it (clatbar run) puts the network back and starts over',
      });
    }, this.timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'status' })}\n`));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (mine()) this.failed(unreachable(err, path));
    });
    sock.on('close', () => {
      if (mine())
        this.failed({
          state: 'disconnected',
          reason: `the engine closed the connection on ${path} (stopped or restarting)`,
        });
    });
    sock.on('data', (chunk: string) => {
      if (!mine()) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_LINE) notAnEngine(`a reply longer than ${MAX_LINE} bytes without a line end`);
        return;
      }
      let status: EngineStatus;
      try {
        status = this.parse(buf.slice(0, nl), id);
      } catch (err) {
        notAnEngine(
          `${(err as Error).message}; is another program (or an incompatible clatbar version) using that socket?`,
        );
        return;
      }
      this.finish();
      // A good answer: the next outage starts its backoff from the bottom again.
      this.retryMs = this.retryMinMs;
      this.emit(status);
      this.schedule(this.pollMs);
    });
  }

  private parse(line: string, id: number): EngineStatus {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      throw new ProtocolError('the reply is not JSON');
    }
    if (!isObject(msg) || msg.jsonrpc !== '2.0') throw new ProtocolError('the reply is not JSON-RPC 2.0');
    if (msg.id !== id) throw new ProtocolError(`a reply to a request never made (id ${String(msg.id)})`);
    if (isObject(msg.error)) {
      const message = typeof msg.error.message === 'string' ? msg.error.message : 'unknown error';
      throw new ProtocolError(`the engine refused "status": ${message}`);
    }
    return toEngineStatus(msg.result, this.options.socketPath, Date.now());
  }

  /** Ends the request in flight, if any. */
  private finish(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = null;
    const sock = this.sock;
    this.sock = null;
    sock?.destroy();
  }

  private schedule(ms: number): void {
    if (this.closed || this.nextTimer) return;
    this.nextTimer = setTimeout(() => {
      this.nextTimer = null;
      if (!this.closed) this.request();
    }, ms);
  }

  private failed(status: EngineStatus): void {
    this.finish();
    this.emit(status);
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.retryMaxMs);
    this.schedule(wait);
  }
}
