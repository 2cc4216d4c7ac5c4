// The engine's control server: JSON-RPC 2.0 over a Unix socket, one object per line, serving
// the methods of shared/control.ts to the CLI and the tray app.
//
// The engine is root and its clients are not, so every bound is the server's: a request line
// is at most MAX_REQUEST_BYTES; a client's requests in the engine's hands at once are bounded
// (reading pauses) and so are the replies queued for a client that does not read (reading
// pauses at a high-water mark, the client is dropped past MAX_CLIENT_QUEUE_BYTES); a half line
// followed by silence is closed; connections are capped per uid with room kept for root and
// the group. Every request is validated with the method's zod schema; every failure is a
// JSON-RPC error in words, never a crash. Who may call what comes from the peer's credentials
// (auth.ts): denials and changes are logged with uid and pid.
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import {
  METHODS,
  CHANGE_METHODS,
  RPC_ERROR,
  ControlError,
  PROTOCOL_VERSION,
  DEFAULT_CONTROL_GROUP,
  MAX_REQUEST_BYTES,
  MAX_REPLY_BYTES,
  MAX_CLIENT_QUEUE_BYTES,
  MAX_CLIENT_INFLIGHT,
  HALF_LINE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_CONNECTIONS_PER_UID,
  RESERVED_FOR_ADMINS,
  type Caller,
  type EngineBackend,
  type MethodName,
  type NotificationName,
  type HelloResult,
} from '../../shared/control.js';
import type { EngineEvent } from '../../shared/status.js';
import { VERSION } from '../../shared/version.js';
import { GroupResolver, callerOf, describeUid } from './auth.js';
import { bindControlSocket, unlinkControlSocket } from './socket.js';
import { say, type Said, type Say } from '../../shared/say.js';

/** Reading stops while this much is queued for the client; it resumes on drain. */
const HIGH_WATER_BYTES = 256 * 1024;
/**
 * Refused connections kept open a moment so the client can read why; past this many at once
 * (a connect flood) they are closed at once, so a flood cannot use up the engine's fds.
 */
const MAX_LINGERING_REFUSALS = 64;
/**
 * Lines about refusals and dropped clients: a burst of this many, then this many a second; the
 * rest are counted and the count said with the next line. A client looping on a denied call must
 * not push the engine's own lines out of its log ring or flood the journal.
 */
const REFUSAL_LOG_BURST = 50;
const REFUSAL_LOG_PER_S = 5;

const RequestSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string().max(128), z.number().finite(), z.null()]).optional(),
    method: z.string().max(64),
    params: z.unknown().optional(),
  })
  .strict();
type Id = string | number | null;

export interface ControlServerOptions {
  path: string;
  backend: EngineBackend;
  /** The group whose members may change things besides root. */
  group?: string;
  log: Say;
  /** selfTest and diagnostics: run by the server, not the backend (they look at the host). */
  selfTest?: () => Promise<unknown>;
  diagnostics?: () => Promise<unknown>;
  /** Limits, for tests that exercise them with small numbers. */
  limits?: Partial<typeof DEFAULT_LIMITS>;
}

const DEFAULT_LIMITS = {
  maxConnections: MAX_CONNECTIONS,
  perUid: MAX_CONNECTIONS_PER_UID,
  reserved: RESERVED_FOR_ADMINS,
  queueBytes: MAX_CLIENT_QUEUE_BYTES,
  halfLineMs: HALF_LINE_TIMEOUT_MS,
  counterMs: 1000,
};

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A JSON-RPC notification as the line the socket carries. */
function notificationLine(method: NotificationName, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}

export class ControlServer {
  private readonly conns = new Set<Connection>();
  private readonly refused = new Set<Socket>();
  /** Notification lines of engine events, by event (eventLine). */
  private readonly eventLines = new WeakMap<EngineEvent, string>();
  private counterTimer: NodeJS.Timeout | null = null;
  private bound = { path: '', ino: 0 };
  private stopped: Promise<void> | null = null;
  readonly limits: typeof DEFAULT_LIMITS;
  readonly group: string;
  private readonly groupInfo: GroupResolver;

  private constructor(
    private readonly server: Server,
    readonly opts: ControlServerOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.group = opts.group ?? DEFAULT_CONTROL_GROUP;
    this.groupInfo = new GroupResolver(this.group);
  }

  /** Binds opts.path (socket.ts: never over a live engine, never through a symlink) and serves. */
  static async listen(opts: ControlServerOptions): Promise<ControlServer> {
    const server = createServer({ pauseOnConnect: true });
    const cs = new ControlServer(server, opts);
    server.on('connection', (sock) => cs.accept(sock));
    // The group's gid before the first connection, so no member is refused for want of it.
    await cs.groupInfo.refresh();
    cs.bound = await bindControlSocket(server, opts.path);
    return cs;
  }

