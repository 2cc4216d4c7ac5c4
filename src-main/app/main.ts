// Electron main process: tray, the two windows, notifications, IPC. Thin on purpose: it holds no
// privileges and no network logic; what it shows comes from the engine (engine-client.ts) through
// the app service (service.ts), and what the tray shows is tray-model.ts's pure function.
//
// Security: never as root; one instance; every window sandboxed with context isolation and no
// Node integration, a strict Content-Security-Policy on every response, navigation, new windows,
// webviews and permission requests refused; every IPC handler checks that the sender is the main
// frame of one of our windows showing our own page before it looks at the arguments, which the
// service then checks against the call's schema.
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  nativeTheme,
  Notification,
  session,
  Tray,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CONTROL_SOCKET } from '../shared/control.js';
import { IPC_CALLS, IPC_EVENTS, ipcChannel, type IpcCall } from '../shared/ipc.js';
import { createTranslator, pickLanguage } from '../shared/i18n.js';
import { EngineClient } from './engine-client.js';
import { AppService, type AppHost } from './service.js';
import { defaultSettingsPaths, SettingsStore } from './settings.js';
import { trayModel, type TrayAction, type TrayMenuItem } from './tray-model.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const rendererIndex = join(root, 'build/renderer/index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const SYSTEMCTL = '/usr/bin/systemctl';
const ENGINE_UNIT = 'clatbar-engine.service';

/**
 * The policy for every page we load. The renderer is one local bundle: its own scripts and
 * styles (Svelte puts component styles in <style> at build time, hence 'unsafe-inline' for
 * styles only), no network, no frames, no plugins.
 */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

type WindowName = 'diagnostics' | 'settings';
const windows = new Map<WindowName, BrowserWindow>();

function main(): void {
  // Chromium refuses root for good reasons, and a root tray would make every click a root action.
  if (process.getuid?.() === 0) {
    console.error(
      'clatbar: the app does not run as root. Start it as your own user; the engine runs as a service.',
    );
    app.exit(1);
    return;
  }
  if (!app.requestSingleInstanceLock()) {
    // Another instance has the tray; it opens its diagnostics window (second-instance below).
    app.quit();
    return;
  }
  app.on('second-instance', () => showWindow('diagnostics'));
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => {});
  void app.whenReady().then(ready);
}

/** Every web contents we ever create: no navigation, no new windows, no webviews. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** The sender is the main frame of one of our windows, showing our page (not something it navigated to). */
export function trustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  if (!frame.url.startsWith(rendererUrl)) return false;
  return [...windows.values()].some((w) => !w.isDestroyed() && w.webContents === event.sender);
}

let tray: Tray | null = null;
let service: AppService;
const tr = createTranslator(
  pickLanguage(
    typeof app.getPreferredSystemLanguages === 'function'
      ? app.getPreferredSystemLanguages()
      : [app.getLocale()],
  ),
);

function showWindow(which: WindowName): void {
  const open = windows.get(which);
  if (open && !open.isDestroyed()) {
    open.show();
    open.focus();
    return;
  }
  const win = new BrowserWindow({
    width: which === 'diagnostics' ? 1000 : 720,
    height: which === 'diagnostics' ? 760 : 600,
    minWidth: 560,
    minHeight: 420,
    title: tr.t(which === 'diagnostics' ? 'diag.title' : 'settings.title'),
    show: true,
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  windows.set(which, win);
  win.on('closed', () => windows.delete(which));
  void win.loadFile(rendererIndex, { hash: which });
}

function iconFor(state: string): Electron.NativeImage {
  if (process.platform === 'darwin') {
    // macOS template images: black with alpha; the menu bar colours them for light and dark.
    const img = nativeImage.createFromPath(join(root, 'assets/icons/tray', `${state}Template.png`));
    img.setTemplateImage(true);
    return img;
  }
  // A dark panel needs the light glyph ("-dark" is the variant for dark panels); @2x is picked up
  // next to it for HiDPI.
  const theme = nativeTheme.shouldUseDarkColors ? 'dark' : 'light';
  return nativeImage.createFromPath(join(root, 'assets/icons/tray', `${state}-${theme}-22.png`));
}

function menuTemplate(items: TrayMenuItem[]): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    const action = 'action' in item ? item.action : undefined;
    const base: MenuItemConstructorOptions = {
      type: item.type,
      label: item.label,
      enabled: item.enabled,
      ...(action ? { click: () => void trayClick(action) } : {}),
    };
    if (item.type === 'checkbox' || item.type === 'radio') base.checked = item.checked;
    return base;
  });
}

