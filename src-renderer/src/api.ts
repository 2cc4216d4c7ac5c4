// The renderer's view of the app: the preload's window.clatbar when inside Electron.
import type { ClatbarApi, EngineStatus } from '../../src-main/shared/ipc.js';

declare global {
  interface Window {
    clatbar?: ClatbarApi;
  }
}

const disconnected: EngineStatus = { state: 'disconnected', reason: 'not running inside the clatbar app' };

export function api(): ClatbarApi {
  return (
    window.clatbar ?? {
      getStatus: async () => disconnected,
      onStatus: () => () => {},
      setPolicy: async () => {
        throw new Error('not connected to the clatbar app');
      },
    }
  );
}