  get connections(): number {
    return this.conns.size;
  }

  /** The server's lines: control.* codes, whose English starts with "control: " as before. */
  readonly log: Say = (m) => this.opts.log(m);

  private tokens = REFUSAL_LOG_BURST;
  private tokensAt = Date.now();
  private suppressed = 0;

  /** A line about a refusal or a dropped client, rate-limited (REFUSAL_LOG_*). */
  logRefusal(line: Said | (() => Said)): void {
    const now = Date.now();
    this.tokens = Math.min(
      REFUSAL_LOG_BURST,
      this.tokens + ((now - this.tokensAt) / 1000) * REFUSAL_LOG_PER_S,
    );
    this.tokensAt = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return;
    }
    this.tokens--;
    if (this.suppressed) this.log(say('control.refusals-not-logged', { count: this.suppressed }));
    this.suppressed = 0;
    this.log(typeof line === 'function' ? line() : line);
  }

  /** Refused connections still open (for tests of the bound). */
  get lingering(): number {
    return this.refused.size;
  }

  private accept(sock: Socket): void {
    let caller: Caller;
    try {
      caller = callerOf(sock, this.groupInfo.current());
    } catch (err) {
      this.log(say('control.no-credentials', { error: (err as Error).message }));
      sock.destroy();
      return;
    }
    const busy = this.refuseReason(caller);
    if (busy) {
      this.logRefusal(() => busy.log(`${describeUid(caller.uid)} pid ${caller.pid}`));
      if (this.refused.size >= MAX_LINGERING_REFUSALS) {
        sock.destroy();
        return;
      }
      // Said, then gone a moment later (at once, the client's own request could fail with EPIPE
      // before it reads why); stop() drops the ones still open, or it would wait for them.
      sock.end(
        `${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.busy, message: busy.message } })}\n`,
      );
      this.refused.add(sock);
      sock.once('close', () => this.refused.delete(sock));
      setTimeout(() => sock.destroy(), 1000).unref();
      return;
    }
    const conn = new Connection(this, sock, caller);
    this.conns.add(conn);
    sock.once('close', () => {
      this.conns.delete(conn);
      conn.close();
      this.updateCounterTimer();
    });
    sock.resume();
  }

  /**
   * Why a new connection of this caller is refused (the words for the client, and the log line
   * for a caller described as `who`), or null.
   */
  private refuseReason(caller: Caller): { message: string; log: (who: string) => Said } | null {
    const { maxConnections, perUid, reserved } = this.limits;
    if (this.conns.size >= maxConnections)
      return {
        message: `the engine holds ${maxConnections} connections already; try again later`,
        log: (who) => say('control.refused-full', { who, max: maxConnections }),
      };
    if (caller.uid === 0) return null;
    if (!caller.admin && this.conns.size >= maxConnections - reserved)
      return {
        message: `too many connections; the last ${reserved} are kept for root and the ${this.group} group`,
        log: (who) => say('control.refused-reserved', { who, reserved, group: this.group }),
      };
    let mine = 0;
    for (const c of this.conns) if (c.caller.uid === caller.uid) mine++;
    if (mine >= perUid)
      return {
        message: `uid ${caller.uid} holds ${perUid} connections already; close some (each tray app or terminal needs one)`,
        log: (who) => say('control.refused-per-uid', { who, uid: caller.uid, max: perUid }),
      };
    return null;
  }

  /** One counters notification a second while anyone listens for them. */
  updateCounterTimer(): void {
    const want = [...this.conns].some((c) => c.topics.has('counters'));
    if (want && !this.counterTimer) {
      this.counterTimer = setInterval(() => this.pushCounters(), this.limits.counterMs);
      this.counterTimer.unref();
    } else if (!want && this.counterTimer) {
      clearInterval(this.counterTimer);
      this.counterTimer = null;
    }
  }

  private pushCounters(): void {
    let counters: unknown;
    try {
      counters = (this.opts.backend.status() as { counters?: unknown }).counters;
    } catch {
      return;
    }
    if (typeof counters !== 'object' || counters === null) return;
    const line = notificationLine('counters', { at: new Date().toISOString(), counters });
    for (const c of this.conns) if (c.topics.has('counters')) c.sendLine(line);
  }

  /**
   * An engine event as its notification line, serialized once for all subscribers: with 200 of
   * them, a status or log line stringified per connection held the loop for every one.
   */
  eventLine(e: EngineEvent): string {
    let line = this.eventLines.get(e);
    if (line === undefined) {
      line =
        e.type === 'state'
          ? notificationLine('state', { status: e.status })
          : notificationLine('log', { line: e.line });
      this.eventLines.set(e, line);
    }
    return line;
  }

  /** The method's answer for caller, or a RpcFailure/ControlError. */
  async call(method: MethodName, params: unknown, caller: Caller, conn: Connection): Promise<unknown> {
    const b = this.opts.backend;
    switch (method) {
      case 'hello': {
        const r: HelloResult = {
          protocol: PROTOCOL_VERSION,
          engine: VERSION,
          caller: { uid: caller.uid, admin: caller.admin, group: this.group },
        };
        return r;
      }
      case 'status':
        return b.status();
      case 'enable':
        return b.enable(caller).then(() => ({ ok: true }));
      case 'disable':
        return b.disable(caller).then(() => ({ ok: true }));
      case 'clearOverride':
        return b.clearOverride(caller).then(() => ({ ok: true }));
      case 'setPolicy': {
        const q = params as z.infer<(typeof METHODS)['setPolicy']['params']>;
        return b.setPolicy(q.network, q.policy, caller).then(() => ({ ok: true }));
      }
      case 'setDefaultPolicy': {
        const q = params as z.infer<(typeof METHODS)['setDefaultPolicy']['params']>;
        return b.setDefaultPolicy(q.policy, caller).then(() => ({ ok: true }));
      }
      case 'setDns64Mode': {
        const q = params as z.infer<(typeof METHODS)['setDns64Mode']['params']>;
        return b.setDns64Mode(q.mode, caller).then(() => ({ ok: true }));
      }
      case 'setNetworkOption': {
        const q = params as z.infer<(typeof METHODS)['setNetworkOption']['params']>;
        return b.setNetworkOption(q.network, q.option, q.value, caller).then(() => ({ ok: true }));
      }
      case 'forgetNetwork': {
        const q = params as z.infer<(typeof METHODS)['forgetNetwork']['params']>;
        return b.forgetNetwork(q.network, caller).then(() => ({ ok: true }));
      }
      case 'listNetworks':
        return { networks: b.listNetworks() };
      case 'logs': {
        const q = (params ?? {}) as { since?: number; sinceTime?: string; limit?: number };
        const limit = q.limit ?? 500;
        if (q.sinceTime === undefined) return { lines: b.logs(q.since, limit) };
        // By time: the lines are in time order, so the newest `limit` of those at or after it.
        const from = Date.parse(q.sinceTime);
        const after = b.logs(q.since, Number.MAX_SAFE_INTEGER).filter((l) => Date.parse(l.time) >= from);
        return { lines: after.slice(Math.max(0, after.length - limit)) };
      }
      case 'selfTest':
        if (!this.opts.selfTest)
          throw new ControlError(RPC_ERROR.unsupported, 'this engine has no self-test');
        return this.once('selfTest', this.opts.selfTest);
      case 'diagnostics':
        if (!this.opts.diagnostics)
          throw new ControlError(RPC_ERROR.unsupported, 'this engine has no diagnostics');
        return this.once('diagnostics', this.opts.diagnostics);
      case 'subscribe': {
        const q = params as { topics?: NotificationTopic[] } | undefined;
        return conn.subscribe(q?.topics);
      }
    }
    throw new RpcFailure(RPC_ERROR.methodNotFound, `unknown method ${String(method)}`);
  }

  private readonly running = new Map<string, Promise<unknown>>();

  /**
   * One run of an expensive method at a time (the self-test pings, connects and spawns
   * commands): callers that ask while it runs share its answer. Without this, the group's
   * members could start hundreds at once (8 in flight per connection, 64 connections per uid).
   */
  private once(name: string, run: () => Promise<unknown>): Promise<unknown> {
    let p = this.running.get(name);
    if (!p) {
      p = run().finally(() => this.running.delete(name));
      this.running.set(name, p);
    }
    return p;
  }

  /** Stops listening, drops every client, removes the socket file. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      if (this.counterTimer) clearInterval(this.counterTimer);
      this.counterTimer = null;
      this.server.close(() => resolve());
      for (const c of this.conns) c.destroy();
      for (const s of this.refused) s.destroy();
      unlinkControlSocket(this.bound.path, this.bound.ino);
    });
    return this.stopped;
  }
}

type NotificationTopic = 'state' | 'counters' | 'logs';

/** One client: framing, bounds, dispatch and its subscription. */
class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private inflight = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private closed = false;
  readonly topics = new Set<NotificationTopic>();
  /** "uid 1000 (alice) pid 4242", for this connection's log lines (looked up once). */
  private readonly who: string;

  constructor(
    private readonly server: ControlServer,
    private readonly sock: Socket,
    readonly caller: Caller,
  ) {
    this.who = `${describeUid(caller.uid)} pid ${caller.pid}`;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => sock.destroy());
    sock.on('drain', () => this.pump());
    // The client closed its side: answer what is in flight, then end.
    sock.on('end', () => {
      if (this.inflight === 0) sock.end();
    });
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    this.pump();
  }

  /** Takes complete lines off the buffer while the client may have more requests handled. */
  private pump(): void {
    if (this.closed) return;
    while (this.inflight < MAX_CLIENT_INFLIGHT && this.sock.writableLength < HIGH_WATER_BYTES) {
      const line = this.takeLine();
      if (line === null) break;
      void this.handle(line);
    }
    const full = this.inflight >= MAX_CLIENT_INFLIGHT || this.sock.writableLength >= HIGH_WATER_BYTES;
    if (full) this.sock.pause();
    else if (this.sock.isPaused()) this.sock.resume();
    if (this.buffered > MAX_REQUEST_BYTES && !this.hasNewline()) {
      this.reply(null, {
        code: RPC_ERROR.invalidRequest,
        message: `request longer than ${MAX_REQUEST_BYTES} bytes without a line end; send one JSON object per line. Closing the connection`,
      });
      this.server.logRefusal(say('control.closed-oversize', { who: this.who, bytes: MAX_REQUEST_BYTES }));
      this.sock.end(() => this.sock.destroy());
      this.closed = true;
      return;
    }
    this.armStall();
  }

  private pumpScheduled = false;
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private hasNewline(): boolean {
    return this.chunks.some((c) => c.includes(10));
  }

  private takeLine(): string | null {
    if (!this.hasNewline()) return null;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const nl = all.indexOf(10);
    const line = all.subarray(0, nl);
    const rest = all.subarray(nl + 1);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    if (line.length > MAX_REQUEST_BYTES) return '\u0000oversize';
    return line.toString('utf8');
  }

  /**
   * A request line must be complete within halfLineMs of its first byte: half a line and then
   * silence is closed, and so is one dribbled a byte at a time (which would otherwise hold the
   * connection for as long as 64 KiB takes to arrive). Time the engine itself keeps the client
   * paused (its requests in flight) does not count against it.
   */
  private armStall(): void {
    if (this.buffered === 0 || this.hasNewline()) {
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = null;
      return;
    }
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.sock.isPaused()) return this.armStall();
      this.server.logRefusal(
        say('control.closed-stalled', { who: this.who, ms: this.server.limits.halfLineMs }),
      );
      this.destroy();
    }, this.server.limits.halfLineMs);
    this.stallTimer.unref();
  }

  private async handle(line: string): Promise<void> {
    if (line.trim() === '') return;
    this.inflight++;
    let id: Id = null;
    let isNotification = false;
    try {
      if (line === '\u0000oversize')
        throw new RpcFailure(RPC_ERROR.invalidRequest, `request longer than ${MAX_REQUEST_BYTES} bytes`);
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        throw new RpcFailure(RPC_ERROR.parseError, `not JSON: ${(err as Error).message}`);
      }
      if (Array.isArray(raw))
        throw new RpcFailure(
          RPC_ERROR.invalidRequest,
          'batches are not supported: send one request object per line',
        );
      const req = RequestSchema.safeParse(raw);
      if (!req.success) {
        const r = raw as { id?: unknown };
        if (typeof r === 'object' && r !== null && (typeof r.id === 'string' || typeof r.id === 'number'))
          id = r.id;
        throw new RpcFailure(
          RPC_ERROR.invalidRequest,
          `not a JSON-RPC 2.0 request (${z.prettifyError(req.error).replace(/\s*\n\s*/g, '; ')}); send {"jsonrpc":"2.0","id":1,"method":"status"}`,
        );
      }
      id = req.data.id ?? null;
      isNotification = req.data.id === undefined;
      const method = req.data.method;
      if (!Object.hasOwn(METHODS, method))
        throw new RpcFailure(
          RPC_ERROR.methodNotFound,
          `method not found: "${method.slice(0, 64)}"; the methods are ${Object.keys(METHODS).join(', ')}`,
        );
      const name = method as MethodName;
      const spec = METHODS[name];
      if (spec.access === 'admin' && !this.caller.admin) {
        this.server.logRefusal(
          say('control.refused-method', { method: name, who: this.who, group: this.server.group }),
        );
        throw new RpcFailure(
          RPC_ERROR.notAllowed,
          `"${name}" is for root and members of the group ${this.server.group}: ask an administrator to run \`sudo usermod -aG ${this.server.group} ${userName(this.who)}\`, then log out and in again`,
          { group: this.server.group },
        );
      }
      const params = spec.params.safeParse(req.data.params);
      if (!params.success)
        throw new RpcFailure(
          RPC_ERROR.invalidParams,
          `bad params for "${name}": ${z.prettifyError(params.error).replace(/\s*\n\s*/g, '; ')}`,
        );
      if (CHANGE_METHODS.has(name))
        this.server.log(
          params.data
            ? say('control.change-with-params', {
                method: name,
                params: JSON.stringify(params.data),
                who: this.who,
              })
            : say('control.change', { method: name, who: this.who }),
        );
      const result = await this.server.call(name, params.data, this.caller, this);
      if (!isNotification) this.reply(id, undefined, result ?? null);
    } catch (err) {
      if (!isNotification) {
        if (err instanceof RpcFailure || err instanceof ControlError)
          this.reply(id, { code: err.code, message: err.message, data: err.data });
        else
          this.reply(id, {
            code: RPC_ERROR.internalError,
            message: `internal error: ${(err as Error).message}`,
          });
      }
    } finally {
      this.inflight--;
      if (this.sock.readableEnded && this.inflight === 0) this.sock.end();
      // The next request of this client waits for the next turn of the event loop: a client
      // with thousands of lines buffered must not keep every other client (and the data path's
      // callbacks) waiting behind a chain of microtasks.
      this.schedulePump();
    }
  }

  private reply(id: Id, error?: { code: number; message: string; data?: unknown }, result?: unknown): void {
    let line = JSON.stringify(error ? { jsonrpc: '2.0', id, error } : { jsonrpc: '2.0', id, result });
    if (line.length > MAX_REPLY_BYTES)
      line = JSON.stringify({
        jsonrpc: '2.0',
        id,
        error: { code: RPC_ERROR.internalError, message: `the reply would be over ${MAX_REPLY_BYTES} bytes` },
      });
    this.write(line);
  }

  notify(method: NotificationName, params: unknown): void {
    this.write(notificationLine(method, params));
  }

  /** A notification already serialized (by the server, once for every subscriber). */
  sendLine(line: string): void {
    this.write(line);
  }

  /** Queues a line; a client that lets its queue grow past the bound is dropped. */
  private write(line: string): void {
    if (this.closed || this.sock.destroyed || !this.sock.writable) return;
    if (this.sock.writableLength + line.length > this.server.limits.queueBytes) {
      this.server.logRefusal(
        say('control.dropped-slow-reader', { who: this.who, bytes: this.server.limits.queueBytes }),
      );
      this.destroy();
      return;
    }
    this.sock.write(`${line}\n`);
  }

  subscribe(topics?: NotificationTopic[]): { topics: NotificationTopic[] } {
    const want = new Set<NotificationTopic>(
      topics ?? (this.caller.admin ? ['state', 'counters', 'logs'] : ['state', 'counters']),
    );
    if (want.has('logs') && !this.caller.admin)
      throw new RpcFailure(
        RPC_ERROR.notAllowed,
        `log lines are for root and members of the group ${this.server.group}: ask an administrator to run \`sudo usermod -aG ${this.server.group} ${userName(this.who)}\`, then log out and in again; subscribe to ["state","counters"] meanwhile`,
        { group: this.server.group },
      );
    this.unsubscribe?.();
    this.topics.clear();
    for (const t of want) this.topics.add(t);
    this.unsubscribe = this.server.opts.backend.onEvent((e: EngineEvent) => {
      if ((e.type === 'state' && this.topics.has('state')) || (e.type === 'log' && this.topics.has('logs')))
        this.sendLine(this.server.eventLine(e));
    });
    this.server.updateCounterTimer();
    if (want.has('state'))
      // After the reply to subscribe, so the client sees its answer first.
      setImmediate(() => {
        try {
          this.notify('state', { status: this.server.opts.backend.status() });
        } catch {
          // No status to give yet: the next change sends one.
        }
      });
    return { topics: [...want] };
  }

  close(): void {
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.topics.clear();
  }

  destroy(): void {
    this.close();
    this.sock.destroy();
  }
}

/** The user name inside a `who` ("uid 1000 (alice) pid 1" -> alice), or USER when unknown. */
function userName(who: string): string {
  const m = /^uid \d+ \((.*)\) pid /.exec(who);
  return m ? m[1] : 'USER';
}
