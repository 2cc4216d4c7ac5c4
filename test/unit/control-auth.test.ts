// Authorization by peer credentials, with real users the test creates: an unprivileged user may
// read the status but is refused changes and the network history (with how to get access, and
// an audit line naming them); a member of the group may change things (logged with who asked).
// The backend records the calls it gets (the daemon's Supervisor is another issue's; the
// server and its authorization are the real ones).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { requires } from '../helpers/env.js';
import { serveStatus } from '../helpers/control.js';
import { asUser, callAs, makeUsers, type CallOutcome } from '../helpers/control-users.js';
import { RPC_ERROR, type Caller } from '../../src-main/shared/control.js';

const clientModule = pathToFileURL(
  fileURLToPath(new URL('../../src-main/engine/control/client.js', import.meta.url)),
).href;
const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

/** A socket path every user can reach (its directory 0755), removed afterwards. */
function socketPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-auth-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'engine.sock');
}

async function call(user: string, path: string, method: string, params?: unknown): Promise<CallOutcome> {
  return callAs(user, path, method, params);
}

test('an outsider reads the status but is refused changes and history; a group member may change', async (t) => {
  if (!requires(t, { root: true, binaries: ['useradd', 'groupadd', 'setpriv'] })) return;
  const { outsider, member, group } = makeUsers(t);
  const path = socketPath(t);
  const lines: string[] = [];
  const enabled: Caller[] = [];
  const server = await serveStatus(path, () => ({ state: 'running', counters: {} }), {
    group,
    lines,
    backend: {
      enable: async (by) => void enabled.push(by),
      listNetworks: () => [{ id: 'n1', name: 'Home Wi-Fi', current: true }],
    },
  });
  t.after(() => server.stop());

  // The outsider: status and hello yes, the rest no.
  assert.deepEqual((await call(outsider, path, 'status')).result, { state: 'running', counters: {} });
  const hello = (await call(outsider, path, 'hello')).result as { caller: { admin: boolean; group: string } };
  assert.deepEqual([hello.caller.admin, hello.caller.group], [false, group]);
  for (const [method, params] of [
    ['enable', undefined],
    ['listNetworks', undefined],
    ['logs', undefined],
    ['diagnostics', undefined],
    ['setPolicy', { network: 'current', policy: 'never' }],
    ['subscribe', { topics: ['logs'] }],
  ] as const) {
    const e = (await call(outsider, path, method, params)).error;
    assert.equal(e?.code, RPC_ERROR.notAllowed, method);
    assert.match(
      e?.message ?? '',
      new RegExp(`sudo usermod -aG ${group} ${outsider}\`, then log out and in again`),
      method,
    );
  }
  assert.deepEqual((await call(outsider, path, 'subscribe', { topics: ['state'] })).result, {
    topics: ['state'],
  });
  assert.equal(enabled.length, 0, 'nothing reached the backend');
  const uidOf = (u: string) => spawnSync('id', ['-u', u], { encoding: 'utf8' }).stdout.trim();
  assert.ok(
    lines.some((l) =>
      new RegExp(
        `refused "enable" to uid ${uidOf(outsider)} \\(${outsider}\\) pid \\d+: not root and not in the group ${group}`,
      ).test(l),
    ),
    lines.join('\n'),
  );

  // The member: allowed, and the change is logged with who asked.
  assert.deepEqual((await call(member, path, 'enable')).result, { ok: true });
  assert.equal(enabled.length, 1);
  assert.equal(enabled[0].uid, Number(uidOf(member)));
  assert.equal(enabled[0].admin, true);
  assert.ok(
    lines.some((l) => new RegExp(`enable asked by uid ${uidOf(member)} \\(${member}\\) pid \\d+`).test(l)),
    lines.join('\n'),
  );
  assert.deepEqual((await call(member, path, 'listNetworks')).result, {
    networks: [{ id: 'n1', name: 'Home Wi-Fi', current: true }],
  });

  // The CLI says what to do in each case, with exit status 1.
  const denied = await asUser(outsider, [process.execPath, clatbar, 'enable', '--control-socket', path]);
  assert.equal(denied.status, 1, denied.stderr);
  assert.match(
    denied.stderr,
    new RegExp(`access denied: "enable" is for root and members of the group ${group}`),
  );
  assert.match(denied.stderr, new RegExp(`sudo usermod -aG ${group} ${outsider}, then log out and in again`));
  const st = await asUser(outsider, [
    process.execPath,
    clatbar,
    'status',
    '--json',
    '--control-socket',
    path,
  ]);
  assert.equal(st.status, 0, st.stderr);
  const ok = await asUser(member, [process.execPath, clatbar, 'enable', '--control-socket', path]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^enabled/);
  // The foreground backend's own answer to a per-network method: what to do instead.
  const pol = await asUser(member, [
    process.execPath,
    clatbar,
    'policy',
    'set',
    'current',
    'never',
    '--control-socket',
    path,
  ]);
  assert.equal(pol.status, 1);
  assert.match(pol.stderr, /daemon mode.*sudo systemctl start clatbar-engine/);
});

