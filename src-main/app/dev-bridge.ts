// `npm run dev:ui`: the renderer in a browser, for work without Electron, and what the browser
// tests drive. It plays Electron main's part with the same code: an EngineClient on the engine's
// control socket and the AppService whose handlers main.ts serves over IPC; here they are served
// over a WebSocket, and a small script (dev-preload.js) gives the page the same window.clatbar
// the preload gives it, one function per call.
//
// Safety: it listens on 127.0.0.1 only, and the page and the WebSocket need this run's random
// token (printed with the URL), so another local user or a web page cannot use it to drive the
// engine with your rights. The Host and Origin headers must name 127.0.0.1:PORT (no DNS rebinding).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_CONTROL_SOCKET } from '../shared/control.js';
import { IPC_CALLS } from '../shared/ipc.js';
import { createTranslator, pickLanguage, type Language } from '../shared/i18n.js';
import { EngineClient } from './engine-client.js';
import { AppService, type AppHost } from './service.js';
import { SettingsStore } from './settings.js';
import type { Notice } from './notify.js';

export interface DevBridgeOptions {
  socketPath: string;
  /** 0: any free port. */
  port?: number;
  language?: Language;
  /** The built renderer (build/renderer). */
  rendererDir?: string;
  /** Where the app's settings live ($XDG_CONFIG_HOME); default a fresh temporary directory. */
  configHome?: string;
}

