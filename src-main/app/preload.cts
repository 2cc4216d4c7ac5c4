// Exposes exactly the typed ClatbarApi to the sandboxed renderer: one function per call, each
// bound to its own channel; no generic invoke or send crosses. A sandboxed preload must be
// CommonJS and can require nothing but electron, hence .cts and the call names repeated here;
// the `satisfies` checks keep them equal to shared/ipc.ts (IPC_CALLS, IPC_EVENTS).
import { contextBridge, ipcRenderer } from 'electron';
import type { ClatbarApi, IpcCall, IPC_EVENTS as Events } from '../shared/ipc.js';

const EVENTS = { state: 'clatbar:state', log: 'clatbar:log' } as const satisfies typeof Events;

/** Every call, in one place: adding one to IPC_CALLS without adding it here fails to compile. */
const CALLS = [
  'getState',
  'enable',
  'disable',
  'setPolicy',
  'setDefaultPolicy',
  'setDns64Mode',
  'setInbound',
  'forgetNetwork',
  'listNetworks',
  'selfTest',
  'diagnostics',
  'logs',
  'copyReport',
  'saveReport',
  'setAppSettings',
  'startEngine',
  'openSettings',
  'openDiagnostics',
] as const satisfies readonly IpcCall[];
type Missing = Exclude<IpcCall, (typeof CALLS)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

function call(name: IpcCall) {
  const channel = `clatbar:${name}`;
  return (...args: unknown[]) => ipcRenderer.invoke(channel, ...args);
}

function listen(channel: string) {
  return (listener: (value: never) => void) => {
    const handler = (_event: unknown, value: unknown) => listener(value as never);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.off(channel, handler);
    };
  };
}

const api = {
  ...(Object.fromEntries(CALLS.map((name) => [name, call(name)])) as Omit<ClatbarApi, 'onState' | 'onLog'>),
  onState: listen(EVENTS.state),
  onLog: listen(EVENTS.log),
} as ClatbarApi;

contextBridge.exposeInMainWorld('clatbar', api);
