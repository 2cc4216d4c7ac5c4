// Electron main process: tray, diagnostics window, IPC. Thin on purpose: it holds no
// privileges and no network logic; everything it shows comes from the engine.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Tray } from 'electron';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { IPC, type EngineStatus } from '../shared/ipc.js';
import { trayView } from '../shared/tray.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../..');

let tray: Tray | null = null;
let window: BrowserWindow | null = null;
let status: EngineStatus = { state: 'disconnected', reason: 'connecting to the engine' };

function iconPath(name: string): string {
  return join(repoRoot, 'assets/icons', `${name}.png`);
}

function showDiagnostics(): void {
  if (window) {
    window.show();
    return;
  }
  window = new BrowserWindow({
    width: 760,
    height: 560,
    title: 'clatbar diagnostics',
    webPreferences: { preload: join(here, 'preload.cjs'), sandbox: true, contextIsolation: true },
  });
  window.on('closed', () => (window = null));
  void window.loadFile(join(repoRoot, 'build/renderer/index.html'));
}

function render(): void {
  const view = trayView(status);
  tray?.setImage(nativeImage.createFromPath(iconPath(view.icon)));
  tray?.setToolTip(view.tooltip);
  window?.webContents.send(IPC.status, status);
}

app.whenReady().then(() => {
  ipcMain.handle(IPC.getStatus, () => status);
  tray = new Tray(nativeImage.createFromPath(iconPath(trayView(status).icon)));
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Diagnostics…', click: showDiagnostics },
      { type: 'separator' },
      { label: 'Quit', role: 'quit' },
    ]),
  );
  render();
});

// A tray app keeps running with no window open.
app.on('window-all-closed', () => {});

export function setStatus(next: EngineStatus): void {
  status = next;
  render();
}
