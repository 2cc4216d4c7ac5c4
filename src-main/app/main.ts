// Electron main process: tray, diagnostics window, IPC. Thin on purpose: it holds no
// privileges and no network logic; everything it shows comes from the engine.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Tray } from 'electron';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { IPC, type EngineStatus } from '../shared/ipc.js';
import { trayView } from '../shared/tray.js';
import { DEFAULT_CONTROL_SOCKET } from '../shared/control.js';
import { EngineClient } from './engine-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../..');

let tray: Tray | null = null;
let window: BrowserWindow | null = null;
let status: EngineStatus = { state: 'disconnected', reason: 'connecting to the engine' };

// The engine's default socket (engine/clat/plan.ts DEFAULTS.controlSocket); the app imports only
// shared code, so it is repeated here. CLATBAR_CONTROL_SOCKET matches `clatbar run --control-socket`.
const engine = new EngineClient({
  socketPath: process.env.CLATBAR_CONTROL_SOCKET ?? DEFAULT_CONTROL_SOCKET,
});
engine.onStatus(setStatus);

function iconPath(name: string): string {
  return join(repoRoot, 'assets/icons', `${name}.png`);
}

function showDiagnostics(): void {
  if (window) {
    window.show();
    return;
  }
  window = new BrowserWindow({
    width: 1000,
    height: 700,
    minWidth: 560,
    minHeight: 420,
    title: 'clatbar diagnostics',
    webPreferences: { preload: join(here, 'preload.cjs'), sandbox: true, contextIsolation: true },
  });
  window.on('closed', () => (window = null));
  void window.loadFile(join(repoRoot, 'build/renderer/index.html'));
}

let shownIcon = '';

function render(): void {
  const view = trayView(status);
  // Statuses arrive every second with new counters; the icon changes only with the state.
  if (tray && view.icon !== shownIcon) {
    tray.setImage(nativeImage.createFromPath(iconPath(view.icon)));
    shownIcon = view.icon;
  }
  tray?.setToolTip(view.tooltip);
  if (window && !window.isDestroyed()) window.webContents.send(IPC.status, status);
}

app.whenReady().then(() => {
  ipcMain.handle(IPC.getStatus, () => status);
  ipcMain.handle(IPC.setPolicy, () => {
    throw new Error('per-network policy is not built into the engine yet');
  });
  shownIcon = trayView(status).icon;
  tray = new Tray(nativeImage.createFromPath(iconPath(shownIcon)));
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Diagnostics…', click: showDiagnostics },
      { type: 'separator' },
      { label: 'Quit', role: 'quit' },
    ]),
  );
  render();
  engine.start();
});

app.on('before-quit', () => engine.close());

// A tray app keeps running with no window open.
app.on('window-all-closed', () => {});

export function setStatus(next: EngineStatus): void {
  status = next;
  render();
}
