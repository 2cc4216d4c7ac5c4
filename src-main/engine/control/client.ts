// The control protocol's client, for the CLI and tests: one connection, calls matched to their
// replies by id, notifications handed to a listener. Every failure is a CallError that says
// what happened (nothing listens, no answer in time, an answer that is not ours, or a JSON-RPC
// error with its code), never an exception escaping from a socket handler.
import { connect, type Socket } from 'node:net';
import { CALL_TIMEOUT_MS, MAX_REPLY_BYTES } from '../../shared/control.js';

/** Why a call failed: no engine, no answer in time, an answer that is not ours, or a refusal. */
export class CallError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'timeout' | 'garbage' | 'refused',
    /** What went wrong in a few words, without the path ("the reply is not JSON"). */
    readonly detail: string,
    /** The socket error's code (ENOENT, ECONNREFUSED, EACCES, ...) when kind is 'unreachable'. */
    readonly code?: string,
    /** The JSON-RPC error code when kind is 'refused'. */
    readonly rpcCode?: number,
    /** The JSON-RPC error's data, when it had some (e.g. {group} with notAllowed). */
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: CallError) => void;
  timer: NodeJS.Timeout;
}

export class ControlClient {
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: CallError | null = null;
  private onClosed: (e: CallError) => void = () => {};
  /** Settles with why, once the connection is gone (for clients that stay, like logs -f). */
  readonly closed: Promise<CallError> = new Promise((resolve) => (this.onClosed = resolve));

  private constructor(
    readonly path: string,
    private readonly sock: Socket,
    private readonly onNotification: (method: string, params: unknown) => void,
    private readonly timeoutMs: number,
  ) {
    sock.setEncoding('utf8');
    sock.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(
        new CallError(
          `cannot reach the control socket ${path}: ${err.message}`,
          'unreachable',
          err.message,
          err.code,
        ),
      ),
    );
    sock.on('close', () =>
      this.fail(
        new CallError(
          `${path}: it closed the connection without a reply`,
          'garbage',
          'it closed the connection without a reply',
        ),
      ),
    );
    sock.on('data', (d: string) => this.onData(d));
  }

  /** Opens a connection; calls made before it is up wait for it. */
  static open(
    path: string,
    opts: { onNotification?: (method: string, params: unknown) => void; timeoutMs?: number } = {},
  ): ControlClient {
    return new ControlClient(
      path,
      connect(path),
      opts.onNotification ?? (() => {}),
      opts.timeoutMs ?? CALL_TIMEOUT_MS,
    );
  }

  call(method: string, params?: unknown, timeoutMs = this.timeoutMs): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new CallError(
            `no reply to "${method}" on ${this.path} within ${timeoutMs} ms`,
            'timeout',
            `no reply within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.sock.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`,
      );
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private fail(err: CallError): void {
    this.failure ??= err;
    this.onClosed(this.failure);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.failure);
    }
    this.sock.destroy();
  }

  private garbage(detail: string): void {
    this.fail(new CallError(`${this.path}: ${detail}`, 'garbage', detail));
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let msg: {
        jsonrpc?: unknown;
        id?: unknown;
        method?: unknown;
        params?: unknown;
        result?: unknown;
        error?: { code?: unknown; message?: unknown; data?: unknown };
      };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return this.garbage('the reply is not JSON');
      }
      if (typeof msg !== 'object' || msg === null || msg.jsonrpc !== '2.0')
        return this.garbage('the reply is not JSON-RPC 2.0');
      if (typeof msg.method === 'string' && msg.id === undefined) {
        this.onNotification(msg.method, msg.params);
        continue;
      }
      const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
      if (!p) {
        // An error with id null: the engine refused the connection itself (busy) or the line.
        if (msg.error) {
          const detail = String(msg.error.message);
          this.fail(
            new CallError(`${this.path}: ${detail}`, 'refused', detail, undefined, Number(msg.error.code)),
          );
        }
        continue;
      }
      this.pending.delete(msg.id as number);
      clearTimeout(p.timer);
      if (msg.error) {
        const detail = String(msg.error.message);
        p.reject(
          new CallError(
            `${this.path}: it refused "${p.method}": ${detail}`,
            'refused',
            detail,
            undefined,
            Number(msg.error.code),
            msg.error.data,
          ),
        );
      } else p.resolve(msg.result);
    }
    if (this.buf.length > MAX_REPLY_BYTES) this.garbage('a reply without a line end');
  }
}

/** One call on a connection of its own (for `clatbar status` and tests). Always settles. */
export async function callControl(
  path: string,
  method: string,
  params?: unknown,
  { timeoutMs = CALL_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<unknown> {
  const c = ControlClient.open(path, { timeoutMs });
  try {
    return await c.call(method, params, timeoutMs);
  } finally {
    c.close();
  }
}
