// src-main/app/main.ts itself, loaded under plain Node with a stand-in `electron` module that
// records calls (test/helpers/electron/: Electron's binary cannot be downloaded here). Checked:
// refuses root; the single-instance lock; window options (sandbox, context isolation, no node
// integration); navigation, new windows, webviews and permission requests refused; the CSP on
// every response; every IPC handler refuses a sender that is not our window's main frame on our
// page; and the menu the tray gets for each engine state, pushed by the engine's real control
// server (engine/control/server.ts; its backend is the foreground one with the test's status, and
// a setPolicy that records what reached it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPC_CALLS } from '../../../src-main/shared/ipc.js';
import type { EngineStatusDoc } from '../../../src-main/shared/status.js';
import { ControlServer } from '../../../src-main/engine/control/server.js';
import { foregroundBackend } from '../../../src-main/engine/control/foreground.js';
import { LogRing } from '../../../src-main/engine/control/log-ring.js';

register('../../helpers/electron/loader.js', import.meta.url);
const fake = await import('../../helpers/electron/fake-electron.js');
const mainUrl = new URL('../../../src-main/app/main.js', import.meta.url).href;
let loads = 0;

/** A fresh copy of main.js (its module state is per load). */
async function loadMain(uid: number): Promise<void> {
  const realGetuid = process.getuid;
  process.getuid = () => uid;
  try {
    await import(`${mainUrl}?load=${++loads}`);
  } finally {
    process.getuid = realGetuid;
  }
}

