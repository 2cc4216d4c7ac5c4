// The tray as a pure function of the app's state (app/tray-model.ts): icon, tooltip and menu for
// every engine state, in English and Korean, and what a user without the right sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { trayModel, type TrayMenuItem } from '../../../src-main/app/tray-model.js';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import type { AppState, EngineStatus } from '../../../src-main/shared/ipc.js';

const icons = fileURLToPath(new URL('../../../../assets/icons/tray/', import.meta.url));
const en = createTranslator('en');
const ko = createTranslator('ko');

const network = { id: 'nm:1', name: 'Conference Wi-Fi', policy: 'auto' as const, policySource: 'default' };

function app(status: Partial<EngineStatus>, over: Partial<AppState> = {}): AppState {
  return {
    status: { state: 'active', reason: { code: 'x', text: 'because' }, ...status },
    access: 'allowed',
    group: 'clatbar',
    user: 'alice',
    settings: { notifications: true, startAtLogin: true },
    canStartEngine: true,
    language: 'en',
    ...over,
  };
}

/** The menu in short: "label" for items, "[x] label" checkboxes, "(o) label" radios, "-" separators, "~" disabled. */
function outline(menu: TrayMenuItem[]): string[] {
  return menu.map((m) => {
    if (m.type === 'separator') return '-';
    const off = m.enabled ? '' : '~';
    if (m.type === 'checkbox') return `${off}[${m.checked ? 'x' : ' '}] ${m.label}`;
    if (m.type === 'radio') return `${off}(${m.checked ? 'o' : ' '}) ${m.label}`;
    return `${off}${m.label}`;
  });
}

test('active on a network: status line, checked toggle, its policy as radios', () => {
  const m = trayModel(
    app({ network, uplink: 'wlan0', prefix: { prefix: '64:ff9b::/96', source: 'pref64' } }),
    en,
  );
  assert.equal(m.icon, 'active');
  assert.equal(m.tooltip, 'clatbar: IPv4 via 64:ff9b::/96 on wlan0');
  assert.deepEqual(outline(m.menu), [
    '~IPv4 through clatbar is on for Conference Wi-Fi',
    '-',
    '[x] IPv4 through clatbar',
    '~On Conference Wi-Fi:',
    '(o) Automatic',
    '( ) Always',
    '( ) Never',
    '-',
    'Diagnostics…',
    'Settings…',
    '-',
    'Quit',
  ]);
  const toggle = m.menu.find((i) => i.type === 'checkbox');
  assert.equal(toggle && 'action' in toggle ? toggle.action : '', 'disable');
});

test('each state has its icon (light and dark, every Linux tray size) and its words', () => {
  const cases: Array<[EngineStatus['state'], string, RegExp]> = [
    ['off', 'off', /off on Conference Wi-Fi/],
    ['standby', 'standby', /Standing by on Conference Wi-Fi: because/],
    ['attention', 'attention', /needs attention: because/],
    ['stopping', 'standby', /stopping/],
    ['disconnected', 'attention', /not running/],
  ];
  for (const [state, icon, line] of cases) {
    const m = trayModel(app({ state, network }), en);
    assert.equal(m.icon, icon, state);
    assert.match((m.menu[0] as { label: string }).label, line, state);
    for (const theme of ['light', 'dark'])
      for (const size of [16, 22, 24, 32, 48])
        for (const scale of ['', '@2x'])
          assert.ok(
            existsSync(`${icons}${icon}-${theme}-${size}${scale}.png`),
            `${icon}-${theme}-${size}${scale}.png`,
          );
    assert.ok(existsSync(`${icons}${icon}Template.png`) && existsSync(`${icons}${icon}Template@2x.png`));
  }
  // Off: the toggle is unchecked and turns it on.
  const off = trayModel(app({ state: 'off', network: { ...network, policy: 'never' } }), en);
  const toggle = off.menu.find((i) => i.type === 'checkbox');
  assert.ok(toggle && toggle.type === 'checkbox' && !toggle.checked && toggle.action === 'enable');
  assert.ok(off.menu.some((i) => i.type === 'radio' && i.checked && i.label === 'Never'));
});

test('engine not running: attention, "Start the engine", no toggle', () => {
  const m = trayModel(
    app({ state: 'disconnected', reason: { code: 'app.noEngine', text: 'no engine' } }),
    en,
  );
  assert.equal(m.icon, 'attention');
  const labels = outline(m.menu);
  assert.ok(labels.includes('Start the engine'), labels.join('|'));
  assert.ok(!labels.some((l) => l.includes('IPv4 through clatbar')), labels.join('|'));
  // Where the service is not installed there is nothing to start.
  const dev = trayModel(app({ state: 'disconnected' }, { canStartEngine: false }), en);
  assert.ok(!outline(dev.menu).includes('Start the engine'));
});

test('no permission: changes greyed, and how to get the right is offered', () => {
  const m = trayModel(app({ network }, { access: 'denied' }), en);
  const labels = outline(m.menu);
  assert.ok(labels.includes('~[x] IPv4 through clatbar'), labels.join('|'));
  assert.ok(labels.includes('~(o) Automatic'), labels.join('|'));
  assert.ok(labels.includes('How to get permission to change this…'));
  // With the right, no such item.
  assert.ok(!outline(trayModel(app({ network }), en).menu).some((l) => l.includes('permission')));
});

test('an admin-forced policy cannot be changed from the tray', () => {
  const m = trayModel(app({ network: { ...network, policy: 'always', policySource: 'admin' } }), en);
  assert.ok(m.menu.filter((i) => i.type === 'radio').every((i) => !i.enabled));
  assert.ok(m.menu.some((i) => i.type === 'checkbox' && i.enabled));
});

test('Korean: the same menu in Korean; engine messages by code, unknown codes in the engine’s words', () => {
  const m = trayModel(
    app({ state: 'standby', network, reason: { code: 'standby.future', text: 'native IPv4' } }),
    ko,
  );
  assert.deepEqual(
    outline(m.menu).filter((l) => l !== '-'),
    [
      '~Conference Wi-Fi에서 대기 중: native IPv4',
      '[ ] clatbar를 통한 IPv4',
      '~Conference Wi-Fi에서:',
      '(o) 자동',
      '( ) 항상',
      '( ) 사용 안 함',
      '진단…',
      '설정…',
      '종료',
    ],
  );
  const down = trayModel(
    app({ state: 'disconnected', reason: { code: 'app.noEngine', params: { path: '/run/x' }, text: 'x' } }),
    ko,
  );
  assert.equal(
    down.tooltip,
    'clatbar: 엔진에 연결할 수 없음 (실행 중인 엔진이 없습니다 (/run/x에서 응답 없음))',
  );
});
