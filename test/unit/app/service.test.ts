// The app service (app/service.ts): every IPC call's arguments checked against its schema before
// anything reaches the engine; calls map to the control API; access learned from the engine's
// answers; notifications on transitions; the app's settings and the autostart override. The engine
// is test/helpers/control-peer.ts, a recording stand-in (a refused caller cannot be had from a test
// running as root), and every request it records is checked against the real server's schema for
// its method (shared/control.ts METHODS), so what passes here is what the engine accepts; the
// platform
// (clipboard, dialogs, windows) is a recording AppHost, since Electron cannot run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../../src-main/app/engine-client.js';
import { AppService, BadCallError, type AppHost } from '../../../src-main/app/service.js';
import { SettingsStore } from '../../../src-main/app/settings.js';
import type { Notice } from '../../../src-main/app/notify.js';
import { createTranslator } from '../../../src-main/shared/i18n.js';
import { IPC_CALLS } from '../../../src-main/shared/ipc.js';
import { METHODS, PROTOCOL_VERSION, RPC_ERROR, type MethodName } from '../../../src-main/shared/control.js';
import { controlPeer, type Answer, type Request } from '../../helpers/control-peer.js';

function doc(state: string) {
  return {
    state,
    mode: 'daemon',
    pid: 1,
    startedAt: '2026-11-26T07:00:00.000Z',
    reason: { code: `${state}.x`, text: `${state} because` },
    network: { id: 'nm:1', name: 'Home', idSource: 'networkmanager' },
    policy: { value: 'auto', source: 'default', override: null, adminForced: false },
    transitions: [],
  };
}

async function setup(t: { after(fn: () => unknown): void }, admin: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-service-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'engine.sock');
  const peer = await controlPeer(path, (req: Request): Answer => {
    // The control API's hello says whether the caller may change things; an older stand-in
    // (hello without caller) makes the service ask listNetworks instead: both are exercised.
    if (req.method === 'hello')
      return {
        result: admin
          ? { protocol: PROTOCOL_VERSION, engine: '0.2.0' }
          : {
              protocol: PROTOCOL_VERSION,
              engine: '0.2.0',
              caller: { uid: 1000, admin: false, group: 'netadmins' },
            },
      };
    if (req.method === 'status') return { result: doc('active') };
    if (req.method === 'subscribe') return { result: {} };
    if (!admin)
      return { error: { code: RPC_ERROR.notAllowed, message: 'not allowed: join the group clatbar' } };
    if (req.method === 'diagnostics') return { result: { versions: { clatbar: '0.2.0' } } };
    if (req.method === 'listNetworks')
      return { result: { networks: [{ id: 'nm:1', name: 'Home', current: true }] } };
    if (req.method === 'selfTest')
      return { error: { code: RPC_ERROR.methodNotFound, message: 'method not found' } };
    if (req.method === 'logs')
      return { result: { lines: [{ seq: 1, time: 'x', level: 'info', text: 'hi' }] } };
    return { result: null };
  });
  t.after(() => peer.stop());
  const engine = new EngineClient({ socketPath: path, retryMinMs: 20, retryMaxMs: 100, timeoutMs: 1000 });
  t.after(() => engine.close());
  const copied: string[] = [];
  const notices: Notice[] = [];
  const opened: string[] = [];
  const host: AppHost & { copied: string[]; notices: Notice[]; opened: string[] } = {
    copied,
    notices,
    opened,
    copyText: (text) => void copied.push(text),
    saveText: async () => null,
    openWindow: (which) => void opened.push(which),
    startEngine: async () => {},
    notify: (n) => void notices.push(n),
    canStartEngine: false,
  };
  const settings = new SettingsStore({
    configHome: join(dir, 'config'),
    systemAutostart: join(dir, 'etc-xdg-autostart-clatbar.desktop'),
    exec: '/opt/clatbar/clatbar-app',
  });
  const service = new AppService({ engine, settings, tr: createTranslator('en'), host, user: 'alice' });
  engine.start();
  await until(() => engine.connected && service.state().access !== 'unknown');
  return { dir, peer, engine, host, service };
}

