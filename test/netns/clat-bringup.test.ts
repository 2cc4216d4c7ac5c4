// Bring-up and teardown of `clatbar run` on the lab laptop: what it changes, that SIGTERM puts
// everything back, and that a kill -9 is undone by the next run or by `run --cleanup`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  hostState,
  nsh,
  waitFor,
  taygaClat,
  CLATBAR,
  type ClatLab,
} from '../helpers/clat-lab.js';

function startRun(
  cl: ClatLab,
  stateDir: string,
  extra: string[] = [],
): { child: ChildProcess; out: () => string } {
  const child = cl.lab.spawn(cl.laptop, process.execPath, [
    CLATBAR,
    'run',
    '--uplink',
    cl.uplink,
    '--prefix',
    '2001:db8:64::/96',
    '--state-dir',
    stateDir,
    '--control-socket',
    join(stateDir, 'engine.sock'),
    ...extra,
  ]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

test('clatbar run: bring-up, SIGTERM teardown, kill -9 recovery', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga'] })) return;
  const cl = await buildClatLab('cb');
  t.after(() => cl.dispose());
  const stateDir = mkdtempSync(join(tmpdir(), 'clatbar-state-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const before = hostState(cl.lab, cl.laptop);

  await t.test('bring-up makes the changes, SIGTERM undoes all of them', async () => {
    const run = startRun(cl, stateDir);
    await waitFor('the CLAT to come up', () => run.out().includes('CLAT is up'));
    const out = run.out();
    assert.match(out, /accept_ra 1 -> 2/);
    assert.match(out, /DAD: 2001:db8:1:0:[0-9a-f:]+ is free/);
    assert.match(out, /checksum-neutral/);
    assert.match(
      nsh(cl.lab, cl.laptop, 'ip -4 route show default'),
      /default dev clat0 .*metric 2147483647 .*mtu 1472/,
    );
    assert.match(nsh(cl.lab, cl.laptop, 'ip -4 addr show dev clat0'), /192\.0\.0\.4\/29/);
    const proxy = nsh(cl.lab, cl.laptop, 'ip -6 neigh show proxy');
    assert.match(proxy, /2001:db8:1:0:[0-9a-f:]+ dev up0 proxy/);
    const clatV6 = proxy.split(' ')[0];
    assert.match(nsh(cl.lab, cl.laptop, `ip -6 route show ${clatV6}`), /dev clat0/);
    assert.equal(nsh(cl.lab, cl.laptop, 'sysctl -n net.ipv6.conf.up0.accept_ra').trim(), '2');
    // The RA-learned default route and SLAAC address survived forwarding being turned on.
    assert.match(nsh(cl.lab, cl.laptop, 'ip -6 route show default'), /proto ra/);
    // The router resolves the CLAT address to the laptop: proxy-ND answers.
    nsh(cl.lab, cl.router, `ping -c 1 -W 2 ${clatV6}`, true);
    assert.match(nsh(cl.lab, cl.router, `ip -6 neigh show ${clatV6}`), /lladdr/);
    assert.ok(existsSync(join(stateDir, 'journal.json')));
    run.child.kill('SIGTERM');
    assert.equal(await exited(run.child), 0);
    assert.match(run.out(), /stopped; the host is as it was/);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
    assert.ok(!existsSync(join(stateDir, 'journal.json')));
  });

  await t.test('kill -9, then `run --cleanup` restores the same state', async () => {
    const run = startRun(cl, stateDir);
    await waitFor('the CLAT to come up', () => run.out().includes('CLAT is up'));
    // `ip netns exec` execs the command, so the child's pid is the engine itself.
    run.child.kill('SIGKILL');
    await exited(run.child);
    assert.notDeepEqual(hostState(cl.lab, cl.laptop), before);
    const r = spawnSync(
      'ip',
      ['netns', 'exec', cl.laptop, process.execPath, CLATBAR, 'run', '--cleanup', '--state-dir', stateDir],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /recovering: undoing \d+ change\(s\)/);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test('kill -9, then a new `run` recovers first and comes up cleanly', async () => {
    const run = startRun(cl, stateDir);
    await waitFor('the CLAT to come up', () => run.out().includes('CLAT is up'));
    run.child.kill('SIGKILL');
    await exited(run.child);
    const again = startRun(cl, stateDir);
    await waitFor('the CLAT to come up again', () => again.out().includes('CLAT is up'));
    assert.match(again.out(), /recovering: undoing/);
    again.child.kill('SIGTERM');
    assert.equal(await exited(again.child), 0);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });
});

function runOnce(cl: ClatLab, stateDir: string, extra: string[]): { status: number | null; out: string } {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      cl.laptop,
      process.execPath,
      CLATBAR,
      'run',
      '--uplink',
      cl.uplink,
      '--state-dir',
      stateDir,
      '--control-socket',
      join(stateDir, 'engine.sock'),
      ...extra,
    ],
    { encoding: 'utf8', timeout: 30000 },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

test('clatbar run: refusals before any change, and the firewall report', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'nft'] })) return;
  const cl = await buildClatLab('cr');
  t.after(() => cl.dispose());
  const stateDir = mkdtempSync(join(tmpdir(), 'clatbar-state-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const before = hostState(cl.lab, cl.laptop);

  await t.test('an illegal prefix: error with the fix, nothing changed', () => {
    const r = runOnce(cl, stateDir, ['--prefix', '2001:db8:64::/80']);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /not one RFC 6052 §2\.2 allows/);
    assert.match(r.out, /fix: /);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test('a missing uplink: error with the fix', () => {
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        cl.laptop,
        process.execPath,
        CLATBAR,
        'run',
        '--uplink',
        'wlan9',
        '--prefix',
        '2001:db8:64::/96',
        '--state-dir',
        stateDir,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /uplink 'wlan9' does not exist/);
  });

  await t.test('without root or CAP_NET_ADMIN: refused with the fix', () => {
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        cl.laptop,
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        CLATBAR,
        'run',
        '--uplink',
        cl.uplink,
        '--prefix',
        '2001:db8:64::/96',
        '--state-dir',
        join(stateDir, 'nobody'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /needs root or CAP_NET_ADMIN/);
    assert.match(r.stderr, /fix: run it with sudo/);
  });

  await t.test('a --clat-ipv6 already in use on the link fails DAD and is refused', () => {
    // The router owns 2001:db8:1::1; DAD on the laptop's uplink sees its answer.
    const r = runOnce(cl, stateDir, ['--prefix', '2001:db8:64::/96', '--clat-ipv6', '2001:db8:1::1']);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /--clat-ipv6 2001:db8:1::1 is already in use on up0/);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test('native IPv4: "not needed", exit 0, nothing changed', () => {
    nsh(cl.lab, cl.laptop, 'ip addr add 198.51.100.50/24 dev up0 && ip route add default via 198.51.100.1');
    try {
      const r = runOnce(cl, stateDir, ['--prefix', '2001:db8:64::/96']);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /not needed: this host has native IPv4/);
    } finally {
      nsh(cl.lab, cl.laptop, 'ip route del default via 198.51.100.1 && ip addr del 198.51.100.50/24 dev up0');
    }
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test('another CLAT (TAYGA as a CLAT in this namespace): refused, naming it', async () => {
    const tayga = taygaClat(cl.lab, cl.laptop, {
      uplink: cl.uplink,
      clatV6: '2001:db8:1::c1a7',
      dir: stateDir,
    });
    await waitFor('tayga', () => nsh(cl.lab, cl.laptop, 'ip -4 addr show dev tayclat').includes('192.0.0.1'));
    const r = runOnce(cl, stateDir, ['--prefix', '2001:db8:64::/96']);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /another CLAT is already active/);
    assert.match(r.out, /interface tayclat has 192\.0\.0\.1\/29/);
    assert.match(r.out, /tayga \(pid \d+\) is running in this network namespace/);
    tayga.kill('SIGTERM');
    await new Promise((r2) => tayga.once('exit', r2));
  });

  await t.test('a firewall dropping forwarded traffic is reported, not changed', async () => {
    const fresh = await buildClatLab('cf');
    t.after(() => fresh.dispose());
    nsh(
      fresh.lab,
      fresh.laptop,
      "nft add table inet fw && nft add chain inet fw forward '{ type filter hook forward priority 0; policy drop; }'",
    );
    const rules = nsh(fresh.lab, fresh.laptop, 'nft list ruleset');
    const userTable = nsh(fresh.lab, fresh.laptop, 'nft list table inet fw');
    const run = startRun(fresh, stateDir, ['--state-dir', join(stateDir, 'fw')]);
    await waitFor(
      'the CLAT to come up',
      () => run.out().includes('CLAT is up') || run.child.exitCode !== null,
    );
    assert.match(
      run.out(),
      /firewall warning: nftables: table inet fw, chain forward \(forward hook\): policy drop/,
    );
    assert.match(run.out(), /nft insert rule inet fw forward iifname "clat0" accept/);
    // The user's table is as it was; the inbound filter's own table (ip clatbar) sits beside it
    // while the engine runs and is gone after.
    assert.equal(nsh(fresh.lab, fresh.laptop, 'nft list table inet fw'), userTable);
    assert.match(nsh(fresh.lab, fresh.laptop, 'nft list tables'), /^table ip clatbar$/m);
    run.child.kill('SIGTERM');
    assert.equal(await exited(run.child), 0);
    assert.equal(nsh(fresh.lab, fresh.laptop, 'nft list ruleset'), rules);
  });
});
