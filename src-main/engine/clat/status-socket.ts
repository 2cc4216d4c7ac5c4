// A minimal control socket: JSON-RPC 2.0, one request per line, over a Unix socket. Only
// `status` for now; the control issue grows it (peer credentials, enable/disable).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { CALL_TIMEOUT_MS, RPC_ERROR } from '../../shared/control.js';

export type Handler = (params: unknown) => unknown;

/** The listening server, plus a stop that does not wait for clients. */
export interface ControlServer extends Server {
  /**
   * Stops listening and destroys every open connection. `close()` alone waits until each
   * client hangs up, so one client that keeps its connection open (a tray, `socat`) would
   * keep the engine from ever finishing its SIGTERM teardown.
   */
  stop(): Promise<void>;
}

export async function serveControl(path: string, methods: Record<string, Handler>): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  const open = new Set<Socket>();
  const server = createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) return sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let id: unknown = null;
        try {
          const req = JSON.parse(line) as { id?: unknown; method?: string; params?: unknown };
          id = req.id ?? null;
          const fn = req.method && Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
          if (!fn) {
            sock.write(
              `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: RPC_ERROR.methodNotFound, message: 'method not found' } })}\n`,
            );
            continue;
          }
          sock.write(`${JSON.stringify({ jsonrpc: '2.0', id, result: fn(req.params) })}\n`);
        } catch (err) {
          sock.write(
            `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: RPC_ERROR.parseError, message: (err as Error).message } })}\n`,
          );
        }
      }
    });
  }) as ControlServer;
  let stopped: Promise<void> | null = null;
  server.stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      // close() first so no new connection slips in between, then drop the open ones: close's
      // callback only runs once the last of them is gone.
      server.close(() => resolve());
      for (const sock of open) sock.destroy();
    }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // Status only, no secrets: readable by the desktop user's tray without privileges.
  chmodSync(path, 0o666);
  return server;
}

/** Why a callControl failed: no engine, no answer in time, or an answer that is not ours. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'timeout' | 'garbage' | 'refused',
    /** What went wrong in a few words, without the path ("the reply is not JSON"). */
    readonly detail: string,
    /** The socket error's code (ENOENT, ECONNREFUSED, EACCES, ...) when kind is 'unreachable'. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export { CALL_TIMEOUT_MS };
const MAX_REPLY = 256 * 1024;

/**
 * One JSON-RPC call (for `clatbar status` and tests). Always settles: with the result, or a
 * ControlError when nothing listens, the peer stays silent past timeoutMs, or its reply is
 * not a JSON-RPC 2.0 line (a parse error must not escape from the socket's data handler,
 * where it would be an uncaught exception instead of a rejection).
 */
export function callControl(
  path: string,
  method: string,
  params?: unknown,
  { timeoutMs = CALL_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const fail = (kind: ControlError['kind'], detail: string, message: string, code?: string) =>
      settle(() => reject(new ControlError(message, kind, detail, code)));
    const garbage = (detail: string) => fail('garbage', detail, `${path}: ${detail}`);
    const timer = setTimeout(
      () =>
        fail(
          'timeout',
          `no reply within ${timeoutMs} ms`,
          `no reply to "${method}" on ${path} within ${timeoutMs} ms`,
        ),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      fail('unreachable', err.message, `cannot reach the control socket ${path}: ${err.message}`, err.code),
    );
    sock.on('close', () => garbage('it closed the connection without a reply'));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REPLY) garbage('a reply without a line end');
        return;
      }
      let res: { jsonrpc?: unknown; result?: unknown; error?: { message?: unknown } };
      try {
        res = JSON.parse(buf.slice(0, nl)) as typeof res;
      } catch {
        return garbage('the reply is not JSON');
      }
      if (typeof res !== 'object' || res === null || res.jsonrpc !== '2.0')
        return garbage('the reply is not JSON-RPC 2.0');
      const error = res.error;
      if (error) {
        const detail = `it refused "${method}": ${String(error.message)}`;
        return fail('refused', detail, `${path}: ${detail}`);
      }
      settle(() => resolve(res.result));
    });
  });
}
