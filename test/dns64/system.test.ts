// System integration in a network namespace: `clatbar dns64` learns the uplink's resolver
// from resolv.conf, the hook points resolv.conf at it (inside `ip netns exec`, that file is
// /etc/netns/NS/resolv.conf), ordinary resolver clients then get synthesized answers, and the
// journal puts the file back, also after a simulated crash. SIGTERM stops the stub with exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { Journal } from '../../src-main/engine/system/journal.js';
import { hookSystemResolver, learnResolvers } from '../../src-main/engine/dns64/system-resolver.js';
import { unboundConf } from './helpers.js';

const root = new URL('../../../', import.meta.url).pathname;

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('resolv.conf hook in a namespace: learn, hook, resolve through the stub, restore, recover', async (t) => {
  if (!requires(t, { root: true, binaries: ['unbound', 'dig', 'ip'] })) return;
  const lab = new Lab('d64s');
  t.after(() => lab.dispose());
  const ns = lab.ns('host');
  // The "uplink's resolver": unbound on a documentation address inside the namespace.
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.53/32', 'dev', 'lo']);
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-d64s-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'unbound.conf'), `${unboundConf(dir, '192.0.2.53', 53)}\n`);
  lab.spawn(ns, 'unbound', ['-d', '-c', join(dir, 'unbound.conf')]);
  const original = '# from the uplink\nnameserver 192.0.2.53\nsearch dns64.example\noptions edns0\n';
  lab.resolvConf(ns, original);
  const resolvConf = `/etc/netns/${ns}/resolv.conf`;
  await waitFor('unbound', () =>
    lab
      .exec(ns, 'dig', ['+short', '+tries=1', '+time=1', 'A', 'a-only.dns64.example'], { allowFail: true })
      .includes('192.0.2.1'),
  );

  assert.deepEqual(learnResolvers({ resolvConfPath: resolvConf, useResolved: false }), [
    { address: '192.0.2.53', port: 53 },
  ]);

  // The stub, run as a user would, learning its upstream from the namespace's resolv.conf.
  let log = '';
  const stub = lab.spawn(ns, process.execPath, [
    join(root, 'bin/clatbar'),
    'dns64',
    '--listen',
    '127.0.0.1:53',
    '--prefix',
    '2001:db8:64::/96',
  ]);
  stub.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => stub.once('exit', (code) => r(code)));
  await waitFor('the stub', () => log.includes('listening on 127.0.0.1:53'));
  assert.match(log, /using this machine's resolvers: 192\.0\.2\.53:53/);

  const stateDir = join(dir, 'state');
  const journal = Journal.create(stateDir, { restorable: [resolvConf] });
  const hooked = await hookSystemResolver({
    journal,
    address: '127.0.0.1',
    resolvConfPath: resolvConf,
    useResolved: false,
  });
  assert.equal(hooked.how, 'resolv.conf');
  const now = lab.exec(ns, 'cat', ['/etc/resolv.conf']);
  assert.match(now, /^nameserver 127\.0\.0\.1$/m);
  assert.doesNotMatch(now, /192\.0\.2\.53/);
  assert.match(now, /^search dns64\.example$/m, 'search and options lines are kept');

  // Plain resolver clients in the namespace now get DNS64 answers from the stub.
  assert.equal(
    lab.exec(ns, 'dig', ['+short', 'AAAA', 'a-only.dns64.example']).trim(),
    '2001:db8:64::c000:201\n2001:db8:64::c000:202',
  );
  const getent = lab.exec(ns, 'getent', ['hosts', 'a-only']);
  assert.match(getent, /2001:db8:64::c000:201/, 'glibc (search domain and all) resolves through the stub');

  await journal.undoAll();
  assert.equal(readFileSync(resolvConf, 'utf8'), original, 'stop puts the file back');

  // A crash: changes journaled, the process gone without undoing; the next start recovers.
  const j2 = Journal.create(stateDir, { restorable: [resolvConf] });
  await hookSystemResolver({
    journal: j2,
    address: '127.0.0.1',
    resolvConfPath: resolvConf,
    useResolved: false,
  });
  assert.notEqual(readFileSync(resolvConf, 'utf8'), original);
  const outcomes = await Journal.recover(stateDir, undefined, { restorable: [resolvConf] });
  assert.equal(outcomes.length, 1);
  assert.ok(outcomes[0].ok);
  assert.equal(readFileSync(resolvConf, 'utf8'), original, 'recovery puts the file back');
  assert.equal(existsSync(join(stateDir, 'journal.json')), false);

  stub.kill('SIGTERM');
  assert.equal(await exited, 0, 'SIGTERM stops the stub with exit status 0');
  assert.match(log, /SIGTERM: stopped after \d+ queries/);
});
