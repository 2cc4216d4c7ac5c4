// The tray icon as a pure function of the engine's status, so it is tested without Electron.
import type { EngineStatus } from './ipc.js';

export interface TrayView {
  /** Base name of the icon under assets/icons/ (PNG sizes are generated from the SVG). */
  icon: 'clatbar-active' | 'clatbar-standby' | 'clatbar-off' | 'clatbar-error';
  tooltip: string;
}

export function trayView(status: EngineStatus): TrayView {
  switch (status.state) {
    case 'active':
      return {
        icon: 'clatbar-active',
        tooltip: `clatbar: IPv4 via ${status.prefix?.prefix ?? 'NAT64'}${status.uplink ? ` on ${status.uplink}` : ''}`,
      };
    case 'standby':
      return { icon: 'clatbar-standby', tooltip: `clatbar: standing by (${status.reason})` };
    case 'off':
      return { icon: 'clatbar-off', tooltip: 'clatbar: off for this network' };
    case 'error':
      return { icon: 'clatbar-error', tooltip: `clatbar: ${status.problem ?? status.reason}` };
    case 'disconnected':
      return { icon: 'clatbar-error', tooltip: `clatbar: engine not reachable (${status.reason})` };
  }
}
