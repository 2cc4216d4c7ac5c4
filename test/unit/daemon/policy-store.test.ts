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
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore, AdminForced } from '../../../src-main/engine/policy/store.js';
import { LogRing } from '../../../src-main/engine/control/log-ring.js';

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const adminPath = join(dir, 'admin.json');
  const make = () =>
    new PolicyStore({ dataDir: join(dir, 'data'), adminPath, warn: (w) => warnings.push(w) });
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

test('the log ring is bounded and numbered', () => {
  const out: string[] = [];
  const ring = new LogRing((l) => out.push(l), 5);
  const seen: number[] = [];
  const off = ring.onLine((l) => seen.push(l.seq));
  for (let i = 1; i <= 8; i++) ring.log(`line ${i}`);
  ring.warn('careful', { code: 'x.y' });
  off();
  ring.log('after');
  assert.deepEqual(
    ring.since().map((l) => l.seq),
    [6, 7, 8, 9, 10],
  );
  assert.deepEqual(
    ring.since(8, 1).map((l) => l.text),
    ['after'],
  );
  assert.equal(ring.since(0).find((l) => l.seq === 9)?.code, 'x.y');
  assert.equal(seen.length, 9);
  assert.equal(out[8], 'warn: careful');
});