export interface DevBridge {
  /** The page's URL with the token: http://127.0.0.1:PORT/?token=... (append #settings for settings). */
  url: string;
  token: string;
  port: number;
  /** Notifications the service asked for (a browser has no tray). */
  notices: Notice[];
  /** Where Copy report (clipboard.txt) and Save report… write: this run's temporary directory. */
  files: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** The browser's stand-in for preload.cts: window.clatbar over the WebSocket. */
function devPreload(calls: string[]): string {
  return `(() => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const ws = new WebSocket('ws://' + location.host + '/bridge?token=' + encodeURIComponent(token));
  const opened = new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const pending = new Map();
  const listeners = { state: new Set(), log: new Set() };
  let next = 1;
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.event) { for (const l of listeners[msg.event] || []) l(msg.value); return; }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if ('error' in msg) p.reject(new Error(msg.error)); else p.resolve(msg.result);
  };
  const call = (name) => async (...args) => {
    await opened;
    const id = next++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, call: name, args }));
    });
  };
  const api = {};
  for (const name of ${JSON.stringify(calls)}) api[name] = call(name);
  api.onState = (l) => (listeners.state.add(l), () => listeners.state.delete(l));
  api.onLog = (l) => (listeners.log.add(l), () => listeners.log.delete(l));
  window.clatbar = Object.freeze(api);
})();
`;
}

function sameToken(given: string | null, token: string): boolean {
  if (!given || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

export async function startDevBridge(o: DevBridgeOptions): Promise<DevBridge> {
  const rendererDir = o.rendererDir ?? fileURLToPath(new URL('../../renderer/', import.meta.url));
  if (!existsSync(join(rendererDir, 'index.html')))
    throw new Error(`the renderer is not built in ${rendererDir}: run npm run build:renderer`);
  const token = randomBytes(24).toString('hex');
  const tr = createTranslator(o.language ?? 'en');
  const work = mkdtempSync(join(tmpdir(), 'clatbar-dev-ui-'));
  const notices: Notice[] = [];
  const sockets = new Set<WebSocket>();
  const broadcast = (event: string, value: unknown) => {
    const text = JSON.stringify({ event, value });
    for (const ws of sockets) ws.send(text);
  };
  const host: AppHost = {
    copyText: (text) => writeFileSync(join(work, 'clipboard.txt'), text),
    async saveText(name, text) {
      const path = join(work, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    },
    openWindow: (which) => console.log(`dev-ui: open ${which}: ${bridge.url}#${which}`),
    startEngine: async () => {
      throw new Error('the development bridge does not start the engine; start it with clatbar run');
    },
    notify: (n) => void notices.push(n),
    canStartEngine: false,
  };
  const engine = new EngineClient({ socketPath: o.socketPath, client: 'clatbar dev-ui' });
  const settings = new SettingsStore({
    configHome: o.configHome ?? join(work, 'config'),
    systemAutostart: '/etc/xdg/autostart/clatbar.desktop',
    exec: 'clatbar-app',
  });
  const service = new AppService({ engine, settings, tr, host, user: userInfo().username });
  service.onState((s) => broadcast('state', s));
  service.onLog((l) => broadcast('log', l));

  let port = 0;
  const hostOk = (req: IncomingMessage) => req.headers.host === `127.0.0.1:${port}`;
  const preload = devPreload(Object.keys(IPC_CALLS));

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostOk(req) || req.method !== 'GET') {
      res.writeHead(403).end();
      return;
    }
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        // The same policy as the app's, plus the bridge's WebSocket.
        'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src ws://127.0.0.1:${port}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'`,
      });
      res.end(body);
    };
    if (url.pathname === '/' || url.pathname === '/index.html') {
      if (!sameToken(url.searchParams.get('token'), token)) {
        res
          .writeHead(403, { 'Content-Type': 'text/plain' })
          .end('clatbar dev-ui: the URL needs this run’s token\n');
        return;
      }
      const html = readFileSync(join(rendererDir, 'index.html'), 'utf8')
        // The header above is the policy here (the page's own meta forbids connecting anywhere).
        .replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/, '')
        .replace('<head>', '<head>\n    <script src="./dev-preload.js"></script>');
      return send(TYPES['.html'], html);
    }
    if (url.pathname === '/dev-preload.js') return send(TYPES['.js'], preload);
    // The bundle's own files (public code, no data): inside rendererDir only.
    const file = normalize(join(rendererDir, decodeURIComponent(url.pathname)));
    if (!file.startsWith(rendererDir.endsWith(sep) ? rendererDir : rendererDir + sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    send(TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    if (
      url.pathname !== '/bridge' ||
      !hostOk(req) ||
      origin !== `http://127.0.0.1:${port}` ||
      !sameToken(url.searchParams.get('token'), token)
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        let msg: { id?: unknown; call?: unknown; args?: unknown };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          return ws.close(1003, 'not JSON');
        }
        const id = msg.id;
        // JSON has no undefined: an optional argument left out in the middle (logs(undefined, 500))
        // arrives as null, where Electron's IPC would keep it undefined. No call takes a null.
        const args = Array.isArray(msg.args)
          ? msg.args.map((a: unknown) => (a === null ? undefined : a))
          : msg.args;
        service.handle(String(msg.call), args).then(
          (result) => ws.send(JSON.stringify({ id, result: result ?? null })),
          (err: Error) => ws.send(JSON.stringify({ id, error: err.message })),
        );
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  engine.start();
  const bridge: DevBridge = {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    notices,
    files: work,
    async close() {
      engine.close();
      for (const ws of sockets) ws.terminate();
      wss.close();
      // Keep-alive connections of an open browser would hold server.close() forever.
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
  return bridge;
}

const HELP = `usage: npm run dev:ui [-- --socket PATH] [--port N] [--lang en|ko]

Serves the diagnostics and settings windows in your browser, talking to a running engine through
its control socket (default ${DEFAULT_CONTROL_SOCKET}; CLATBAR_CONTROL_SOCKET or --socket for
another, e.g. the one \`clatbar lab\` prints). Listens on 127.0.0.1 only; the printed URL carries
this run's token, without which the page and its WebSocket are refused.`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
    process.exit(0);
  }
  const lang = opt('--lang');
  const bridge = await startDevBridge({
    socketPath: opt('--socket') ?? process.env.CLATBAR_CONTROL_SOCKET ?? DEFAULT_CONTROL_SOCKET,
    port: Number(opt('--port') ?? 0),
    language:
      lang === 'ko' || lang === 'en'
        ? lang
        : pickLanguage(
            [process.env.LC_ALL, process.env.LC_MESSAGES, process.env.LANG].filter((x): x is string => !!x),
          ),
  });
  console.log(
    `clatbar dev-ui: diagnostics ${bridge.url}\n                settings    ${bridge.url}#settings`,
  );
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
