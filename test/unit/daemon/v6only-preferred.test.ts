// RFC 8925 through NetworkManager (engine/daemon/v6only-preferred.ts): DHCPv4 option 108 asked
// for in the uplink's applied connection while the CLAT is allowed, journaled and undone; the
// option in the last DHCPv4 reply read as "IPv4 withheld". Against a FAKE NetworkManager
// (test/helpers/fake-networkmanager.ts, built from NetworkManager's published D-Bus interface
// definitions) on a private dbus-daemon, in both versions that matter: 1.52 (has
// ipv4.dhcp-ipv6-only-preferred) and Debian 12's 1.42 (has not). The real NetworkManager cannot
// run here (it needs systemd and udev and would manage the test links itself).
import { test, type TestContext } from 'node:test';
import { Variant } from 'dbus-next';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startPrivateBus } from '../../helpers/private-bus.js';
import { CLATBAR } from '../../helpers/clat-lab.js';
import { startFakeNetworkManager, type FakeNetworkManager } from '../../helpers/networkmanager.js';
import { ResolvedBus } from '../../../src-main/engine/dns64/resolved-dbus.js';
import {
  V6OnlyPreferred,
  clatAllowed,
  nmHasV6OnlyPreferred,
  readNmUplink,
  withheldFrom,
} from '../../../src-main/engine/daemon/v6only-preferred.js';

const UUID = '7d3e2a1c-55aa-4f3b-9c1d-0123456789ab';

interface Fake extends FakeNetworkManager {
  bus: ResolvedBus;
  stateDir: string;
  /** The private bus's environment, for programs the test runs. */
  env: NodeJS.ProcessEnv;
}

