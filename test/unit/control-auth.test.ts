// Authorization by peer credentials, with real users the test creates: an unprivileged user may
// read the status but is refused changes and the network history (with how to get access, and
// an audit line naming them); a member of the group may change things (logged with who asked).
// The backend records the calls it gets (the daemon's Supervisor is another issue's; the
// server and its authorization are the real ones).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { requires } from '../helpers/env.js';
import { serveStatus } from '../helpers/control.js';
import { RPC_ERROR, type Caller } from '../../src-main/shared/control.js';

const clientModule = pathToFileURL(
  fileURLToPath(new URL('../../src-main/engine/control/client.js', import.meta.url)),
).href;
const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** Two users and a group with unique names; removed afterwards. */
function makeUsers(t: TestContext): { outsider: string; member: string; group: string } {
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const names = { outsider: `cbo${tag}`, member: `cbm${tag}`, group: `cbg${tag}` };
  sh('groupadd', [names.group]);
  t.after(() => spawnSync('groupdel', [names.group]));
  sh('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', names.outsider]);
  t.after(() => spawnSync('userdel', [names.outsider]));
  sh('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', '-G', names.group, names.member]);
  t.after(() => spawnSync('userdel', [names.member]));
  return names;
}

/**
 * Runs argv as `user` with their groups (as after a login). Asynchronous: the server under test
 * runs in this process and must keep serving meanwhile.
 */
function asUser(
  user: string,
  argv: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', [`--reuid=${user}`, '--regid=nogroup', '--init-groups', ...argv]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

type CallOutcome = { result?: unknown; error?: { code: number; message: string } };
async function call(user: string, path: string, method: string, params?: unknown): Promise<CallOutcome> {
  const script = `import { callControl, CallError } from ${JSON.stringify(clientModule)};
    try { process.stdout.write(JSON.stringify({ result: await callControl(${JSON.stringify(path)}, ${JSON.stringify(method)}, ${JSON.stringify(params)}) ?? null })); }
    catch (e) { process.stdout.write(JSON.stringify({ error: { code: e.rpcCode, message: e.message, kind: e.kind } })); }`;
  const r = await asUser(user, [process.execPath, '--input-type=module', '-e', script]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CallOutcome;
}

test('an outsider reads the status but is refused changes and history; a group member may change', async (t) => {
  if (!requires(t, { root: true, binaries: ['useradd', 'groupadd', 'setpriv'] })) return;
  const { outsider, member, group } = makeUsers(t);
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-auth-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'engine.sock');
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
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-auth-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'engine.sock');
  const { ControlServer } = await import('../../src-main/engine/control/server.js');
  const { statusBackend } = await import('../helpers/control.js');
  const lines: string[] = [];
  const server = await ControlServer.listen({
    path,
    backend: statusBackend(() => ({ state: 'running' })),
    group,
    log: (l) => lines.push(l),
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