async function until(probe: () => boolean): Promise<void> {
  // A safety net so a broken service fails the test instead of hanging it; not a timing check.
  for (let i = 0; i < 400 && !probe(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(probe(), 'the condition never held');
}

test('calls with bad arguments are refused before anything reaches the engine', async (t) => {
  const { peer, service } = await setup(t, true);
  const before = peer.requests.length;
  const bad: Array<[string, unknown]> = [
    ['setPolicy', ['current', 'sometimes']],
    ['setPolicy', ['current']],
    ['setPolicy', ['x'.repeat(200), 'auto']],
    ['enable', ['now']],
    ['setDns64Mode', [{ mode: 'on' }]],
    ['setInbound', ['current', 'open']],
    ['setInbound', ['current', null]],
    ['logs', [-1]],
    ['setAppSettings', [{ notifications: 'yes' }]],
    ['setAppSettings', [{ notifications: true, evil: 1 }]],
    ['invoke', ['enable']],
    ['__proto__', []],
    ['getState', 'not a list'],
  ];
  for (const [call, args] of bad) await assert.rejects(service.handle(call, args), BadCallError, call);
  assert.equal(peer.requests.length, before);
  // Every call has a schema, and each of them is served.
  for (const call of Object.keys(IPC_CALLS)) assert.ok(call in IPC_CALLS);
});

test('calls reach the engine with the control API’s params', async (t) => {
  const { peer, service, host } = await setup(t, true);
  assert.equal(service.state().access, 'allowed');
  await service.handle('setPolicy', ['current', 'never']);
  await service.handle('setDefaultPolicy', ['always']);
  await service.handle('setDns64Mode', ['auto']);
  await service.handle('setInbound', ['nm:1', 'allow']);
  await service.handle('setInbound', ['current', 'default']);
  await service.handle('forgetNetwork', ['nm:1']);
  assert.deepEqual(await service.handle('logs', [5, 100]), [
    { seq: 1, time: 'x', level: 'info', text: 'hi' },
  ]);
  await service.handle('enable', []);
  assert.deepEqual(await service.handle('listNetworks', []), [{ id: 'nm:1', name: 'Home', current: true }]);
  const sent = peer.requests.slice(-9, -1).map((r) => [r.method, r.params]);
  assert.deepEqual(sent, [
    // No on/off click in force (the status says override null): nothing to end, one call.
    ['setPolicy', { network: 'current', policy: 'never' }],
    ['setDefaultPolicy', { policy: 'always' }],
    ['setDns64Mode', { mode: 'auto' }],
    // "default" drops the network's own choice: null in the control API.
    ['setNetworkOption', { network: 'nm:1', option: 'inbound', value: 'allow' }],
    ['setNetworkOption', { network: 'current', option: 'inbound', value: null }],
    ['forgetNetwork', { network: 'nm:1' }],
    ['logs', { since: 5, limit: 100 }],
    ['enable', undefined],
  ]);
  // A click on the switch is in force (the engine's state push says so): the policy for this
  // network is the latest word, the click ends; by its id too; another network's policy does not.
  peer.push('state', {
    status: { ...doc('active'), policy: { ...doc('active').policy, override: 'enable' } },
  });
  await until(() => service.state().status.network?.override === 'enabled');
  await service.handle('setPolicy', ['current', 'never']);
  await service.handle('setPolicy', ['nm:1', 'always']);
  await service.handle('setPolicy', ['nm:2', 'never']);
  assert.deepEqual(
    peer.requests.slice(-5).map((r) => r.method),
    ['setPolicy', 'clearOverride', 'setPolicy', 'clearOverride', 'setPolicy'],
  );
  await service.handle('copyReport', []);
  assert.deepEqual(JSON.parse(host.copied[0]), { versions: { clatbar: '0.2.0' } });
  // A method the engine does not have: said in words, not "method not found".
  await assert.rejects(service.handle('selfTest', []), /this engine does not do “selfTest”/);
  await service.handle('openSettings', []);
  assert.deepEqual(host.opened, ['settings']);
  // Every request as the real control server's schema for its method accepts it.
  for (const r of peer.requests) {
    assert.ok(Object.hasOwn(METHODS, r.method), r.method);
    const ok = METHODS[r.method as MethodName].params.safeParse(r.params);
    assert.ok(ok.success, `${r.method} ${JSON.stringify(r.params)}: ${ok.error?.message}`);
  }
});

test('a user the engine refuses is told, and the state says so', async (t) => {
  const { service } = await setup(t, false);
  const s = service.state();
  assert.equal(s.access, 'denied');
  // The group's name as the engine calls it.
  assert.equal(s.group, 'netadmins');
  await assert.rejects(service.handle('enable', []), /join the group clatbar/);
});

test('transitions notify through the host; the setting switches them off', async (t) => {
  const { peer, service, host } = await setup(t, true);
  peer.push('state', { status: doc('standby') });
  await until(() => host.notices.length === 1);
  assert.equal(host.notices[0].kind, 'standby');
  await service.handle('setAppSettings', [{ notifications: false }]);
  peer.push('state', { status: doc('attention') });
  await until(() => service.state().status.state === 'attention');
  assert.equal(host.notices.length, 1);
});

test('app settings are stored; start at login writes and removes the XDG autostart override', async (t) => {
  const { dir, service } = await setup(t, true);
  const autostart = join(dir, 'config/autostart/clatbar.desktop');
  // Not installed (no system entry): off at first; on writes a full entry.
  assert.deepEqual(service.state().settings, { notifications: true, startAtLogin: false });
  await service.handle('setAppSettings', [{ startAtLogin: true }]);
  assert.match(readFileSync(autostart, 'utf8'), /^Exec=\/opt\/clatbar\/clatbar-app$/m);
  await service.handle('setAppSettings', [{ notifications: false }]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config/clatbar/app.json'), 'utf8')), {
    version: 1,
    notifications: false,
  });
  // Installed: the package's entry applies; off is the user's Hidden=true override, on removes it.
  writeFileSync(join(dir, 'etc-xdg-autostart-clatbar.desktop'), '[Desktop Entry]\n');
  await service.handle('setAppSettings', [{ startAtLogin: false }]);
  assert.match(readFileSync(autostart, 'utf8'), /^Hidden=true$/m);
  assert.equal(service.state().settings.startAtLogin, false);
  await service.handle('setAppSettings', [{ startAtLogin: true }]);
  assert.equal(existsSync(autostart), false);
  assert.equal(service.state().settings.startAtLogin, true);
  // A broken settings file: defaults, and a problem to log.
  writeFileSync(join(dir, 'config/clatbar/app.json'), '{"version":1,');
  const broken = new SettingsStore({
    configHome: join(dir, 'config'),
    systemAutostart: '/nonexistent',
    exec: 'x',
  });
  assert.match(broken.problem ?? '', /not valid/);
  assert.equal(broken.get().notifications, true);
});
