// A stand-in for the engine's control server (shared/control.ts protocol: JSON-RPC 2.0, one
// object per line, `subscribe` notifications), for the app's unit tests. A FAKE, for what the real
// server (engine/control/server.ts, which test/unit/app/engine-client.test.ts also runs) cannot
// show here: it records every request the client makes (the order, and that nothing is polled),
// speaks other protocol versions (engines older or newer than this checkout), and answers as a
// daemon to a caller outside the control group although the tests run as root. It answers what
// each test gives it.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Request {
  id: number;
  method: string;
  params?: unknown;
}

export type Answer =
  { result: unknown } | { error: { code: number; message: string; data?: unknown } } | null;

export interface ControlPeer {
  requests: Request[];
  /** Sends a notification to every subscribed client. */
  push(method: string, params: unknown): void;
  /** Closes the server and every connection (an engine exiting). */
  stop(): Promise<void>;
}

export async function controlPeer(path: string, answer: (req: Request) => Answer): Promise<ControlPeer> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const open = new Set<Socket>();
  const subscribed = new Set<Socket>();
  const requests: Request[] = [];
  const server: Server = createServer((sock) => {
    open.add(sock);
    sock.on('close', () => {
      open.delete(sock);
      subscribed.delete(sock);
    });
    sock.on('error', () => {});
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)) as Request;
        buf = buf.slice(nl + 1);
        requests.push(req);
        const out = answer(req);
        if (req.method === 'subscribe' && out && 'result' in out) subscribed.add(sock);
        if (out) sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: req.id, ...out })}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  let stopped: Promise<void> | null = null;
  return {
    requests,
    push(method, params) {
      for (const s of subscribed) s.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
    },
    stop: () =>
      (stopped ??= new Promise<void>((r) => {
        server.close(() => r());
        for (const s of open) s.destroy();
      })),
  };
}
