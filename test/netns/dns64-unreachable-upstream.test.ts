// `clatbar dns64` started while an upstream is unreachable (no route: the uplink is not up yet,
// or a typo in --upstream): it still starts (the network may come later), and it says so at
// once instead of leaving the user to guess from timeouts on the first queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { waitFor, CLATBAR } from '../helpers/clat-lab.js';

test('clatbar dns64 with unreachable upstreams: starts, and warns naming each one', async (t) => {
  if (!requires(t, { root: true })) return;
  const lab = new Lab('ds');
  t.after(() => lab.dispose());
  const ns = lab.ns('a');
  const child = spawn('ip', [
    'netns',
    'exec',
    ns,
    process.execPath,
    CLATBAR,
    'dns64',
    '--listen',
    '127.0.0.1:5353',
    '--upstream',
    '[2001:db8::53]:53',
    '--upstream',
    '192.0.2.53',
    '--prefix',
    '2001:db8:64::/96',
  ]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => child.kill('SIGKILL'));
  await waitFor('the stub to start', () => out.includes('synthesizing AAAA') || child.exitCode !== null);
  assert.match(out, /listening on 127\.0\.0\.1:5353/);
  assert.match(out, /warning: no route to upstream \[2001:db8::53\]:53/);
  assert.match(out, /warning: no route to upstream 192\.0\.2\.53:53/);
  // A query then fails at once on each upstream; the log says why (no route), not "timeout".
  const dig = spawn('ip', [
    'netns',
    'exec',
    ns,
    'dig',
    '+tries=1',
    '+time=5',
    '-p',
    '5353',
    '@127.0.0.1',
    'a.example',
    'AAAA',
  ]);
  t.after(() => dig.kill('SIGKILL'));
  await waitFor('the upstream failures to be logged', () =>
    /upstream 192\.0\.2\.53:53 cannot be reached/.test(out),
  );
  assert.match(
    out,
    /upstream \[2001:db8::53\]:53 cannot be reached: this host has no route to it \(E(NET|HOST)UNREACH\)/,
  );
  assert.match(
    out,
    /upstream 192\.0\.2\.53:53 cannot be reached: this host has no route to it \(E(NET|HOST)UNREACH\)/,
  );
  assert.doesNotMatch(out, /did not answer within/);
  child.kill('SIGTERM');
  assert.equal(await done, 0);
});
