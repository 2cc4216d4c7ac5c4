// The tray icon is a pure function of the engine status (shared/tray.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { trayView } from '../../../src-main/shared/tray.js';
import type { EngineState } from '../../../src-main/shared/ipc.js';

const icons = fileURLToPath(new URL('../../../../assets/icons/', import.meta.url));

test('every state maps to an icon that exists as SVG and PNG', () => {
  const states: EngineState[] = ['disconnected', 'off', 'standby', 'active', 'error'];
  for (const state of states) {
    const view = trayView({ state, reason: 'r' });
    assert.ok(existsSync(`${icons}${view.icon}.svg`), `${view.icon}.svg`);
    assert.ok(existsSync(`${icons}${view.icon}.png`), `${view.icon}.png`);
  }
});

test('the active tooltip names the prefix and the uplink', () => {
  const view = trayView({
    state: 'active',
    reason: 'IPv6-only network',
    uplink: 'wlan0',
    prefix: { prefix: '64:ff9b::/96', source: 'pref64' },
  });
  assert.equal(view.icon, 'clatbar-active');
  assert.equal(view.tooltip, 'clatbar: IPv4 via 64:ff9b::/96 on wlan0');
});

test('an error shows the problem rather than the generic reason', () => {
  const view = trayView({
    state: 'error',
    reason: 'failed',
    problem: 'uplink wlan0 has no IPv6 default route',
  });
  assert.equal(view.icon, 'clatbar-error');
  assert.match(view.tooltip, /no IPv6 default route/);
});
