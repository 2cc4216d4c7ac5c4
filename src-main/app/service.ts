// What the app does for its windows and its tray, without Electron: the AppState they draw, and
// one handler per IPC call (shared/ipc.ts IPC_CALLS), each argument list checked against the call's
// zod schema before anything runs. main.ts serves these handlers over ipcMain (after checking the
// sender's frame); the development bridge serves the same handlers over a WebSocket. What needs
// the platform (clipboard, file dialog, windows, starting the service, showing a notification)
// comes in as an AppHost.
import { IPC_CALLS, type AppState, type EngineStatus, type IpcCall } from '../shared/ipc.js';
import { DEFAULT_CONTROL_GROUP, RPC_ERROR, type MethodName } from '../shared/control.js';
import type { LogLine } from '../shared/status.js';
import type { Translator } from '../shared/i18n.js';
import { EngineCallError, type EngineClient } from './engine-client.js';
import type { SettingsStore } from './settings.js';
import { Notifier, type Notice } from './notify.js';

export interface AppHost {
  copyText(text: string): void;
  /** Asks the user where to save; resolves with the path written, or null when cancelled. */
  saveText(defaultName: string, text: string): Promise<string | null>;
  openWindow(which: 'diagnostics' | 'settings'): void;
  startEngine(): Promise<void>;
  notify(notice: Notice): void;
  /** Can startEngine work here (the service is installed)? */
  canStartEngine: boolean;
}

/** A call that was refused before it reached the engine: bad arguments. */
export class BadCallError extends Error {}

export interface AppServiceOptions {
  engine: EngineClient;
  settings: SettingsStore;
  tr: Translator;
  host: AppHost;
  user: string;
  group?: string;
  notifier?: Notifier;
  now?: () => number;
}

export class AppService {
  private access: AppState['access'] = 'unknown';
  private group: string;
  private readonly stateListeners = new Set<(s: AppState) => void>();
  private readonly notifier: Notifier;
  private readonly now: () => number;
  private previous: EngineStatus;

  constructor(private readonly o: AppServiceOptions) {
    this.notifier = o.notifier ?? new Notifier();
    this.now = o.now ?? Date.now;
    this.previous = o.engine.status;
    this.group = o.group ?? DEFAULT_CONTROL_GROUP;
    o.engine.onStatus((next) => this.engineChanged(next));
  }

  state(): AppState {
    return {
      status: this.o.engine.status,
      access: this.access,
      group: this.group,
      user: this.o.user,
      settings: this.o.settings.get(),
      canStartEngine: this.o.host.canStartEngine,
      language: this.o.tr.language,
    };
  }

