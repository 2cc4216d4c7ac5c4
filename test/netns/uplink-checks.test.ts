// A DHCPv6-only network gives the host a single /128, no /64: `clatbar run` refuses, and the
// fix it names must be one that works. It used to say "or pass --clat-ipv6 with an address the
// network routes to this host", which the uplink check refuses all the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { buildClatLab, CLATBAR, startClatbarRun } from '../helpers/clat-lab.js';

test('uplink with only a /128 (DHCPv6 IA_NA): refused with a fix that works, nothing changed', (t) => {
  if (!requires(t, { root: true, tun: true })) return;
  const lab = new Lab('uc');
  t.after(() => lab.dispose());
  const a = lab.ns('a');
  const b = lab.ns('b');
  lab.veth(a, 'up0', b, 'r0');
  lab.exec(a, 'ip', ['-6', 'addr', 'add', '2001:db8:1::77/128', 'dev', 'up0', 'nodad']);
  lab.exec(b, 'ip', ['-6', 'addr', 'add', 'fe80::1/64', 'dev', 'r0', 'nodad']);
  lab.exec(a, 'ip', ['-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'up0']);
  for (const extra of [[], ['--clat-ipv6', '2001:db8:1::c1a7']]) {
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        a,
        process.execPath,
        CLATBAR,
        'run',
        '--uplink',
        'up0',
        '--prefix',
        '2001:db8:64::/96',
        '--state-dir',
        `/tmp/clatbar-uc-${process.pid}`,
        '--control-socket',
        `/tmp/clatbar-uc-${process.pid}/e.sock`,
        ...extra,
      ],
      { encoding: 'utf8', timeout: 30000 },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /only 2001:db8:1::77\/128/);
    assert.doesNotMatch(r.stderr, /pass --clat-ipv6/, 'a fix that the same check then refuses');
    assert.equal(lab.exec(a, 'ip', ['link', 'show', 'clat0'], { allowFail: true }), '');
  }
});

test('the uplink unplugged during a run: the stop still ends with exit 0 and "the host is as it was"', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga'] })) return;
  const cl = await buildClatLab('ug');
  t.after(() => cl.dispose());
  const { lab, laptop } = cl;
  const run = await startClatbarRun(cl);
  // A USB adapter pulled out: the device and its per-interface sysctls are gone.
  lab.exec(laptop, 'ip', ['link', 'del', cl.uplink]);
  run.proc.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.log());
  assert.match(run.log(), /stopped; the host is as it was/);
  assert.doesNotMatch(run.log(), /could not undo/);
  assert.equal(lab.exec(laptop, 'ip', ['link', 'show', 'clat0'], { allowFail: true }), '');
});