async function fakeNm(t: TestContext, devices: object, version: string): Promise<Fake> {
  const pb = await startPrivateBus();
  t.after(() => pb.stop());
  const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  // The module reads the bus address from the environment (and journals it for its undo step).
  process.env.DBUS_SYSTEM_BUS_ADDRESS = pb.address;
  t.after(() => {
    if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
  });
  const bus = await ResolvedBus.connect(2000);
  t.after(() => bus.close());
  const nm = await startFakeNetworkManager(pb.env, devices, version);
  t.after(() => nm.stop());
  const stateDir = mkdtempSync(join(tmpdir(), 'clatbar-v6only-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  return Object.assign(nm, { bus, stateDir, env: pb.env });
}

const journalEntries = (stateDir: string): unknown[] => {
  const path = join(stateDir, 'networkmanager', 'journal.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { entries: unknown[] }).entries : [];
};

test('NetworkManager versions: ipv4.dhcp-ipv6-only-preferred from 1.52 on', () => {
  for (const v of ['1.52.0', '1.52.2-1.fc42', '1.58.0', '2.0.0'])
    assert.equal(nmHasV6OnlyPreferred(v), true, v);
  for (const v of ['1.42.4', '1.51.90', '0.9.10', '', 'unknown'])
    assert.equal(nmHasV6OnlyPreferred(v), false, v);
});

test('option 108 in the DHCPv4 reply: IPv4 withheld for V6ONLY_WAIT, at least 300 s', () => {
  assert.equal(withheldFrom(null), null);
  assert.equal(withheldFrom({ ip_address: { value: '192.0.2.10' } }), null);
  assert.deepEqual(withheldFrom({ ipv6_only_preferred: { value: '1800' } }), { waitSeconds: 1800 });
  // RFC 8925 §3.2: less than MIN_V6ONLY_WAIT counts as MIN_V6ONLY_WAIT.
  assert.deepEqual(withheldFrom({ ipv6_only_preferred: { value: '0' } }), { waitSeconds: 300 });
});

test('the CLAT is allowed unless off, failed, stopping or another CLAT runs', () => {
  assert.equal(clatAllowed({ state: 'standby', classification: 'dual-stack' }), true);
  assert.equal(clatAllowed({ state: 'active', classification: 'ipv6-only-nat64' }), true);
  assert.equal(clatAllowed({ state: 'off', classification: 'dual-stack' }), false);
  assert.equal(clatAllowed({ state: 'attention', classification: 'ipv6-only-nat64' }), false);
  assert.equal(clatAllowed({ state: 'standby', classification: 'system-clat' }), false);
});

test('NetworkManager 1.52: option 108 asked for in the applied connection, journaled, and let go', async (t) => {
  const f = await fakeNm(
    t,
    { up0: { uuid: UUID, id: 'Conference', dhcp4: { ip_address: '192.0.2.10' } }, up1: null },
    '1.52.0',
  );
  const nm = await readNmUplink(f.bus, 'up0');
  assert.ok(nm);
  assert.equal(nm.supported, true);
  assert.equal(nm.value, -1);
  assert.equal(nm.method, 'auto');
  assert.equal(nm.withheld, null);
  assert.equal(await readNmUplink(f.bus, 'up1'), null);
  assert.equal(await readNmUplink(f.bus, 'veth9'), null);

  const lines: string[] = [];
  const v6 = new V6OnlyPreferred({ stateDir: f.stateDir, log: (l) => lines.push(l.text) });
  v6.follow(f.bus, nm, true);
  assert.equal(v6.status?.code, 'v6only.requested');
  await v6.settled();
  // The applied connection now asks for it; everything else went back as it was (the fake
  // refuses a Reapply that changes another setting).
  await f.reapplied(1);
  assert.equal(f.reapplies.length, 1);
  assert.equal(f.reapplies[0].reapply, 'up0');
  assert.equal(f.reapplies[0].ipv4['dhcp-ipv6-only-preferred'], 1);
  assert.equal(f.reapplies[0].ipv4.method, 'auto');
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, 1);
  const entries = journalEntries(f.stateDir) as Array<{ what: string; undo: { argv: string[] } }>;
  assert.equal(entries.length, 1);
  assert.match(entries[0].what, /option 108 requested on up0/);
  assert.deepEqual(entries[0].undo.argv.slice(2, 5), ['reset', 'up0', UUID]);

  // The same network again (our value shows now): nothing more is sent.
  v6.follow(f.bus, await readNmUplink(f.bus, 'up0'), true);
  await v6.settled();
  await f.reapplied(1);
  assert.equal(f.reapplies.length, 1);

  // The network sends option 108 in its reply: IPv4 withheld, as the classification reads it.
  await f.send({ dhcp4: { up0: { ipv6_only_preferred: '1800', requested_ipv6_only_preferred: '1' } } });
  assert.deepEqual((await readNmUplink(f.bus, 'up0'))?.withheld, { waitSeconds: 1800 });

  // Policy "never" (or disable, a failed bring-up): the request goes, the journal with it.
  v6.follow(f.bus, await readNmUplink(f.bus, 'up0'), false);
  assert.equal(v6.status?.code, 'v6only.not-allowed');
  await v6.settled();
  await f.reapplied(2);
  assert.equal(f.reapplies.length, 2);
  assert.equal(f.reapplies[1].ipv4['dhcp-ipv6-only-preferred'], undefined, 'back to the default');
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, -1);
  assert.equal(journalEntries(f.stateDir).length, 0);

  // Allowed again, then the daemon stops: let go on stop, journal gone.
  v6.follow(f.bus, await readNmUplink(f.bus, 'up0'), true);
  await v6.settled();
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, 1);
  await v6.stop(f.bus);
  await f.reapplied(4);
  assert.equal(f.reapplies.length, 4);
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, -1);
  assert.equal(existsSync(join(f.stateDir, 'networkmanager', 'journal.json')), false);
});

/** A daemon that asked for option 108 on up0 and then died without letting go (kill -9). */
async function crashedWithRequest(t: TestContext): Promise<Fake> {
  const f = await fakeNm(t, { up0: { uuid: UUID, id: 'Conference' } }, '1.52.0');
  const crashed = new V6OnlyPreferred({ stateDir: f.stateDir, log: () => {} });
  crashed.follow(f.bus, await readNmUplink(f.bus, 'up0'), true);
  await crashed.settled();
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, 1);
  return f;
}

test('crash: the next start undoes the request through the journal (a separate program)', async (t) => {
  const f = await crashedWithRequest(t);
  // The journal names this (live) process as its owner; a later process's recovery replays it
  // (the owner's command line is not a clatbar one here).
  const lines: string[] = [];
  const next = new V6OnlyPreferred({ stateDir: f.stateDir, log: (l) => lines.push(l.text) });
  const outcomes = await next.recover();
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true],
    lines.join('\n'),
  );
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, -1, lines.join('\n'));
  assert.equal(f.reapplies.at(-1)?.ipv4['dhcp-ipv6-only-preferred'], undefined);
  assert.equal(journalEntries(f.stateDir).length, 0);
});

