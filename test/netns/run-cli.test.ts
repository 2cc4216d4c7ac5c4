// `clatbar run` the way people misuse it: a second run while one runs (must refuse, name the
// first, change nothing), flags out of range, custom --state-dir and --control-socket, SIGHUP,
// status before and after. Found by hand: a second run with another --state-dir was told to
// `ip link del clat0` (the live engine's TUN) and the same --state-dir pointed at
// `clatbar disable`, which is not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  startServers,
  nsh,
  waitFor,
  hostState,
  CLATBAR,
  PREFIX,
  SERVER_V4,
} from '../helpers/clat-lab.js';
import type { Lab } from '../helpers/netns.js';

interface Done {
  code: number | null;
  out: string;
}

/** Runs clatbar in the namespace to completion (bounded by `timeout`). */
function clatbar(lab: Lab, ns: string, args: string[], seconds = 60): Promise<Done> {
  return new Promise((resolve) => {
    const c = spawn('ip', [
      'netns',
      'exec',
      ns,
      'timeout',
      String(seconds),
      process.execPath,
      CLATBAR,
      ...args,
    ]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => resolve({ code, out }));
  });
}

test('clatbar run: refusals, a second run, custom paths, SIGHUP', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat'] })) return;
  const cl = await buildClatLab('rr');
  t.after(() => cl.dispose());
  await startServers(cl, {});
  const { lab, laptop } = cl;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = ['run', '--uplink', cl.uplink, '--prefix', PREFIX];
  const paths = (n: string) => ['--state-dir', join(dir, n), '--control-socket', join(dir, n, 'engine.sock')];
  const before = hostState(lab, laptop);

  await t.test('--mtu below 1280 is a usage error naming the flag (exit 2)', async () => {
    const r = await clatbar(lab, laptop, [...base, ...paths('x'), '--mtu', '1200']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /--mtu .*1280/);
  });

  await t.test('--tun with a name already taken is refused before any change', async () => {
    const r = await clatbar(lab, laptop, [...base, ...paths('x'), '--tun', cl.uplink]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /interface named up0 already exists/);
    assert.deepEqual(hostState(lab, laptop), before);
  });

  // The engine everything below runs next to, on its own paths.
  const first = lab.spawn(laptop, process.execPath, [CLATBAR, ...base, ...paths('a')]);
  let firstOut = '';
  first.stdout?.on('data', (d: Buffer) => (firstOut += d.toString()));
  first.stderr?.on('data', (d: Buffer) => (firstOut += d.toString()));
  await waitFor('the first engine', () => firstOut.includes('CLAT is up') || first.exitCode !== null, 30000);
  assert.match(firstOut, /CLAT is up/, firstOut);
  assert.ok(existsSync(join(dir, 'a', 'engine.sock')), 'the custom control socket');
  assert.ok(existsSync(join(dir, 'a', 'journal.json')), 'the journal in the custom state dir');
  const during = hostState(lab, laptop);
  const pid = first.pid;

  await t.test(
    'a second run with the same --state-dir refuses, names the first, changes nothing',
    async () => {
      const r = await clatbar(lab, laptop, [...base, ...paths('a')]);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /another clatbar engine \(pid \d+/);
      assert.match(r.out, /nothing was changed/);
      assert.doesNotMatch(r.out, /clatbar disable/, 'not built: must not be the advice');
      assert.deepEqual(hostState(lab, laptop), during);
    },
  );

  await t.test(
    'a second run with its own --state-dir and --tun refuses, naming the running clatbar',
    async () => {
      const r = await clatbar(lab, laptop, [...base, ...paths('b'), '--tun', 'clat1']);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /clatbar is already running a CLAT on clat0/);
      assert.doesNotMatch(r.out, /ip link del clat0/, "never advise deleting a live engine's TUN");
      assert.deepEqual(hostState(lab, laptop), during);
      assert.equal(existsSync(join(dir, 'b', 'journal.json')), false);
    },
  );

  await t.test(
    'a second run with its own --state-dir but the same --tun names the running clatbar',
    async () => {
      const r = await clatbar(lab, laptop, [...base, ...paths('c')]);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /clatbar is already running|pid \d+/);
      assert.doesNotMatch(r.out, /--cleanup/, 'cleanup cannot help while the engine runs');
    },
  );

  await t.test(
    'the first engine is untouched and still translates; status answers on its socket',
    async () => {
      assert.match(nsh(lab, laptop, `ping -c 1 -W 5 ${SERVER_V4}`), /1 received/);
      const s = await clatbar(lab, laptop, ['status', '--control-socket', join(dir, 'a', 'engine.sock')]);
      assert.equal(s.code, 0, s.out);
      assert.match(s.out, new RegExp(`pid ${pid}`));
    },
  );

  await t.test(
    'SIGHUP stops it like SIGTERM: exit 0, the host as before, status then says none runs',
    async () => {
      const exited = new Promise<number | null>((r) => first.once('exit', (code) => r(code)));
      first.kill('SIGHUP');
      assert.equal(await exited, 0, firstOut);
      assert.match(firstOut, /SIGHUP received/);
      assert.deepEqual(hostState(lab, laptop), before);
      const s = await clatbar(lab, laptop, ['status', '--control-socket', join(dir, 'a', 'engine.sock')]);
      assert.equal(s.code, 1);
      assert.match(s.out, /no engine is running/);
    },
  );

  await t.test('--clat-ipv4 outside 192.0.0.0/29 is refused before any change', async () => {
    // Today it comes up with 10.1.2.3/29 on the TUN and runs until `timeout` stops it.
    const r = await clatbar(lab, laptop, [...base, ...paths('d'), '--clat-ipv4', '10.1.2.3'], 10);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /--clat-ipv4 .*192\.0\.0\.0\/29/);
    assert.deepEqual(hostState(lab, laptop), before);
  });
});
