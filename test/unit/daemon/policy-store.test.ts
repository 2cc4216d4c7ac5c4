// The policy store on real files in a temporary directory: atomic, versioned user file; the
// admin file wins and says so; corrupt or untrusted files give a warning and the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  chownSync,
  chmodSync,
  statSync,
  mkdirSync,
  symlinkSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore, AdminForced } from '../../../src-main/engine/policy/store.js';
import { LogRing } from '../../../src-main/engine/control/log-ring.js';
import { requires } from '../../helpers/env.js';
import { say } from '../../../src-main/shared/say.js';

/** uid/gid of an unprivileged user that exists on every Debian system: the other user here. */
const NOBODY = 65534;

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const adminPath = join(dir, 'admin.json');
  const make = () =>
    new PolicyStore({ dataDir: join(dir, 'data'), adminPath, warn: (w) => warnings.push(w.text) });
  return { dir, adminPath, warnings, make };
}

test('user choices persist, versioned, in a file only root reads', async (t) => {
  const { dir, make, warnings } = setup(t);
  const s = make();
  s.load();
  assert.deepEqual(s.resolve('net-a'), {
    value: 'auto',
    source: 'default',
    adminForced: false,
    inbound: 'deny',
  });
  assert.deepEqual(s.defaultPolicy(), { value: 'auto', source: 'default' });
  await s.seen('net-a', 'up0 2001:db8:1::/64');
  await s.setPolicy('net-a', 'never');
  await s.setDefaultPolicy('always');
  await s.setInbound('net-a', 'allow');
  const again = make();
  again.load();
  assert.deepEqual(again.resolve('net-a'), {
    value: 'never',
    source: 'user',
    adminForced: false,
    inbound: 'allow',
  });
  assert.equal(again.resolve('net-b').value, 'always');
  assert.equal(again.resolve('net-b').source, 'user-default');
  // What the settings window shows as the default (status.defaultPolicy), read back from the file.
  assert.deepEqual(again.defaultPolicy(), { value: 'always', source: 'user-default' });
  const file = join(dir, 'data', 'policy.json');
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version, 1);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await again.setPolicy('net-a', 'default');
  assert.equal(again.resolve('net-a').source, 'user-default');
  assert.equal(await again.forget('net-a'), true);
  assert.equal(await again.forget('net-a'), false);
  assert.deepEqual(warnings, []);
});

test('the admin file wins and says so; a corrupt one is ignored with a warning', async (t) => {
  const { adminPath, make, warnings } = setup(t);
  writeFileSync(
    adminPath,
    JSON.stringify({
      version: 1,
      defaultPolicy: 'never',
      networks: { 'net-a': { policy: 'always', prefix: '2001:db8:64::/96' } },
    }),
  );
  const s = make();
  s.load();
  await s.setPolicy('net-b', 'auto');
  assert.deepEqual(s.resolve('net-a'), {
    value: 'always',
    source: 'admin',
    adminForced: true,
    inbound: 'deny',
    pinnedPrefix: '2001:db8:64::/96',
  });
  // The admin default is under the user's per-network choice, over the user's default.
  assert.equal(s.resolve('net-b').source, 'user');
  assert.equal(s.resolve('net-c').source, 'admin-default');
  // The default is locked, and the window can say in which file.
  assert.deepEqual(s.defaultPolicy(), { value: 'never', source: 'admin-default', adminFile: adminPath });
  await assert.rejects(s.setPolicy('net-a', 'never'), AdminForced);
  await assert.rejects(s.setDefaultPolicy('auto'), /administrator sets the default policy/);
  writeFileSync(adminPath, '{"version": 1, "networks": {"net-a": {"policy": "sometimes"}}}');
  s.load();
  assert.equal(s.resolve('net-a').source, 'default');
  assert.match(warnings.join('\n'), /ignoring the admin policy .* not a valid policy file/);
  // Written by someone other than root, or writable by others: not trusted.
  writeFileSync(adminPath, JSON.stringify({ version: 1, defaultPolicy: 'never' }));
  chownSync(adminPath, 65534, 65534);
  s.load();
  assert.equal(s.resolve('net-c').source, 'default');
  chownSync(adminPath, 0, 0);
  chmodSync(adminPath, 0o666);
  s.load();
  assert.equal(s.resolve('net-c').source, 'default');
  assert.equal(warnings.filter((w) => /must be owned by root/.test(w)).length, 2);
});

