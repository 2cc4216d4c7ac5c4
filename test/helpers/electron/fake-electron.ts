// A stand-in for the `electron` module that records what main.ts asks of it, so main.ts itself
// runs under plain Node in test/unit/app/main.test.ts. A FAKE because Electron's binary cannot be
// downloaded on these machines; it implements only the calls main.ts makes, with Electron's
// documented shapes. loader.ts maps `import ... from 'electron'` to this file.
import { EventEmitter } from 'node:events';

type Fn = (...args: never[]) => unknown;

export interface Recorded {
  exitCode: number | null;
  quit: number;
  lockRequested: number;
  windows: FakeBrowserWindow[];
  handlers: Map<string, Fn>;
  trays: FakeTray[];
  dialogs: unknown[];
  notifications: Array<{ title: string; body: string }>;
  clipboard: string[];
  permissionRequestHandler: Fn | null;
  permissionCheckHandler: Fn | null;
  headersHandler: Fn | null;
}

export const recorded: Recorded = fresh();
/** Whether requestSingleInstanceLock succeeds (another instance holds it when false). */
export const control = { lockAvailable: true, languages: ['en-US'] };

function fresh(): Recorded {
  return {
    exitCode: null,
    quit: 0,
    lockRequested: 0,
    windows: [],
    handlers: new Map(),
    trays: [],
    dialogs: [],
    notifications: [],
    clipboard: [],
    permissionRequestHandler: null,
    permissionCheckHandler: null,
    headersHandler: null,
  };
}

let readyResolve: () => void = () => {};
let readyPromise = new Promise<void>((r) => (readyResolve = r));

export function reset(): void {
  Object.assign(recorded, fresh());
  app.removeAllListeners();
  readyPromise = new Promise<void>((r) => (readyResolve = r));
  control.lockAvailable = true;
}

/** Electron's 'ready'. */
export function emitReady(): void {
  readyResolve();
}

class FakeApp extends EventEmitter {
  exit(code: number) {
    recorded.exitCode = code;
  }
  quit() {
    recorded.quit++;
  }
  requestSingleInstanceLock() {
    recorded.lockRequested++;
    return control.lockAvailable;
  }
  whenReady() {
    return readyPromise;
  }
  getPreferredSystemLanguages() {
    return control.languages;
  }
  getLocale() {
    return control.languages[0];
  }
  getVersion() {
    return '0.0.0-test';
  }
}
export const app = new FakeApp();

export class FakeFrame {
  constructor(public url: string) {}
}

export class FakeWebContents extends EventEmitter {
  mainFrame = new FakeFrame('about:blank');
  sent: Array<[string, unknown]> = [];
  windowOpenHandler: Fn | null = null;
  send(channel: string, value: unknown) {
    this.sent.push([channel, value]);
  }
  setWindowOpenHandler(fn: Fn) {
    this.windowOpenHandler = fn;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  webContents = new FakeWebContents();
  loaded: { path: string; options?: { hash?: string } } | null = null;
  destroyed = false;
  shown = 0;
  constructor(public options: Record<string, unknown>) {
    super();
    recorded.windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  async loadFile(path: string, options?: { hash?: string }) {
    this.loaded = { path, options };
    this.webContents.mainFrame.url = `file://${path}${options?.hash ? `#${options.hash}` : ''}`;
  }
  isDestroyed() {
    return this.destroyed;
  }
  show() {
    this.shown++;
  }
  focus() {}
  static getFocusedWindow() {
    return null;
  }
}
export const BrowserWindow = FakeBrowserWindow;

export class FakeTray {
  image: unknown;
  tooltip = '';
  menus: unknown[][] = [];
  constructor(image: unknown) {
    this.image = image;
    recorded.trays.push(this);
  }
  setImage(image: unknown) {
    this.image = image;
  }
  setToolTip(t: string) {
    this.tooltip = t;
  }
  setContextMenu(menu: unknown[]) {
    this.menus.push(menu);
  }
}
export const Tray = FakeTray;

export const Menu = { buildFromTemplate: (template: unknown[]) => template };
export const nativeImage = {
  createFromPath: (path: string) => ({ path, template: false, setTemplateImage() {} }),
};
export const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false });
export const ipcMain = {
  handle(channel: string, fn: Fn) {
    if (recorded.handlers.has(channel)) throw new Error(`a second handler for ${channel}`);
    recorded.handlers.set(channel, fn);
  },
};
export const clipboard = { writeText: (t: string) => void recorded.clipboard.push(t) };
export const dialog = {
  showMessageBox: async (o: unknown) => (recorded.dialogs.push(o), { response: 0 }),
  showSaveDialog: async (o: unknown) => (recorded.dialogs.push(o), { canceled: true }),
};
export class Notification {
  constructor(private readonly o: { title: string; body: string }) {}
  static isSupported() {
    return true;
  }
  show() {
    recorded.notifications.push(this.o);
  }
}
export const session = {
  defaultSession: {
    setPermissionRequestHandler: (fn: Fn) => void (recorded.permissionRequestHandler = fn),
    setPermissionCheckHandler: (fn: Fn) => void (recorded.permissionCheckHandler = fn),
    webRequest: { onHeadersReceived: (fn: Fn) => void (recorded.headersHandler = fn) },
  },
};
