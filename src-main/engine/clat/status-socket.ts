// A minimal control socket: JSON-RPC 2.0, one request per line, over a Unix socket. Only
// `status` for now; the control issue grows it (peer credentials, enable/disable).
import { createServer, type Server } from 'node:net';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';

export type Handler = (params: unknown) => unknown;

export async function serveControl(path: string, methods: Record<string, Handler>): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  const server = createServer((sock) => {
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
              `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } })}\n`,
            );
            continue;
          }
          sock.write(`${JSON.stringify({ jsonrpc: '2.0', id, result: fn(req.params) })}\n`);
        } catch (err) {
          sock.write(
            `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32700, message: (err as Error).message } })}\n`,
          );
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // Status only, no secrets: readable by the desktop user's tray without privileges.
  chmodSync(path, 0o666);
  return server;
}

/** One JSON-RPC call (for `clatbar status` and tests). */
export async function callControl(path: string, method: string, params?: unknown): Promise<unknown> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.end();
      const res = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: { message: string } };
      if (res.error) reject(new Error(res.error.message));
      else resolve(res.result);
    });
    sock.on('error', reject);
  });
}
