// The tray as a pure function of the app's state: which icon, which tooltip, which menu. main.ts
// turns the model into Electron's Tray and Menu and routes clicks by item id; everything that
// decides what the user sees is here, tested without Electron.
import type { AppState, EngineStatus } from '../shared/ipc.js';
import type { Translator } from '../shared/i18n.js';
import type { Policy } from '../shared/control.js';

/** The four icon states (assets/icons/tray/STATE-{light,dark}-SIZE.png). */
export type TrayIcon = 'off' | 'standby' | 'active' | 'attention';

/** What a click on a menu item asks for; main.ts maps each to one call. */
export type TrayAction =
  | 'enable'
  | 'disable'
  | 'policy:auto'
  | 'policy:always'
  | 'policy:never'
  | 'diagnostics'
  | 'settings'
  | 'startEngine'
  | 'howToGetPermission'
  | 'quit';

export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'normal'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'checkbox'; label: string; checked: boolean; enabled: boolean; action: TrayAction }
  | { type: 'radio'; label: string; checked: boolean; enabled: boolean; action: TrayAction };

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  menu: TrayMenuItem[];
}

export function trayIcon(status: EngineStatus): TrayIcon {
  switch (status.state) {
    case 'active':
      return 'active';
    case 'standby':
      return 'standby';
    case 'off':
      return 'off';
    case 'attention':
    case 'disconnected':
      return 'attention';
    case 'stopping':
      return 'standby';
  }
}

const POLICIES: readonly Policy[] = ['auto', 'always', 'never'];

export function trayModel(app: AppState, tr: Translator): TrayModel {
  const { status } = app;
  const network = status.network?.name ?? tr.t('tray.thisNetwork');
  const reason = tr.msg(status.reason);
  const words = {
    network,
    reason,
    prefix: status.prefix?.prefix ?? 'NAT64',
    uplink: status.uplink ?? '?',
  };
  const tooltip = tr.t(`tray.tooltip.${status.state}`, words);
  const line = tr.t(`tray.status.${status.state}`, words);
  const menu: TrayMenuItem[] = [{ type: 'normal', label: line, enabled: false }];

  const running = status.state !== 'disconnected';
  // A change is offered when the engine runs on a network and may be changed by this user; a user
  // the engine refused sees the items greyed and how to get the right.
  const canChange = running && app.access !== 'denied' && status.state !== 'stopping';
  if (running && status.network) {
    const on = status.state === 'active';
    menu.push(
      { type: 'separator' },
      {
        type: 'checkbox',
        label: tr.t('tray.toggle'),
        checked: on,
        enabled: canChange,
        action: on ? 'disable' : 'enable',
      },
      { type: 'normal', label: tr.t('tray.policyOn', { network }), enabled: false },
    );
    for (const p of POLICIES)
      menu.push({
        type: 'radio',
        label: tr.t(`tray.policy.${p}`),
        checked: status.network.policy === p,
        enabled: canChange && status.network.policySource !== 'admin',
        action: `policy:${p}`,
      });
  }
  if (!running && app.canStartEngine)
    menu.push(
      { type: 'separator' },
      { type: 'normal', label: tr.t('tray.startEngine'), enabled: true, action: 'startEngine' },
    );
  if (running && app.access === 'denied')
    menu.push({
      type: 'normal',
      label: tr.t('tray.howToGetPermission'),
      enabled: true,
      action: 'howToGetPermission',
    });
  menu.push(
    { type: 'separator' },
    { type: 'normal', label: tr.t('tray.diagnostics'), enabled: true, action: 'diagnostics' },
    { type: 'normal', label: tr.t('tray.settings'), enabled: true, action: 'settings' },
    { type: 'separator' },
    { type: 'normal', label: tr.t('tray.quit'), enabled: true, action: 'quit' },
  );
  return { icon: trayIcon(status), tooltip, menu };
}