  onState(listener: (s: AppState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onLog(listener: (l: LogLine) => void): () => void {
    return this.o.engine.onLog(listener);
  }

  private changed(): void {
    const s = this.state();
    for (const l of this.stateListeners) {
      try {
        l(s);
      } catch {
        // A broken listener (a closed window) must not stop the others.
      }
    }
  }

  private engineChanged(next: EngineStatus): void {
    const prev = this.previous;
    this.previous = next;
    if (prev.state === 'disconnected' && next.state !== 'disconnected') {
      // (Re)connected: whether this user may change things. The engine's hello says so; an engine
      // that does not is asked listNetworks, the cheapest call that needs the right.
      const admin = this.o.engine.hello?.admin;
      this.access = admin === undefined ? 'unknown' : admin ? 'allowed' : 'denied';
      if (this.o.engine.hello?.group) this.group = this.o.engine.hello.group;
      if (admin === undefined) void this.engineCall('listNetworks').catch(() => {});
    }
    const notice = this.notifier.decide(
      prev,
      next,
      this.now(),
      this.o.settings.get().notifications,
      this.o.tr,
    );
    if (notice) this.o.host.notify(notice);
    this.changed();
  }

  /** An engine call that also learns, from its answer, whether this user may change things. */
  private async engineCall(method: MethodName, params?: unknown): Promise<unknown> {
    try {
      const result = await this.o.engine.call(method, params);
      if (method !== 'hello' && method !== 'status' && method !== 'subscribe' && this.access !== 'allowed') {
        this.access = 'allowed';
        this.changed();
      }
      return result;
    } catch (err) {
      if (err instanceof EngineCallError && err.notAllowed && this.access !== 'denied') {
        this.access = 'denied';
        this.changed();
      }
      // An engine without the method (the foreground `clatbar run --uplink`, an older engine):
      // say that in words rather than "method not found".
      if (
        err instanceof EngineCallError &&
        (err.code === RPC_ERROR.methodNotFound || err.code === RPC_ERROR.unsupported)
      )
        throw new EngineCallError(method, err.code, this.o.tr.t('app.unsupported', { method }), err.data);
      throw err;
    }
  }

  private async report(): Promise<string> {
    return `${JSON.stringify(await this.engineCall('diagnostics'), null, 2)}\n`;
  }

  /** Runs one IPC call: arguments checked against its schema first, nothing done when they do not fit. */
  async handle(call: string, args: unknown): Promise<unknown> {
    if (!Object.hasOwn(IPC_CALLS, call)) throw new BadCallError(`no such call "${call}"`);
    const parsed = IPC_CALLS[call as IpcCall].safeParse(args);
    if (!parsed.success)
      throw new BadCallError(`bad arguments for "${call}": ${parsed.error.issues[0]?.message}`);
    const a = parsed.data as unknown[];
    switch (call as IpcCall) {
      case 'getState':
        return this.state();
      case 'enable':
      case 'disable':
      case 'selfTest':
      case 'diagnostics':
        return this.engineCall(call as MethodName);
      case 'listNetworks':
        // { networks: [...] }, or the list itself from an engine that answers so.
        return unwrap(await this.engineCall('listNetworks'), 'networks');
      case 'setPolicy': {
        await this.engineCall('setPolicy', { network: a[0], policy: a[1] });
        // A policy chosen now for the network the laptop is on is the user's latest word: it ends
        // an earlier on/off click there (the engine keeps such an override until the network
        // changes, and it would otherwise win over "Never" chosen after "on"). Only when the
        // engine says one is in force: each change is a second evaluation in the engine (and a
        // wait for it) before the window hears back. The engine's state push for a click comes
        // before its answer to the click, so a click made here is known by now.
        const network = this.o.engine.status.network;
        if (network?.override && (a[0] === 'current' || a[0] === network.id))
          await this.engineCall('clearOverride');
        return undefined;
      }
      case 'setDefaultPolicy':
        return this.engineCall('setDefaultPolicy', { policy: a[0] });
      case 'setDns64Mode':
        return this.engineCall('setDns64Mode', { mode: a[0] });
      case 'setInbound':
        return this.engineCall('setNetworkOption', {
          network: a[0],
          option: 'inbound',
          value: a[1] === 'default' ? null : a[1],
        });
      case 'forgetNetwork':
        return this.engineCall('forgetNetwork', { network: a[0] });
      case 'logs': {
        const params: { since?: number; limit?: number } = {};
        if (a[0] !== undefined) params.since = a[0] as number;
        if (a[1] !== undefined) params.limit = a[1] as number;
        return unwrap(await this.engineCall('logs', params), 'lines');
      }
      case 'copyReport':
        this.o.host.copyText(await this.report());
        return undefined;
      case 'saveReport':
        return this.o.host.saveText(
          `clatbar-report-${new Date(this.now()).toISOString().slice(0, 10)}.json`,
          await this.report(),
        );
      case 'setAppSettings': {
        const settings = await this.o.settings.set(a[0] as Parameters<SettingsStore['set']>[0]);
        this.changed();
        return settings;
      }
      case 'startEngine':
        return this.o.host.startEngine();
      case 'openSettings':
        this.o.host.openWindow('settings');
        return undefined;
      case 'openDiagnostics':
        this.o.host.openWindow('diagnostics');
        return undefined;
    }
  }
}

/** The list under key in an answer ({networks: [...]}), or the answer when it is the list. */
function unwrap(answer: unknown, key: string): unknown[] {
  if (Array.isArray(answer)) return answer;
  const list = answer && typeof answer === 'object' ? (answer as Record<string, unknown>)[key] : undefined;
  return Array.isArray(list) ? list : [];
}