async function until(probe: () => boolean, what: string): Promise<void> {
  // A safety net so a broken main fails the test instead of hanging it; not a timing check.
  for (let i = 0; i < 400 && !probe(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(probe(), `never: ${what}; the tray's menu: ${labels().join(' | ')}`);
}

type MenuItem = { label?: string; type?: string; enabled?: boolean; checked?: boolean; click?: () => void };
const lastMenu = () => (fake.recorded.trays[0]?.menus.at(-1) ?? []) as MenuItem[];
const labels = () =>
  lastMenu().map((m) => (m.type === 'separator' ? '-' : `${m.enabled === false ? '~' : ''}${m.label}`));

test('refuses to run as root', async () => {
  fake.reset();
  await loadMain(0);
  assert.equal(fake.recorded.exitCode, 1);
  assert.equal(fake.recorded.lockRequested, 0);
  assert.equal(fake.recorded.handlers.size, 0);
});

test('a second instance quits and leaves the first its tray', async () => {
  fake.reset();
  fake.control.lockAvailable = false;
  await loadMain(1000);
  assert.equal(fake.recorded.lockRequested, 1);
  assert.equal(fake.recorded.quit, 1);
  fake.emitReady();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fake.recorded.trays.length, 0);
});

test('windows, refusals, IPC sender checks and the tray menu per engine state', async (t) => {
  fake.reset();
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-main-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'engine.sock');
  let state: Record<string, unknown> = {
    state: 'active',
    mode: 'daemon',
    pid: 7,
    startedAt: '2026-11-26T07:00:00.000Z',
    reason: { code: 'x', text: 'translating' },
    network: { id: 'nm:1', name: 'Conference Wi-Fi', idSource: 'networkmanager' },
    policy: { value: 'auto', source: 'default', override: null, adminForced: false },
    transitions: [],
  };
  // The engine pushes a state when told to (the foreground backend's prefix change); the
  // per-network policy, which the foreground engine refuses, is recorded instead.
  const push = new Set<(p: string | null) => void>();
  const policies: Array<{ network: string; policy: string }> = [];
  const server = await ControlServer.listen({
    path: socket,
    backend: {
      ...foregroundBackend(
        {
          status: () => state as EngineStatusDoc,
          onPrefixChange: (cb) => {
            push.add(cb);
            return () => push.delete(cb);
          },
        },
        new LogRing(() => {}),
      ),
      setPolicy: async (network, policy) => void policies.push({ network, policy }),
    },
    log: () => {},
  });
  t.after(() => server.stop());
  process.env.CLATBAR_CONTROL_SOCKET = socket;
  process.env.XDG_CONFIG_HOME = join(dir, 'config');
  t.after(() => {
    delete process.env.CLATBAR_CONTROL_SOCKET;
    delete process.env.XDG_CONFIG_HOME;
  });

  await loadMain(1000);
  // The engine client stops with the app.
  t.after(() => fake.app.emit('before-quit'));
  assert.equal(fake.recorded.lockRequested, 1);
  assert.equal(fake.recorded.quit, 0);
  fake.emitReady();
  await until(() => fake.recorded.trays.length === 1, 'a tray');

  // Permissions: every request and check refused; the CSP goes on every response.
  let granted: boolean | null = null;
  fake.recorded.permissionRequestHandler?.(
    {} as never,
    'media' as never,
    ((ok: boolean) => (granted = ok)) as never,
  );
  assert.equal(granted, false);
  assert.equal(fake.recorded.permissionCheckHandler?.({} as never, 'notifications' as never), false);
  let headers: Record<string, string[]> = {};
  fake.recorded.headersHandler?.(
    { responseHeaders: { 'X-Other': ['1'] } } as never,
    ((r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders)) as never,
  );
  assert.equal(headers['X-Other'][0], '1');
  assert.match(headers['Content-Security-Policy'][0], /default-src 'none'; script-src 'self';/);
  assert.doesNotMatch(headers['Content-Security-Policy'][0], /unsafe-eval|script-src[^;]*unsafe-inline/);

  // One handler per call, nothing more.
  assert.deepEqual(
    [...fake.recorded.handlers.keys()].sort(),
    Object.keys(IPC_CALLS)
      .map((c) => `clatbar:${c}`)
      .sort(),
  );

  // The tray follows the engine: active on a network.
  await until(() => labels()[0] === '~IPv4 through clatbar is on for Conference Wi-Fi', 'the active menu');
  assert.deepEqual(labels(), [
    '~IPv4 through clatbar is on for Conference Wi-Fi',
    '-',
    'IPv4 through clatbar',
    '~On Conference Wi-Fi:',
    'Automatic',
    'Always',
    'Never',
    '-',
    'Diagnostics…',
    'Settings…',
    '-',
    'Quit',
  ]);
  const tray = fake.recorded.trays[0];
  assert.match((tray.image as { path: string }).path, /assets\/icons\/tray\/active-light-22\.png$/);
  assert.equal(tray.tooltip, 'clatbar: IPv4 via NAT64 on ?');

  // A click on a radio sets the policy of the current network through the engine.
  lastMenu()
    .find((m) => m.label === 'Never')
    ?.click?.();
  await until(() => policies.length > 0, 'setPolicy');
  assert.deepEqual(policies, [{ network: 'current', policy: 'never' }]);

  // Other states, pushed by the engine.
  for (const [next, line, icon] of [
    ['standby', '~Standing by on Conference Wi-Fi: native IPv4', 'standby'],
    ['off', '~IPv4 through clatbar is off on Conference Wi-Fi', 'off'],
    ['attention', '~clatbar needs attention: native IPv4', 'attention'],
  ] as const) {
    state = { ...state, state: next, reason: { code: 'x', text: 'native IPv4' } };
    for (const cb of push) cb(null);
    await until(() => labels()[0] === line, `the ${next} menu`);
    assert.match((tray.image as { path: string }).path, new RegExp(`/${icon}-light-22\\.png$`));
  }
  // The engine goes away: attention, and no toggle.
  await server.stop();
  await until(() => labels()[0] === '~clatbar: the engine is not running', 'the disconnected menu');
  assert.ok(!labels().some((l) => l.includes('IPv4 through clatbar') && l !== labels()[0]));
  assert.match((tray.image as { path: string }).path, /attention-light-22\.png$/);

  // Diagnostics… opens a locked-down window on our page.
  lastMenu()
    .find((m) => m.label === 'Diagnostics…')
    ?.click?.();
  await until(() => fake.recorded.windows.length === 1, 'a window');
  const win = fake.recorded.windows[0];
  const prefs = win.options.webPreferences as Record<string, unknown>;
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.webviewTag, false);
  assert.match(String(prefs.preload), /build\/src-main\/app\/preload\.cjs$/);
  assert.match(win.loaded?.path ?? '', /build\/renderer\/index\.html$/);
  assert.equal(win.loaded?.options?.hash, 'diagnostics');

  // Navigation, redirects, webviews and new windows: refused.
  const wc = win.webContents;
  for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
    let prevented = false;
    wc.emit(event, { preventDefault: () => (prevented = true) }, 'https://example.com/');
    assert.ok(prevented, event);
  }
  assert.deepEqual(wc.windowOpenHandler?.({ url: 'https://example.com/' } as never), { action: 'deny' });

  // IPC: our window's main frame on our page is served; anything else is refused before the
  // arguments are looked at.
  const getState = fake.recorded.handlers.get('clatbar:getState')!;
  const ok = (await getState({ sender: wc, senderFrame: wc.mainFrame } as never)) as { user: string };
  assert.equal(typeof ok.user, 'string');
  const strangers: Array<[string, unknown]> = [
    ['a subframe', { sender: wc, senderFrame: new fake.FakeFrame(wc.mainFrame.url) }],
    ['another page', { sender: wc, senderFrame: Object.assign(wc.mainFrame, {}) }],
    ['another web contents', { sender: new fake.FakeWebContents(), senderFrame: wc.mainFrame }],
    ['no frame', { sender: wc, senderFrame: null }],
  ];
  const ourUrl = wc.mainFrame.url;
  // Every handler, not one as a sample: a call added to IPC_CALLS gets the same check or fails here.
  for (const [what, event] of strangers)
    for (const [channel, handler] of fake.recorded.handlers) {
      if (what === 'another page') wc.mainFrame.url = 'https://example.com/';
      assert.throws(
        () => handler(event as never, 'current' as never, 'always' as never),
        new RegExp(`refused "${channel.slice('clatbar:'.length)}": not from a clatbar window`),
        `${channel} from ${what}`,
      );
      wc.mainFrame.url = ourUrl;
    }
  // A second Diagnostics… shows the same window.
  lastMenu()
    .find((m) => m.label === 'Diagnostics…')
    ?.click?.();
  assert.equal(fake.recorded.windows.length, 1);
  assert.equal(win.shown, 1);
  fake.app.emit('before-quit');
});
