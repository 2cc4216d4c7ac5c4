// Exposes exactly the typed ClatbarApi to the sandboxed renderer; nothing else crosses.
// A sandboxed preload must be CommonJS and can require nothing but electron, hence .cts and
// the channel names repeated here; the `satisfies` check keeps them equal to shared/ipc.ts.
import { contextBridge, ipcRenderer } from 'electron';
import type { ClatbarApi, EngineStatus, IPC as IpcChannels } from '../shared/ipc.js';

const IPC = {
  getStatus: 'clatbar:get-status',
  status: 'clatbar:status',
  setPolicy: 'clatbar:set-policy',
} as const satisfies typeof IpcChannels;

const api: ClatbarApi = {
  getStatus: () => ipcRenderer.invoke(IPC.getStatus) as Promise<EngineStatus>,
  onStatus(listener) {
    const handler = (_event: unknown, status: EngineStatus) => listener(status);
    ipcRenderer.on(IPC.status, handler);
    return () => ipcRenderer.off(IPC.status, handler);
  },
  setPolicy: (policy) => ipcRenderer.invoke(IPC.setPolicy, policy) as Promise<void>,
};

contextBridge.exposeInMainWorld('clatbar', api);