test('a corrupt user file is moved aside with a warning and the defaults apply', async (t) => {
  const { dir, make, warnings } = setup(t);
  const s = make();
  s.load();
  await s.setPolicy('net-a', 'never');
  for (const bad of [
    '{ not json',
    JSON.stringify({ version: 2, networks: {} }),
    JSON.stringify({ version: 1, networks: { 'net-a': { name: 'x', policy: 'off' } } }),
  ]) {
    writeFileSync(join(dir, 'data', 'policy.json'), bad);
    const again = make();
    again.load();
    assert.equal(again.resolve('net-a').source, 'default');
  }
  assert.equal(warnings.length, 3);
  assert.match(warnings[0], /is not a valid policy file .* moved aside to .*policy\.json\.corrupt-/);
  assert.equal(
    readdirSync(join(dir, 'data')).filter((f) => f.startsWith('policy.json.corrupt-')).length >= 1,
    true,
  );
});

test('a data directory another user can change is neither read nor written: their choices do not count, their symlinks are not followed', async (t) => {
  if (!requires(t, { root: true })) return;
  const { dir, make, warnings } = setup(t);
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, NOBODY, NOBODY);
  // What the owner of the directory would like root to believe...
  const planted = JSON.stringify({
    version: 1,
    defaultPolicy: 'always',
    networks: { 'net-a': { name: 'a', policy: 'always', inbound: 'allow' } },
  });
  writeFileSync(join(data, 'policy.json'), planted);
  chownSync(join(data, 'policy.json'), NOBODY, NOBODY);
  // ...and where they would like root to write: a file of root's, through a symlink in their
  // directory (write-file-atomic's temporary name follows from the engine's pid).
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'root only\n');
  symlinkSync(victim, join(data, 'policy.json.new'));
  const s = make();
  s.load();
  // Nothing of the planted file counts: the defaults apply.
  const { source, inbound } = s.resolve('net-a');
  assert.deepEqual({ source, inbound }, { source: 'default', inbound: 'deny' });
  assert.match(warnings.join('\n'), /not using the policy file .* belongs to uid 65534, not root/);
  await assert.rejects(s.setPolicy('net-b', 'never'), /not saved .* only root can write/);
  await assert.rejects(s.seen('net-b', 'b'), /not saved/);
  assert.equal(readFileSync(victim, 'utf8'), 'root only\n');
  assert.equal(readFileSync(join(data, 'policy.json'), 'utf8'), planted, 'left as it was');
  assert.deepEqual(readdirSync(data).sort(), ['policy.json', 'policy.json.new']);
  // A directory of root's that others may write (no sticky bit) is no better.
  chownSync(data, 0, 0);
  chmodSync(data, 0o777);
  s.load();
  assert.equal(s.resolve('net-a').inbound, 'deny');
  assert.match(warnings.at(-1) ?? '', /writable by other users|writable by every user/);
});

test("a user file that is not root's, in root's directory, is moved aside unread", async (t) => {
  if (!requires(t, { root: true })) return;
  const { dir, make, warnings } = setup(t);
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  writeFileSync(
    join(data, 'policy.json'),
    JSON.stringify({ version: 1, networks: { 'net-a': { name: 'a', inbound: 'allow' } } }),
  );
  chownSync(join(data, 'policy.json'), NOBODY, NOBODY);
  const s = make();
  s.load();
  assert.equal(s.resolve('net-a').inbound, 'deny');
  assert.match(warnings.join('\n'), /cannot be trusted .* belongs to uid 65534, not root.* moved aside/);
  assert.equal(existsSync(join(data, 'policy.json')), false);
  // Root's own file from now on.
  await s.setInbound('net-a', 'deny');
  assert.equal(statSync(join(data, 'policy.json')).uid, 0);
});