async function trayClick(action: TrayAction): Promise<void> {
  try {
    switch (action) {
      case 'enable':
      case 'disable':
        await service.handle(action, []);
        return;
      case 'policy:auto':
      case 'policy:always':
      case 'policy:never':
        await service.handle('setPolicy', ['current', action.slice('policy:'.length)]);
        return;
      case 'diagnostics':
      case 'settings':
        showWindow(action);
        return;
      case 'startEngine':
        await service.handle('startEngine', []);
        return;
      case 'howToGetPermission':
        await explainPermission();
        return;
      case 'quit':
        app.quit();
        return;
    }
  } catch (err) {
    // A refused change says why (and how to get the right, which the tray now offers too).
    const s = service.state();
    const fix = s.access === 'denied' ? `\n\n${tr.t('access.fix', { group: s.group, user: s.user })}` : '';
    void dialog.showMessageBox({
      type: 'warning',
      message: tr.t('app.refused', { reason: (err as Error).message }),
      detail: fix.trim() || undefined,
    });
  }
}

async function explainPermission(): Promise<void> {
  const s = service.state();
  await dialog.showMessageBox({
    type: 'info',
    message: tr.t('access.denied', { group: s.group }),
    detail: tr.t('access.fix', { group: s.group, user: s.user }),
  });
}

let shownIcon = '';

function render(): void {
  if (!tray) return;
  const model = trayModel(service.state(), tr);
  const iconKey = `${model.icon}:${nativeTheme.shouldUseDarkColors}`;
  // Counters arrive every second; the icon changes only with the state or the theme.
  if (iconKey !== shownIcon) {
    tray.setImage(iconFor(model.icon));
    shownIcon = iconKey;
  }
  tray.setToolTip(model.tooltip);
  tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(model.menu)));
}

const unitInstalled = ['/lib/systemd/system', '/usr/lib/systemd/system', '/etc/systemd/system'].some((d) =>
  existsSync(join(d, ENGINE_UNIT)),
);

const host: AppHost = {
  copyText: (text) => clipboard.writeText(text),
  async saveText(defaultName, text) {
    const parent = BrowserWindow.getFocusedWindow();
    const options = { defaultPath: defaultName, filters: [{ name: 'JSON', extensions: ['json'] }] };
    const choice = parent
      ? await dialog.showSaveDialog(parent, options)
      : await dialog.showSaveDialog(options);
    if (choice.canceled || !choice.filePath) return null;
    await writeFile(choice.filePath, text, { mode: 0o600 });
    return choice.filePath;
  },
  openWindow: showWindow,
  // The package's one mechanism: the systemd unit. systemd asks polkit, and the package's rule
  // (assets/linux/50-clatbar.rules) lets an active local user start it without a password (stop
  // and restart only members of the group clatbar); anyone else is asked for an administrator's
  // through the desktop's agent.
  startEngine: () =>
    new Promise((resolve, reject) =>
      execFile(SYSTEMCTL, ['start', ENGINE_UNIT], { timeout: 120_000 }, (err, _out, stderr) =>
        err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
      ),
    ),
  notify(notice) {
    if (Notification.isSupported()) new Notification({ title: notice.title, body: notice.body }).show();
  },
  canStartEngine: unitInstalled && existsSync(SYSTEMCTL),
};

function ready(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } }),
  );

  const engine = new EngineClient({
    socketPath: process.env.CLATBAR_CONTROL_SOCKET || DEFAULT_CONTROL_SOCKET,
    client: `clatbar-app ${app.getVersion()}`,
  });
  const settings = new SettingsStore(defaultSettingsPaths(process.execPath));
  if (settings.problem) console.warn(`clatbar: ${settings.problem}`);
  service = new AppService({ engine, settings, tr, host, user: userInfo().username });

  for (const call of Object.keys(IPC_CALLS) as IpcCall[])
    ipcMain.handle(ipcChannel(call), (event, ...args: unknown[]) => {
      if (!trustedSender(event)) throw new Error(`refused "${call}": not from a clatbar window`);
      return service.handle(call, args);
    });
  const send = (channel: string, value: unknown) => {
    for (const w of windows.values()) if (!w.isDestroyed()) w.webContents.send(channel, value);
  };
  service.onState((s) => {
    render();
    send(IPC_EVENTS.state, s);
  });
  service.onLog((line) => send(IPC_EVENTS.log, line));
  nativeTheme.on('updated', render);

  tray = new Tray(iconFor('attention'));
  render();
  app.on('before-quit', () => engine.close());
  engine.start();
}

main();