test('connection caps: a non-root uid gets a bounded number, root always gets in', async (t) => {
  if (!requires(t, { root: true, binaries: ['useradd', 'groupadd', 'setpriv'] })) return;
  const { outsider, group } = makeUsers(t);
  const path = socketPath(t);
  const { ControlServer } = await import('../../src-main/engine/control/server.js');
  const { statusBackend } = await import('../helpers/control.js');
  const lines: string[] = [];
  const server = await ControlServer.listen({
    path,
    backend: statusBackend(() => ({ state: 'running' })),
    group,
    log: (l) => lines.push(l.text),
    limits: { perUid: 3, maxConnections: 10, reserved: 4 },
  });
  t.after(() => server.stop());
  // The outsider holds 3 connections open and tries a 4th: refused with "busy", in words.
  const script = `import { connect } from 'node:net';
    const path = ${JSON.stringify(path)};
    const held = [];
    for (let i = 0; i < 3; i++) { const s = connect(path); await new Promise((r) => s.once('connect', r)); held.push(s); }
    await new Promise((r) => setTimeout(r, 300));
    const { callControl } = await import(${JSON.stringify(clientModule)});
    try { await callControl(path, 'status'); console.log('admitted'); } catch (e) { console.log(JSON.stringify({ code: e.rpcCode, message: e.message })); }
    held.forEach((s) => s.destroy());`;
  const r = await asUser(outsider, [process.execPath, '--input-type=module', '-e', script]);
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { code: number; message: string };
  assert.equal(e.code, RPC_ERROR.busy);
  assert.match(e.message, /holds 3 connections already/);
  // Root is never capped per uid.
  const { connect } = await import('node:net');
  const mine = Array.from({ length: 8 }, () => connect(path));
  t.after(() => mine.forEach((s) => s.destroy()));
  const { callControl } = await import('../../src-main/engine/control/client.js');
  assert.deepEqual(await callControl(path, 'status'), { state: 'running' });
});

test('groups are the kernel record of the connect: a client gone before the engine looks still counts, and no more', async (t) => {
  if (!requires(t, { root: true, binaries: ['useradd', 'groupadd', 'setpriv', 'getent'] })) return;
  const { outsider, group, gid } = makeUsers(t);
  const path = socketPath(t);
  const enabled: Caller[] = [];
  const lines: string[] = [];
  const server = await serveStatus(path, () => ({ state: 'running' }), {
    group,
    lines,
    backend: { enable: async (by) => void enabled.push(by) },
  });
  t.after(() => server.stop());
  // Each client connects, sends `enable` and exits at once. spawnSync holds this process's event
  // loop, so the engine accepts and reads the credentials only after the client is gone: its
  // pid names no process any more (or, reused, another one), and /proc cannot tell its groups.
  const hitAndRun = (groups: string) => {
    const script = `const s = require('node:net').connect(${JSON.stringify(path)}, () => { s.write('{"jsonrpc":"2.0","id":1,"method":"enable"}\\n', () => process.exit(0)); });`;
    const r = spawnSync(
      'setpriv',
      [`--reuid=${outsider}`, '--regid=nogroup', groups, process.execPath, '-e', script],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.pid!;
  };
  const gone = hitAndRun(`--groups=${gid}`);
  const refused = hitAndRun('--clear-groups');
  for (let i = 0; i < 100 && lines.filter((l) => /enable/.test(l)).length < 2; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    enabled.map((c) => [c.pid, c.admin]),
    [[gone, true]],
    `the member by its groups at connect was let in, the other not\n${lines.join('\n')}`,
  );
  assert.ok(
    lines.some((l) => l.includes(`refused "enable"`) && l.includes(`pid ${refused}`)),
    lines.join('\n'),
  );
});

test('the control group is looked up through NSS (getent), and a renamed or new group is picked up', async (t) => {
  if (!requires(t, { root: true, binaries: ['groupadd', 'getent'] })) return;
  const { lookupGroup, GroupResolver, procGroups } = await import('../../src-main/engine/control/auth.js');
  const { group, gid, outsider } = makeUsers(t);
  assert.deepEqual(await lookupGroup(group), { name: group, gid });
  assert.deepEqual(await lookupGroup(`${group}x`), { name: `${group}x`, gid: null });
  await assert.rejects(lookupGroup('--help'), /not a group name/);
  // A group made after the engine started is seen once the cached answer is older than maxAge.
  const later = `${group}n`;
  const r = new GroupResolver(later, 50);
  assert.equal((await r.refresh()).gid, null);
  spawnSync('groupadd', [later]);
  t.after(() => spawnSync('groupdel', [later]));
  await new Promise((res) => setTimeout(res, 60));
  r.current();
  await r.refresh();
  assert.equal(
    r.current().gid,
    Number(spawnSync('getent', ['group', later], { encoding: 'utf8' }).stdout.split(':')[2]),
  );
  // /proc (kernels before 4.13) is believed only while the process still has the peer's uid.
  assert.ok(Array.isArray(procGroups(process.pid, 0)));
  const otherUid = Number(spawnSync('id', ['-u', outsider], { encoding: 'utf8' }).stdout);
  assert.equal(procGroups(process.pid, otherUid), null);
  assert.equal(procGroups(0, 0), null);
});