test("the admin file counts only in root's directories; a root-owned symlink to root's file is followed", async (t) => {
  if (!requires(t, { root: true })) return;
  const { dir, warnings } = setup(t);
  const userDir = join(dir, 'etc-of-nobody');
  mkdirSync(userDir);
  const adminPath = join(userDir, 'policy.json');
  writeFileSync(adminPath, JSON.stringify({ version: 1, defaultPolicy: 'never' }));
  // root's file, but in a directory its owner can swap it out of.
  chownSync(userDir, NOBODY, NOBODY);
  const s = new PolicyStore({ dataDir: join(dir, 'data'), adminPath, warn: (w) => warnings.push(w.text) });
  s.load();
  assert.equal(s.resolve('net-c').source, 'default');
  assert.match(warnings.join('\n'), /ignoring the admin policy .*etc-of-nobody.* belongs to uid 65534/);
  // As configuration managers lay /etc out: root's symlink in root's directory to root's file.
  chownSync(userDir, 0, 0);
  const linked = join(dir, 'linked.json');
  symlinkSync(adminPath, linked);
  const l = new PolicyStore({
    dataDir: join(dir, 'data'),
    adminPath: linked,
    warn: (w) => warnings.push(w.text),
  });
  l.load();
  assert.equal(l.resolve('net-c').source, 'admin-default');
});

test('network ids such as __proto__ and constructor are names, never a way into Object.prototype', async (t) => {
  const { make } = setup(t);
  const s = make();
  s.load();
  await s.seen('net-a', 'a');
  await s.setInbound('__proto__', 'allow');
  await s.setPolicy('constructor', 'always');
  await s.seen('toString', 'x');
  // Nothing leaked onto every object of the engine: another network's inbound is still deny.
  assert.equal(({} as { inbound?: unknown }).inbound, undefined);
  assert.equal(({} as { policy?: unknown }).policy, undefined);
  assert.equal(s.resolve('net-a').inbound, 'deny');
  // They are networks of their own, listed, kept and forgotten like any other.
  assert.equal(s.resolve('__proto__').inbound, 'allow');
  assert.equal(s.resolve('constructor').value, 'always');
  assert.equal(s.has('hasOwnProperty'), false);
  assert.equal(await s.forget('valueOf'), false);
  assert.deepEqual(
    s
      .list(null)
      .map((n) => n.id)
      .sort(),
    ['__proto__', 'constructor', 'net-a', 'toString'],
  );
  const again = make();
  again.load();
  assert.equal(again.resolve('constructor').value, 'always');
  assert.equal(again.resolve('net-a').inbound, 'deny');
});

test('the log ring is bounded and numbered', () => {
  const out: string[] = [];
  const ring = new LogRing((l) => out.push(l), 5);
  const seen: number[] = [];
  const off = ring.onLine((l) => seen.push(l.seq));
  for (let i = 1; i <= 8; i++) ring.log(say('run.signal', { signal: `SIG${i}` }));
  ring.warn(say('policy.save-failed', { error: 'disk full' }));
  off();
  ring.log(say('daemon.reload'));
  assert.deepEqual(
    ring.since().map((l) => l.seq),
    [6, 7, 8, 9, 10],
  );
  assert.deepEqual(
    ring.since(8, 1).map((l) => l.text),
    ['SIGHUP: reading the policy files again'],
  );
  assert.deepEqual(
    ring.since(0).find((l) => l.seq === 9),
    {
      seq: 9,
      time: ring.since(0).find((l) => l.seq === 9)?.time,
      level: 'warn',
      text: 'could not save the network history: disk full',
      code: 'policy.save-failed',
      params: { error: 'disk full' },
    },
  );
  assert.equal(seen.length, 9);
  assert.equal(out[8], 'warn: could not save the network history: disk full');
});
