// `clatbar lab` as a user runs it: up, IPv4 and a name from the laptop, the engine's status
// through the namespace's default socket, then down leaving nothing; and down after an `up`
// killed half way at several points. The lab's namespace names are fixed (clatbar-*): only this
// suite uses them, and it always ends with `lab down`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { requires } from '../helpers/env.js';
import { CLATBAR, waitFor } from '../helpers/clat-lab.js';
import { LAB_NAMES, LAB_PATHS, STATE_FILE } from '../../src-main/engine/lab/state.js';
import { LAB_NET } from '../../src-main/engine/lab/topology.js';
import { PAGE_TITLE } from '../../src-main/engine/lab/servers.js';

const NAMES = Object.values(LAB_NAMES);

function clatbar(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLATBAR, ...args],
      { encoding: 'utf8', timeout: 120_000 },
      (err, out, errOut) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

function inLaptop(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', LAB_NAMES.laptop, ...argv],
      { encoding: 'utf8', timeout: 60_000 },
      (err, out, e) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: e }),
    );
  });
}

/** The namespace inodes of whichever lab namespaces exist, to find their processes later. */
function namespaceInodes(): number[] {
  return NAMES.filter((n) => existsSync(`/run/netns/${n}`)).map((n) => statSync(`/run/netns/${n}`).ino);
}

/** Every process whose network namespace is one of `inodes`. */
function processesIn(inodes: number[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (inodes.includes(statSync(`/proc/${pid}/ns/net`).ino))
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Nothing of the lab is left: namespaces, their processes, paths, mounts. */
function assertGone(inodes: number[]): void {
  assert.deepEqual(
    NAMES.filter((n) => existsSync(`/run/netns/${n}`)),
    [],
    'namespaces left',
  );
  assert.deepEqual(processesIn(inodes), [], 'processes left in the lab namespaces');
  assert.deepEqual(
    LAB_PATHS.filter((p) => existsSync(p)),
    [],
    'files left',
  );
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /clatbar/.test(l));
  assert.deepEqual(mounts, [], 'mounts left');
}

test('clatbar lab: up, IPv4 and a name from the laptop, status, down leaves nothing', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound', 'curl'] })) return;
  t.after(() => clatbar('lab', 'down'));
  await clatbar('lab', 'down'); // a lab left by an earlier, interrupted run

  const up = await clatbar('lab', 'up');
  assert.equal(up.code, 0, up.out + up.err);
  assert.match(up.out, /curl http:\/\/203\.0\.113\.10\//);
  const inodes = namespaceInodes();
  assert.equal(inodes.length, 3);

  // The IPv4 literal goes through the CLAT: the server sees an address of TAYGA's pool.
  const page = await inLaptop('curl', '-sS', '--max-time', '10', `http://${LAB_NET.serverV4}/`);
  assert.equal(page.code, 0, page.err);
  assert.match(page.out, new RegExp(PAGE_TITLE));
  assert.match(page.out, /came from 198\.51\.100\.\d+/);
  // The name resolves (AAAA synthesized by the router's DNS64) and the page comes back over it.
  const hosts = await inLaptop('getent', 'ahosts', LAB_NET.serverName);
  assert.match(hosts.out, /^2001:db8:64::cb00:710a\s/m, hosts.out + hosts.err);
  const named = await inLaptop('curl', '-sS', '--max-time', '10', `http://${LAB_NET.serverName}/`);
  assert.match(named.out, new RegExp(PAGE_TITLE), named.err);
  // UDP echo and a download through the CLAT.
  const dl = await inLaptop(
    'curl',
    '-sS',
    '--max-time',
    '30',
    '-o',
    '/dev/null',
    '-w',
    '%{size_download}',
    `http://${LAB_NET.serverV4}/download?mb=20`,
  );
  assert.equal(dl.out, String(20 << 20), dl.err);
  const echo = await inLaptop(
    process.execPath,
    '-e',
    `const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(String(m));process.exit(0)});` +
      `s.send('over udp',7,'${LAB_NET.serverV4}');setTimeout(()=>process.exit(3),5000)`,
  );
  assert.equal(echo.out.trim(), 'over udp', echo.err);

  // `clatbar status` inside the namespace finds the lab's engine with no --control-socket.
  const st = await inLaptop(process.execPath, CLATBAR, 'status', '--json');
  assert.equal(st.code, 0, st.out + st.err);
  const doc = JSON.parse(st.out) as { uplink?: string; prefix?: string };
  assert.equal(doc.prefix, LAB_NET.nat64Prefix);
  const labStatus = await clatbar('lab', 'status');
  assert.equal(labStatus.code, 0, labStatus.out + labStatus.err);
  assert.match(labStatus.out, /engine \(pid \d+\): running/);
  // `lab shell -- CMD` runs CMD in the laptop, which sees the lab's resolver, not the host's.
  const shell = await clatbar('lab', 'shell', '--', 'cat', '/etc/resolv.conf');
  assert.equal(shell.code, 0, shell.err);
  assert.match(shell.out, new RegExp(`^nameserver ${LAB_NET.routerLan}$`, 'm'));
  // A second up refuses and changes nothing.
  const again = await clatbar('lab', 'up');
  assert.equal(again.code, 1);
  assert.match(again.err, /already there.*lab down/);
  assert.deepEqual(namespaceInodes(), inodes);

  const down = await clatbar('lab', 'down');
  assert.equal(down.code, 0, down.out + down.err);
  assertGone(inodes);
  const twice = await clatbar('lab', 'down');
  assert.equal(twice.code, 0, twice.out + twice.err);
  assert.equal((await clatbar('lab', 'status')).code, 1);
});

test('clatbar lab down after an up killed half way leaves nothing', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound'] })) return;
  t.after(() => clatbar('lab', 'down'));
  await clatbar('lab', 'down');
  // Killed (SIGKILL: no chance to clean up) once the record names each of these processes.
  for (const at of ['tayga', 'unbound', 'server', 'engine']) {
    await t.test(`killed after starting ${at}`, async () => {
      const up = spawn(process.execPath, [CLATBAR, 'lab', 'up'], { stdio: 'ignore' });
      const exited = new Promise((r) => up.once('exit', r));
      let inodes: number[] = [];
      await waitFor(
        `lab up to start ${at}`,
        () => {
          inodes = namespaceInodes();
          return readFileSync(STATE_FILE, 'utf8').includes(`"role": "${at}"`);
        },
        60_000,
      );
      up.kill('SIGKILL');
      await exited;
      assert.ok(inodes.length > 0);
      assert.ok(processesIn(inodes).length > 0, 'the killed up left processes behind');
      const down = await clatbar('lab', 'down');
      assert.equal(down.code, 0, down.out + down.err);
      assertGone(inodes);
    });
  }
});
