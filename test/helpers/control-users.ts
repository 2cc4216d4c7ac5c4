// Real local users for the control API's authorization tests: an outsider and a member of a
// control group, made with useradd/groupadd under unique names and removed afterwards, and a
// way to call the engine's control socket as one of them (setpriv: their uid, and either the
// groups a login would give them or exactly the groups a test names).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const clientModule = pathToFileURL(
  fileURLToPath(new URL('../../src-main/engine/control/client.js', import.meta.url)),
).href;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

export interface TestUsers {
  outsider: string;
  member: string;
  group: string;
  gid: number;
  uid(user: string): number;
}

/** Two users and a group with unique names (pid + random); removed when the test ends. */
export function makeUsers(t: TestContext): TestUsers {
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const names = { outsider: `cbo${tag}`, member: `cbm${tag}`, group: `cbg${tag}` };
  sh('groupadd', [names.group]);
  t.after(() => spawnSync('groupdel', [names.group]));
  sh('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', names.outsider]);
  t.after(() => spawnSync('userdel', [names.outsider]));
  sh('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', '-G', names.group, names.member]);
  t.after(() => spawnSync('userdel', [names.member]));
  const id = (args: string[]) => Number(spawnSync('id', args, { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('getent', ['group', names.group], { encoding: 'utf8' }).stdout.split(':')[2]);
  return { ...names, gid, uid: (u) => id(['-u', u]) };
}

/**
 * Which groups the process gets: 'login' = the user's groups from the group database (as after
 * logging in), or exactly these gids (a session from before `usermod -aG`: [], or a group that
 * NSS/LDAP/userdb gave the session but /etc/group does not list).
 */
export type Groups = 'login' | number[];

/**
 * Runs argv as `user`. Asynchronous: a server under test in this process must keep serving.
 */
export function asUser(
  user: string,
  argv: string[],
  groups: Groups = 'login',
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const g =
    groups === 'login'
      ? ['--init-groups']
      : groups.length
        ? [`--groups=${groups.join(',')}`]
        : ['--clear-groups'];
  return new Promise((resolve) => {
    const child = spawn('setpriv', [`--reuid=${user}`, '--regid=nogroup', ...g, ...argv]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export type CallOutcome = { result?: unknown; error?: { code: number; message: string } };

/** Calls, one after another on fresh connections, as `user`; one outcome per call. */
export async function callsAs(
  user: string,
  path: string,
  calls: Array<[method: string, params?: unknown]>,
  groups: Groups = 'login',
): Promise<CallOutcome[]> {
  const script = `import { callControl } from ${JSON.stringify(clientModule)};
    const out = [];
    for (const [m, p] of ${JSON.stringify(calls.map(([m, p]) => (p === undefined ? [m] : [m, p])))}) {
      try { out.push({ result: (await callControl(${JSON.stringify(path)}, m, p, { timeoutMs: 30000 })) ?? null }); }
      catch (e) { out.push({ error: { code: e.rpcCode, message: e.message, kind: e.kind } }); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = await asUser(user, [process.execPath, '--input-type=module', '-e', script], groups);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CallOutcome[];
}

/** One call as `user`. */
export async function callAs(
  user: string,
  path: string,
  method: string,
  params?: unknown,
  groups: Groups = 'login',
): Promise<CallOutcome> {
  return (await callsAs(user, path, [[method, params]], groups))[0];
}
