// The app's client of the engine's control socket (shared/control.ts: JSON-RPC 2.0, one object
// per line, over a Unix socket). Plain node:net, no electron, so it is tested under plain Node and
// the development bridge (dev-bridge.ts) uses it in Electron main's place.
//
// One connection, kept open: `hello` (protocol check), `status`, then `subscribe`, after which
// the engine pushes state changes, counters once a second and log lines; nothing is polled. When
// the engine goes away (not started yet, restarted, crashed, hung) the client says so once and
// reconnects with exponential backoff. An engine without `hello` (the foreground engine before
// the control API) is asked for `status` once a second on the same connection instead.
// Everything the peer sends is bounded (MAX_REPLY_BYTES a line) and parsed defensively.
import { connect, type Socket } from 'node:net';
import { z } from 'zod';
import {
  CALL_TIMEOUT_MS,
  CHANGE_METHODS,
  CHANGE_TIMEOUT_MS,
  HelloResultSchema,
  MAX_REPLY_BYTES,
  PROTOCOL_VERSION,
  RPC_ERROR,
  type MethodName,
} from '../shared/control.js';
import type { EngineStatus } from '../shared/ipc.js';
import type { LogLine, Message } from '../shared/status.js';
import { appMessage } from '../shared/i18n.js';
import { isObject, messageOf, ProtocolError, toEngineStatus, trafficFrom } from './status-view.js';

export { ProtocolError, toEngineStatus } from './status-view.js';

export interface EngineClientOptions {
  /** The engine's control socket (default /run/clatbar/engine.sock). */
  socketPath: string;
  /** Says who we are in `hello` ("clatbar-app"). */
  client?: string;
  /** First and longest wait before reconnecting; doubles in between. default 250 / 5000 ms */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A call not answered within this is a hung engine: reconnect. default CALL_TIMEOUT_MS */
  timeoutMs?: number;
  /** How often a pre-control-API engine is asked for status. default 1000 ms */
  legacyPollMs?: number;
}

/** A call the engine answered with a JSON-RPC error (not allowed, forced by the admin, ...). */
export class EngineCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'EngineCallError';
  }
  get notAllowed(): boolean {
    return this.code === RPC_ERROR.notAllowed;
  }
}

/** What every protocol's hello has in common: its number (shared/control.ts HelloResultSchema). */
const ProtocolOnlySchema = z.object({ protocol: z.number().int() });

/** What `hello` told us. */
export interface EngineHello {
  protocol: number;
  /** The engine's version (clatbar x.y.z). */
  version?: string;
  /** Whether the engine lets this caller change things (root or the control group), when it says. */
  admin?: boolean;
  /** The control group's name, when it says. */
  group?: string;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class EngineClient {
  private current: EngineStatus = {
    state: 'disconnected',
    reason: appMessage('app.connecting'),
  };
  private lastSent = '';
  private lastDoc: Record<string, unknown> | null = null;
  private readonly statusListeners = new Set<(s: EngineStatus) => void>();
  private readonly logListeners = new Set<(l: LogLine) => void>();
  private sock: Socket | null = null;
  private ready = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private closed = true;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly legacyPollMs: number;
  /** The engine's hello, once connected; null for a pre-control-API engine. */
  hello: EngineHello | null = null;

  constructor(private readonly options: EngineClientOptions) {
    this.retryMinMs = options.retryMinMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    this.legacyPollMs = options.legacyPollMs ?? 1000;
    this.retryMs = this.retryMinMs;
  }

  get status(): EngineStatus {
    return this.current;
  }

  /** Connected, said hello and subscribed (or polling an old engine). */
  get connected(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.closed) return;
    this.closed = false;
    this.connect();
  }

