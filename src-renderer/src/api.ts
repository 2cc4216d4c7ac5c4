// The renderer's view of the app: the preload's window.clatbar inside Electron, or the development
// bridge's (dev-bridge.ts) in a browser. Outside both, every call says so.
import type { ClatbarApi } from '../../src-main/shared/ipc.js';

declare global {
  interface Window {
    clatbar?: ClatbarApi;
  }
}

const nowhere = async (): Promise<never> => {
  throw new Error('not running inside the clatbar app');
};

export function api(): ClatbarApi {
  return (
    window.clatbar ??
    ({
      getState: nowhere,
      onState: () => () => {},
      onLog: () => () => {},
      logs: nowhere,
    } as unknown as ClatbarApi)
  );
}