test('crash, then `clatbar run --cleanup`: the request undone too', async (t) => {
  const f = await crashedWithRequest(t);
  const r = spawnSync(process.execPath, [CLATBAR, 'run', '--cleanup', '--state-dir', f.stateDir], {
    encoding: 'utf8',
    env: f.env,
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout + r.stderr, /undone: DHCPv4 option 108 requested on up0/);
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, -1);
  assert.equal(journalEntries(f.stateDir).length, 0);
});

test('a request that cannot be journaled is not made, says why, and is not tried again', async (t) => {
  const f = await fakeNm(t, { up0: { uuid: UUID, id: 'Conference' } }, '1.52.0');
  // A state directory others could write: its journal would be replayed as root.
  chmodSync(f.stateDir, 0o777);
  const lines: string[] = [];
  const v6 = new V6OnlyPreferred({ stateDir: f.stateDir, log: (l) => lines.push(l.text) });
  const nm = await readNmUplink(f.bus, 'up0');
  v6.follow(f.bus, nm, true);
  await v6.settled();
  assert.equal(v6.status?.code, 'v6only.failed');
  assert.match(v6.status?.text ?? '', /not safe for the undo journal/);
  v6.follow(f.bus, nm, true);
  await v6.settled();
  assert.equal(lines.filter((l) => /could not ask/.test(l)).length, 1, lines.join('\n'));
  await v6.stop(f.bus);
  assert.equal(f.reapplies.length, 0);
  assert.equal((await readNmUplink(f.bus, 'up0'))?.value, -1);
});

test('a new activation, a setting of the connection its own, a static IPv4: left alone', async (t) => {
  const f = await fakeNm(
    t,
    {
      up0: { uuid: UUID, id: 'Conference' },
      up1: { uuid: '11111111-2222-3333-4444-555555555555', id: 'Lab', v6only: 0 },
      up2: { uuid: '66666666-2222-3333-4444-555555555555', id: 'Office', method: 'manual' },
    },
    '1.52.0',
  );
  const v6 = new V6OnlyPreferred({ stateDir: f.stateDir, log: () => {} });
  v6.follow(f.bus, await readNmUplink(f.bus, 'up1'), true);
  assert.equal(v6.status?.code, 'v6only.connection-setting');
  v6.follow(f.bus, await readNmUplink(f.bus, 'up2'), true);
  assert.equal(v6.status?.code, 'v6only.not-dhcp');
  await v6.settled();
  assert.equal(f.reapplies.length, 0);

  v6.follow(f.bus, await readNmUplink(f.bus, 'up0'), true);
  await v6.settled();
  await f.reapplied(1);
  assert.equal(f.reapplies.length, 1);
  // up0 reconnects (a new activation from the profile): the request went with the old one, and
  // letting go sends nothing to the new activation.
  await f.send({ activate: { up0: { uuid: UUID, id: 'Conference' } } });
  v6.follow(f.bus, null, false);
  await v6.settled();
  await f.reapplied(1);
  assert.equal(f.reapplies.length, 1);
  assert.equal(journalEntries(f.stateDir).length, 0);
});

test('NetworkManager 1.42 (Debian 12): nothing is requested, the status says why', async (t) => {
  const f = await fakeNm(
    t,
    { up0: { uuid: UUID, id: 'Conference', dhcp4: { ip_address: '192.0.2.10' } } },
    '1.42.4',
  );
  const nm = await readNmUplink(f.bus, 'up0');
  assert.ok(nm);
  assert.equal(nm.supported, false);
  const v6 = new V6OnlyPreferred({ stateDir: f.stateDir, log: () => {} });
  v6.follow(f.bus, nm, true);
  await v6.settled();
  assert.equal(v6.status?.code, 'v6only.unsupported');
  assert.match(v6.status?.text ?? '', /NetworkManager 1\.42\.4 has no ipv4\.dhcp-ipv6-only-preferred/);
  assert.equal(f.reapplies.length, 0);
  assert.equal(journalEntries(f.stateDir).length, 0);
  // The fake is faithful to 1.42 here: a Reapply with the property is refused.
  await assert.rejects(
    f.bus.call({
      destination: 'org.freedesktop.NetworkManager',
      path: '/org/freedesktop/NetworkManager/Devices/1',
      iface: 'org.freedesktop.NetworkManager.Device',
      member: 'Reapply',
      signature: 'a{sa{sv}}tu',
      body: [{ ipv4: { 'dhcp-ipv6-only-preferred': new Variant('i', 1) } }, 0n, 0],
    }),
    /unknown property/,
  );
});