  onStatus(listener: (s: EngineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onLog(listener: (l: LogLine) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.drop(new Error('the client was closed'));
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /**
   * One JSON-RPC call on the open connection. Rejects with EngineCallError when the engine says
   * no, with a plain Error when there is no engine or it does not answer in time.
   */
  call(method: MethodName, params?: unknown): Promise<unknown> {
    if (!this.ready) return Promise.reject(new Error(this.current.reason.text));
    return this.send(method, params);
  }

  private send(method: string, params?: unknown): Promise<unknown> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new Error('not connected to the engine'));
    const id = this.nextId++;
    // A change is answered once the CLAT is up or down (seconds): it gets longer than a question.
    const timeoutMs = Math.max(this.timeoutMs, CHANGE_METHODS.has(method) ? CHANGE_TIMEOUT_MS : 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the engine did not answer "${method}" within ${timeoutMs} ms`));
        // A hung engine: start over rather than pile up calls behind it.
        if (this.sock === sock)
          this.failed({
            state: 'attention',
            reason: appMessage('app.timeout', { ms: timeoutMs }),
            problem: appMessage('app.timeoutFix'),
          });
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      const msg =
        params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      sock.write(`${JSON.stringify(msg)}\n`);
    });
  }

  private emit(s: EngineStatus): void {
    this.current = s;
    // A disconnected status repeats on every retry; say it once.
    const key = JSON.stringify(s);
    if (key === this.lastSent) return;
    this.lastSent = key;
    for (const l of this.statusListeners) {
      try {
        l(s);
      } catch {
        // One broken listener must not stop the others or the client.
      }
    }
  }

  private connect(): void {
    const path = this.options.socketPath;
    const sock = connect(path);
    this.sock = sock;
    let buf = '';
    const mine = () => this.sock === sock;
    sock.setEncoding('utf8');
    sock.on('connect', () => void this.handshake(sock));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (mine()) this.failed(unreachable(err, path));
    });
    sock.on('close', () => {
      if (mine()) this.failed({ state: 'disconnected', reason: appMessage('app.closed', { path }) });
    });
    sock.on('data', (chunk: string) => {
      if (!mine()) return;
      // Only the new chunk can hold a line end: scanning the whole buffer on every chunk would
      // make a long line quadratic.
      const fresh = chunk.indexOf('\n');
      buf += chunk;
      if (fresh < 0) {
        if (buf.length > MAX_REPLY_BYTES) this.notAnEngine(`a line longer than ${MAX_REPLY_BYTES} bytes`);
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.receive(line);
        } catch (err) {
          return this.notAnEngine((err as Error).message);
        }
        if (!mine()) return;
      }
      if (buf.length > MAX_REPLY_BYTES) this.notAnEngine(`a line longer than ${MAX_REPLY_BYTES} bytes`);
    });
  }

  private notAnEngine(detail: string): void {
    this.failed({
      state: 'attention',
      reason: appMessage('app.notAnEngine', { path: this.options.socketPath, detail }),
    });
  }

  /** hello -> status -> subscribe; or, for an engine without hello, status on a timer. */
  private async handshake(sock: Socket): Promise<void> {
    const mine = () => this.sock === sock;
    try {
      let hello: unknown;
      try {
        hello = await this.send('hello', { client: this.options.client ?? 'clatbar-app' });
      } catch (err) {
        if (!(err instanceof EngineCallError && err.code === RPC_ERROR.methodNotFound)) throw err;
        hello = null;
      }
      if (!mine()) return;
      if (hello === null) {
        this.hello = null;
        this.ready = true;
        this.retryMs = this.retryMinMs;
        return this.poll(sock);
      }
      // The protocol number first, on its own: an engine of another protocol may say hello
      // differently, and the user is owed "update the app" (or the engine), not "not an engine".
      const spoken = ProtocolOnlySchema.safeParse(hello);
      if (!spoken.success) throw new ProtocolError('"hello" did not say which protocol it speaks');
      const { protocol } = spoken.data;
      if (protocol !== PROTOCOL_VERSION) {
        // Whatever that protocol calls its version ("engine" now, "version" before), as a hint.
        const named = isObject(hello) ? (hello.engine ?? hello.version) : undefined;
        const version = typeof named === 'string' ? named.slice(0, 64) : undefined;
        this.hello = { protocol, ...(version ? { version } : {}) };
        // Versions that do not fit: say which side to update, and check again only slowly.
        this.retryMs = this.retryMaxMs;
        return this.failed({
          state: 'attention',
          reason: appMessage('app.incompatible', {
            app: PROTOCOL_VERSION,
            engine: protocol,
            version: version ?? '?',
          }),
          problem: appMessage(
            protocol > PROTOCOL_VERSION ? 'app.incompatibleAppOlder' : 'app.incompatibleEngineOlder',
          ),
        });
      }
      // caller may be missing (an engine that does not say; the service then asks listNetworks
      // to learn whether it may change things).
      const said = HelloResultSchema.partial({ caller: true }).safeParse(hello);
      if (!said.success)
        throw new ProtocolError(
          `"hello" does not fit protocol ${PROTOCOL_VERSION}: ${z.prettifyError(said.error).replace(/\s*\n\s*/g, '; ')}`,
        );
      this.hello = {
        protocol,
        version: said.data.engine,
        ...(said.data.caller ? { admin: said.data.caller.admin, group: said.data.caller.group } : {}),
      };
      const doc = await this.send('status');
      if (!mine()) return;
      toEngineStatus(doc, this.options.socketPath, Date.now()); // a status, or ProtocolError now
      // No topics: the engine subscribes us to what we may have (log lines only for root and the
      // control group; state and counters for everyone).
      await this.send('subscribe');
      if (!mine()) return;
      // Ready before the first status goes out, so listeners can make calls on it. A state push
      // that came in between is newer than the answer.
      this.ready = true;
      if (!this.lastDoc) this.state(doc);
      // A good connection: the next outage starts its backoff from the bottom again.
      this.retryMs = this.retryMinMs;
    } catch (err) {
      if (!mine()) return;
      if (err instanceof EngineCallError || err instanceof ProtocolError) this.notAnEngine(err.message);
      // Timeouts and closes have already been reported by send() and the socket's handlers.
    }
  }

  private poll(sock: Socket): void {
    if (this.sock !== sock) return;
    this.send('status').then(
      (doc) => {
        if (this.sock !== sock) return;
        try {
          this.state(doc);
        } catch (err) {
          return this.notAnEngine((err as Error).message);
        }
        this.pollTimer = setTimeout(() => this.poll(sock), this.legacyPollMs);
      },
      (err: unknown) => {
        // Refused: not a clatbar engine. Timeouts and closes are reported where they happen.
        if (this.sock === sock && err instanceof EngineCallError)
          this.notAnEngine(`"status": ${err.message}`);
      },
    );
  }

  /** A new status document (a `status` answer or a `state` push). */
  private state(doc: unknown): void {
    const status = toEngineStatus(doc, this.options.socketPath, Date.now());
    this.lastDoc = doc as Record<string, unknown>;
    this.emit(status);
  }

  /** One line from the engine: a reply to one of our calls, or a notification. */
  private receive(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      throw new ProtocolError('a line that is not JSON');
    }
    if (!isObject(msg) || msg.jsonrpc !== '2.0') throw new ProtocolError('a line that is not JSON-RPC 2.0');
    if (typeof msg.method === 'string' && msg.id === undefined)
      return this.notification(msg.method, msg.params);
    const id = typeof msg.id === 'number' ? msg.id : NaN;
    const call = this.pending.get(id);
    if (!call) throw new ProtocolError(`a reply to a request never made (id ${String(msg.id)})`);
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (isObject(msg.error)) {
      const code = typeof msg.error.code === 'number' ? msg.error.code : RPC_ERROR.internalError;
      const text = typeof msg.error.message === 'string' ? msg.error.message : 'unknown error';
      call.reject(new EngineCallError(call.method, code, text, msg.error.data));
    } else call.resolve(msg.result);
  }

  private notification(method: string, params: unknown): void {
    if (!isObject(params)) return;
    switch (method) {
      case 'state':
        // { status } as EngineEvent has it, or the document itself.
        this.state(isObject(params.status) ? params.status : params);
        return;
      case 'counters': {
        // Once a second: only the counters changed. Merged into the last document so the
        // status the app holds is whole.
        const counters = isObject(params.counters) ? params.counters : params;
        if (!this.lastDoc) return;
        this.lastDoc = { ...this.lastDoc, counters };
        // The engine's own time of the sample, when it gives one: rates are then free of the
        // jitter of the socket and of this process's event loop.
        const at = typeof params.at === 'string' ? Date.parse(params.at) : NaN;
        const next = { ...this.current, ...trafficFrom(counters, Number.isFinite(at) ? at : Date.now()) };
        this.emit(next);
        return;
      }
      case 'log':
      case 'logs': {
        const line = isObject(params.line) ? params.line : params;
        if (typeof line.seq !== 'number' || typeof line.text !== 'string') return;
        for (const l of this.logListeners) {
          try {
            l(line as unknown as LogLine);
          } catch {
            // as in emit()
          }
        }
        return;
      }
    }
  }

  /** Ends the connection and every call on it. */
  private drop(reason: Error): void {
    this.ready = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const sock = this.sock;
    this.sock = null;
    sock?.destroy();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
  }

  private failed(status: EngineStatus): void {
    this.drop(new Error(status.reason.text));
    this.lastDoc = null;
    this.emit(status);
    if (this.closed || this.reconnectTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.retryMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.connect();
    }, wait);
  }
}

/** Why a connection attempt failed, in words, with the fix. */
function unreachable(err: NodeJS.ErrnoException, path: string): EngineStatus {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return {
        state: 'disconnected',
        reason: appMessage('app.noEngine', { path }),
        problem: appMessage('app.noEngineFix'),
      };
    case 'EACCES':
    case 'EPERM':
      return {
        state: 'disconnected',
        reason: appMessage('app.socketDenied', { path }),
        problem: appMessage('app.socketDeniedFix'),
      };
    default:
      return {
        state: 'disconnected',
        reason: { code: 'text', text: `cannot reach the engine on ${path}: ${err.message}` },
      };
  }
}

/** For callers that show a refused call: the engine's words, with the code it gave. */
export function refusal(err: unknown): Message {
  if (err instanceof EngineCallError) {
    const data = messageOf(err.data);
    return data ?? { code: 'text', text: err.message };
  }
  return { code: 'text', text: (err as Error).message };
}
