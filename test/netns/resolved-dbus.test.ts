// The systemd-resolved integration over D-Bus, against a FAKE resolved on a PRIVATE bus.
//
// systemd-resolved cannot run on these machines (no systemd as PID 1), and installing it would
// take over the host's /etc/resolv.conf. So each test starts its own dbus-daemon with a
// system-bus-like policy (test/helpers/private-bus.ts) and test/helpers/fake-resolved.ts, which
// owns org.freedesktop.resolve1 there and implements what the engine calls with resolved's real
// signatures, paths, errors and link checks, keeping per-link state and a call log. The code
// under test is the real thing: dbus-next over a unix socket, the undo journal, the undo program,
// `clatbar run --cleanup`, `clatbar run`. Everything runs in a throwaway network namespace, where
// the fake sees the same ifindexes as the code under test.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import {
  buildClatLab,
  startServers,
  startRouterResolver,
  nsh,
  waitFor,
  CLATBAR,
  PREFIX,
  privateEtc,
} from '../helpers/clat-lab.js';
import { Message, sessionBus } from 'dbus-next';
import { Journal } from '../../src-main/engine/system/journal.js';
import { hookSystemResolver, learnUplinkResolvers } from '../../src-main/engine/dns64/system-resolver.js';
import { ResolvedBus, resolvedOnBus } from '../../src-main/engine/dns64/resolved-dbus.js';

/**
 * The calls a hook makes on our link, in order: domains and default route before the server
 * (systemd's RESOLVED-VPNS.md, "Ordering"), the server last.
 */
const HOOK_CALLS = [
  'SetLinkDomains',
  'SetLinkDefaultRoute',
  'SetLinkLLMNR',
  'SetLinkMulticastDNS',
  'SetLinkDNSSEC',
  'SetLinkDNSOverTLS',
  'SetLinkDNSEx',
];

const helpers = new URL('../helpers/', import.meta.url).pathname;
const FAKE = join(helpers, 'fake-resolved.js');
const DRIVER = join(helpers, 'resolved-driver.js');

/** What the uplink had in resolved before us, as NetworkManager would have pushed it. */
const SEED = {
  up0: {
    dns: [
      ['2001:db8:1::1', 0, ''],
      ['fe80::1', 0, ''],
      ['192.0.2.53', 5353, ''],
    ],
    domains: [['corp.example', false]],
  },
};

const RESOLV_BEFORE = 'nameserver 2001:db8:1::1\n';

interface LinkDump {
  ifindex: number;
  dns: string[];
  domains: string[];
  defaultRoute: boolean;
  llmnr: string;
  mdns: string;
  dnssec: string;
  dnsOverTls: string;
}
interface CallDump {
  member: string;
  ifname?: string;
  uid: number | null;
  error?: string;
}
interface Dump {
  links: Record<string, LinkDump>;
  calls: CallDump[];
}

/** The fake's state and call log, asked over the bus like any client would. */
async function dump(bus: PrivateBus): Promise<Dump> {
  // sessionBus() with an explicit address is dbus-next's plain "connect to this bus".
  const c = sessionBus({ busAddress: bus.address });
  try {
    const reply = await c.call(
      new Message({
        destination: 'org.freedesktop.resolve1',
        path: '/org/freedesktop/resolve1',
        interface: 'org.clatbar.FakeResolve1',
        member: 'Dump',
      }),
    );
    return JSON.parse(String(reply?.body[0])) as Dump;
  } finally {
    c.disconnect();
  }
}

async function startFake(lab: Lab, ns: string, bus: PrivateBus, args: string[]): Promise<ChildProcess> {
  const fake = lab.spawn(ns, process.execPath, [FAKE, ...args], { env: bus.env });
  let err = '';
  fake.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    fake.stdout?.once('data', () => resolve());
    fake.once('exit', (code) => reject(new Error(`fake-resolved exited ${code}: ${err}`)));
  });
  return fake;
}

interface Setup {
  resolvConf: string;
  bus: PrivateBus;
  lab: Lab;
  ns: string;
  dir: string;
  stateDir: string;
}

/** Private bus, a namespace with an uplink (veth up0) and our link (a persistent TUN clat0), the fake. */
async function setup(
  t: TestContext,
  tag: string,
  fakeArgs: string[] = [],
  busOpts: { onlyRoot?: boolean; maxMatchRules?: number } = {},
): Promise<Setup> {
  const bus = await startPrivateBus(busOpts);
  const lab = new Lab(tag);
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rdbus-'));
  // Sticky like /tmp: nobody (the permission tests) may create its own state dir here, but no one
  // can replace another user's, which the journal's trust check requires.
  chmodSync(dir, 0o1777);
  t.after(async () => {
    await lab.dispose();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const ns = lab.ns('host');
  lab.exec(ns, 'ip', ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p']);
  lab.exec(ns, 'ip', ['tuntap', 'add', 'dev', 'clat0', 'mode', 'tun']);
  lab.exec(ns, 'ip', ['tuntap', 'add', 'dev', 'clatm', 'mode', 'tun']);
  for (const l of ['up0', 'up0p', 'clat0', 'clatm']) lab.exec(ns, 'ip', ['link', 'set', l, 'up']);
  await startFake(lab, ns, bus, ['--seed', JSON.stringify(SEED), ...fakeArgs]);
  const stateDir = join(dir, 'state');
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, RESOLV_BEFORE, { mode: 0o666 });
  return { bus, lab, ns, dir, stateDir, resolvConf };
}

/** Starts the driver's hook in the namespace and waits for its first line. */
async function hook(
  s: Setup,
  iface = 'clat0',
  asUser?: number,
): Promise<{ child: ChildProcess; first: Record<string, unknown>; rest: () => string }> {
  // A resolv.conf of the test's own: should detection ever say "no resolved", the fallback
  // writes there, never to a real one.
  const argv = [process.execPath, DRIVER, 'hook', iface, '192.0.0.4', s.stateDir, 'up0', s.resolvConf];
  const cmd =
    asUser === undefined
      ? argv
      : ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', ...argv];
  const child = s.lab.spawn(s.ns, cmd[0], cmd.slice(1), { env: s.bus.env });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('the hook', () => out.includes('\n') || child.exitCode !== null);
  assert.ok(out.includes('\n'), `driver printed nothing: ${err}`);
  return {
    child,
    first: JSON.parse(out.split('\n')[0]) as Record<string, unknown>,
    rest: () => out.split('\n').slice(1).join('\n'),
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

const OURS: Omit<LinkDump, 'ifindex'> = {
  dns: ['192.0.0.4#53'],
  domains: ['~.'],
  defaultRoute: true,
  llmnr: 'no',
  mdns: 'no',
  // The stub's synthesized answers cannot validate, and it speaks plain DNS only.
  dnssec: 'no',
  dnsOverTls: 'no',
};
const UPLINK_BEFORE = {
  dns: ['2001:db8:1::1#0', 'fe80::1#0', '192.0.2.53#5353'],
  domains: ['corp.example'],
};

function withoutIndex(l: LinkDump | undefined): Omit<LinkDump, 'ifindex'> | undefined {
  if (!l) return undefined;
  const { ifindex: _ifindex, ...rest } = l;
  return rest;
}

/** Runs fn with a ResolvedBus on the private bus, as another program (NetworkManager) would. */
async function otherClient<T>(bus: PrivateBus, fn: (rb: ResolvedBus) => Promise<T>): Promise<T> {
  const old = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  try {
    const rb = await ResolvedBus.connect();
    try {
      return await fn(rb);
    } finally {
      rb.close();
    }
  } finally {
    if (old === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = old;
  }
}

test('resolved over D-Bus: learn the uplink from its Link object, hook our link, visible in resolved, stop reverts', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  const s = await setup(t, 'rdb');

  // Learning: DNSEx of up0 (port 0 means 53, link-local servers get the link as scope), Domains.
  const viaBus = spawnSync('ip', ['netns', 'exec', s.ns, process.execPath, DRIVER, 'learn', 'up0'], {
    env: s.bus.env,
    encoding: 'utf8',
  });
  assert.equal(viaBus.status, 0, viaBus.stderr);
  const got = JSON.parse(viaBus.stdout) as { upstreams: unknown; domains: unknown; source: string };
  assert.deepEqual(got.upstreams, [
    { address: '2001:db8:1::1', port: 53 },
    { address: 'fe80::1%up0', port: 53 },
    { address: '192.0.2.53', port: 5353 },
  ]);
  assert.deepEqual(got.domains, [{ name: 'corp.example', routeOnly: false }]);
  assert.match(got.source, /^systemd-resolved, link up0 \(ifindex \d+\)$/);

  const h = await hook(s);
  assert.deepEqual((h.first.hooked as { how: string }).how, 'systemd-resolved');
  assert.equal(h.first.journal, 1, 'one journal entry covers the hook');
  assert.match(
    String((h.first.log as string[])[0]),
    /every DNS name now goes to 192\.0\.0\.4 .* through clat0 .*routing domain ~\., default route yes.*up0 is not changed/,
  );

  let d = await dump(s.bus);
  assert.deepEqual(withoutIndex(d.links.clat0), OURS);
  assert.deepEqual(
    { dns: d.links.up0.dns, domains: d.links.up0.domains },
    UPLINK_BEFORE,
    'the uplink is not touched',
  );
  // Domains and default route before the server (RESOLVED-VPNS.md "Ordering"), all as root.
  const sets = d.calls.filter((c) => c.ifname === 'clat0' && c.member !== 'GetLink').map((c) => c.member);
  assert.deepEqual(sets, HOOK_CALLS);
  assert.ok(d.calls.every((c) => c.uid === 0 && !c.error));

  // The same state, read through resolved's own API from outside the namespace.
  const cfg = await otherClient(s.bus, (rb) => rb.linkConfig(d.links.clat0.ifindex));
  assert.deepEqual(
    cfg.servers.map((x) => `${x.address}:${x.port}`),
    ['192.0.0.4:53'],
  );
  assert.deepEqual(cfg.domains, [{ name: '.', routeOnly: true }]);
  assert.equal(cfg.defaultRoute, true);

  h.child.kill('SIGTERM');
  assert.equal(await exited(h.child), 0);
  assert.match(
    h.rest(),
    /"undone":\[\{"what":"systemd-resolved: DNS 192\.0\.0\.4 with routing domain ~\. on clat0[^"]*","ok":true\}\]/,
  );
  d = await dump(s.bus);
  assert.equal(d.links.clat0, undefined, 'stop reverted our link');
  assert.equal(d.calls.at(-1)?.member, 'RevertLink');
  assert.equal(d.calls.at(-1)?.ifname, 'clat0');
  assert.deepEqual({ dns: d.links.up0.dns, domains: d.links.up0.domains }, UPLINK_BEFORE);
  assert.equal(existsSync(join(s.stateDir, 'journal.json')), false);
});

test('resolved over D-Bus: kill -9 after hooking; `clatbar run --cleanup` and the next `clatbar run` revert through the journal', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  const s = await setup(t, 'rdk');

  // 1. Crash, then --cleanup.
  let h = await hook(s);
  h.child.kill('SIGKILL');
  await exited(h.child);
  let d = await dump(s.bus);
  assert.deepEqual(
    withoutIndex(d.links.clat0),
    OURS,
    'a crash leaves the settings (clat0 is persistent here)',
  );
  const left = JSON.parse(readFileSync(join(s.stateDir, 'journal.json'), 'utf8')) as {
    entries: { undo: { argv: string[] } }[];
  };
  assert.equal(left.entries.length, 1);
  assert.ok(left.entries[0].undo.argv.some((a) => a.endsWith('resolved-undo.js')));
  assert.deepEqual(left.entries[0].undo.argv.slice(-2), ['--bus', s.bus.address], 'the bus is journaled too');

  const cleanup = spawnSync(
    'ip',
    ['netns', 'exec', s.ns, process.execPath, CLATBAR, 'run', '--cleanup', '--state-dir', s.stateDir],
    { env: s.bus.env, encoding: 'utf8' },
  );
  assert.equal(cleanup.status, 0, cleanup.stdout + cleanup.stderr);
  assert.match(cleanup.stdout, /undone: systemd-resolved: DNS 192\.0\.0\.4 with routing domain ~\. on clat0/);
  d = await dump(s.bus);
  assert.equal(d.links.clat0, undefined, '--cleanup reverted our link');
  assert.equal(d.calls.at(-1)?.member, 'RevertLink');

  // 2. Crash, then the next start: `clatbar run` recovers before anything else. Its bring-up then
  // refuses here (no IPv6 default route in this namespace), which changes nothing.
  h = await hook(s);
  h.child.kill('SIGKILL');
  await exited(h.child);
  assert.deepEqual(withoutIndex((await dump(s.bus)).links.clat0), OURS);
  const start = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      s.ns,
      process.execPath,
      CLATBAR,
      'run',
      '--uplink',
      'up0',
      '--prefix',
      '64:ff9b::/96',
      '--dns64',
      'off',
      '--tun',
      'clatx',
      '--state-dir',
      s.stateDir,
      '--control-socket',
      join(s.dir, 'engine.sock'),
    ],
    { env: s.bus.env, encoding: 'utf8', timeout: 60000 },
  );
  const out = start.stdout + start.stderr;
  assert.match(out, /recovering: undoing 1 change\(s\) left by pid \d+/, out);
  assert.match(out, /undone: systemd-resolved: DNS 192\.0\.0\.4/, out);
  d = await dump(s.bus);
  assert.equal(d.links.clat0, undefined, 'the next start reverted our link');
  assert.deepEqual({ dns: d.links.up0.dns, domains: d.links.up0.domains }, UPLINK_BEFORE);
});

test('resolved over D-Bus refuses: not root (polkit), a networkd-managed link, a call failing half-way: the fix is named, nothing is left changed', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip', 'setpriv'] })) return;
  const s = await setup(t, 'rdr', ['--managed', 'clatm']);

  // Not root: resolved asks polkit, which says no.
  const nobody = await hook(s, 'clat0', 65534);
  assert.equal(await exited(nobody.child), 3);
  const e1 = String(nobody.first.error);
  assert.match(e1, /systemd-resolved refused SetLinkDomains ~\. on clat0 .*Access denied/);
  assert.match(e1, /run the engine as root.*org\.freedesktop\.resolve1\.set-dns-servers/);
  assert.match(e1, /DNS is left as it was: nothing was changed/);
  assert.equal(nobody.first.journal, 0);
  let d = await dump(s.bus);
  assert.equal(d.links.clat0, undefined);
  assert.ok(d.calls.some((c) => c.uid === 65534 && c.error === 'org.freedesktop.DBus.Error.AccessDenied'));

  // A link systemd-networkd manages: resolved answers LinkBusy.
  rmSync(s.stateDir, { recursive: true, force: true });
  const busy = await hook(s, 'clatm');
  assert.equal(await exited(busy.child), 3);
  assert.match(
    String(busy.first.error),
    /Link clatm is managed.*systemd-networkd manages clatm.*Unmanaged=yes/,
  );
  assert.equal(busy.first.journal, 0);
  d = await dump(s.bus);
  assert.equal(d.links.clatm, undefined);
});

test('the system bus refuses the connection (its policy lets only root in): the fix is named, nothing is changed, resolv.conf not rewritten', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip', 'setpriv'] })) return;
  const s = await setup(t, 'rdp', [], { onlyRoot: true });
  const h = await hook(s, 'clat0', 65534);
  assert.equal(await exited(h.child), 3);
  assert.match(
    String(h.first.error),
    /the system bus \(unix:path=[^)]*\) refused us \(uid 65534\) while asking whether systemd-resolved runs: .*run the engine as root/,
  );
  assert.equal(h.first.journal, 0);
  assert.equal(
    readFileSync(s.resolvConf, 'utf8'),
    RESOLV_BEFORE,
    'a bus that turns us away is not "no resolved"',
  );
  const d = await dump(s.bus);
  assert.equal(d.links.clat0, undefined);
  assert.ok(
    d.calls.every((c) => c.uid === 0),
    'nobody never got through to resolved',
  );
});

test('resolved over D-Bus: the last call fails after six succeeded: all reverted at once, journal empty', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  const s = await setup(t, 'rdf', ['--fail', 'SetLinkDNSEx']);
  const h = await hook(s);
  assert.equal(await exited(h.child), 3);
  const e = String(h.first.error);
  assert.match(e, /refused SetLinkDNSEx 192\.0\.0\.4 on clat0 .*injected failure/);
  assert.match(e, /the 6 setting\(s\) made before were reverted \(RevertLink\)/);
  assert.equal(h.first.journal, 0);
  const d = await dump(s.bus);
  assert.equal(
    d.links.clat0,
    undefined,
    'domains/default route/LLMNR/mDNS/DNSSEC/DoT set before the failure are gone',
  );
  assert.deepEqual(
    d.calls.filter((c) => c.ifname === 'clat0' && c.member !== 'GetLink').map((c) => c.member),
    [...HOOK_CALLS, 'RevertLink'],
  );
});

test('resolved over D-Bus: when another program resets our link (NetworkManager does), the settings are put back, five times a minute at most', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  const s = await setup(t, 'rdw');
  const h = await hook(s);
  const ifindex = (await dump(s.bus)).links.clat0.ifindex;
  const lines = (): { log?: string }[] =>
    h
      .rest()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { log?: string });
  const putBack = (): number => lines().filter((l) => /were gone .*set again/.test(l.log ?? '')).length;

  // RevertLink, and an empty server list (what a manager pushes for a link it thinks has no DNS).
  const resets: ((rb: ResolvedBus) => Promise<void>)[] = [
    (rb) => rb.revertLink(ifindex),
    (rb) => rb.setLinkDns(ifindex, []),
  ];
  for (let i = 0; i < 5; i++) {
    await otherClient(s.bus, resets[i % 2]);
    await waitFor(`put back #${i + 1}`, () => putBack() === i + 1);
    assert.deepEqual(withoutIndex((await dump(s.bus)).links.clat0), OURS, `after reset #${i + 1}`);
  }
  assert.match(
    String(lines()[0].log),
    /our settings on clat0 were gone \(resolved's DNS changed\); set again/,
  );

  // The sixth within a minute: someone keeps resetting; stop fighting, and say what to do.
  await otherClient(s.bus, (rb) => rb.revertLink(ifindex));
  await waitFor('giving up', () => lines().some((l) => /no longer putting them back/.test(l.log ?? '')));
  assert.match(
    String(lines().at(-1)?.log),
    /reset 5 times within a minute; no longer putting them back.*unmanaged-devices=interface-name:clat0/,
  );
  assert.equal((await dump(s.bus)).links.clat0, undefined);

  h.child.kill('SIGTERM');
  assert.equal(await exited(h.child), 0);
  assert.match(h.rest(), /"undone":\[\{"what":"systemd-resolved: [^"]*","ok":true\}\]/);
});

test('resolved over D-Bus: stopping while a call waits for resolved leaves no timer keeping the process alive', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  // The fake answers property reads only after 3 s: the keeper's first check of our link (right
  // after hooking) is still waiting when the driver is told to stop.
  const s = await setup(t, 'rds', ['--slow', 'GetAll']);
  const h = await hook(s);
  assert.equal((h.first.hooked as { how: string }).how, 'systemd-resolved');
  h.child.kill('SIGTERM');
  assert.equal(await exited(h.child), 0);
  const last = JSON.parse(h.rest().trim().split('\n').at(-1) ?? '{}') as {
    undone?: unknown;
    timers?: number;
  };
  assert.ok(last.undone, h.rest());
  assert.equal(last.timers, 0, `a call's timeout outlived the closed connection: ${h.rest()}`);
  assert.equal((await dump(s.bus)).links.clat0, undefined, 'reverted');
});

test('resolved over D-Bus: a bus that refuses the change subscription (AddMatch) costs the watch, not the hook', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  // dbus-daemon's max_match_rules_per_connection 0: every AddMatch fails with LimitsExceeded.
  const s = await setup(t, 'rdm', [], { maxMatchRules: 0 });
  const h = await hook(s);
  assert.equal(h.first.error, undefined, JSON.stringify(h.first));
  assert.equal((h.first.hooked as { how: string }).how, 'systemd-resolved');
  assert.match(
    (h.first.log as string[]).join('\n'),
    /cannot watch for changes to clat0's settings \(.*LimitsExceeded.*\); they are set, but if another program resets them/,
  );
  assert.deepEqual(withoutIndex((await dump(s.bus)).links.clat0), OURS);
  h.child.kill('SIGTERM');
  assert.equal(await exited(h.child), 0);
  assert.match(h.rest(), /"undone":\[\{"what":"systemd-resolved: [^"]*","ok":true\}\]/);
  assert.equal((await dump(s.bus)).links.clat0, undefined, 'reverted');
});

test('resolved over D-Bus: a resolved without SetLinkDNSOverTLS (before systemd 239) is hooked all the same', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'ip'] })) return;
  const s = await setup(t, 'rdo', ['--absent', 'SetLinkDNSOverTLS']);
  const h = await hook(s);
  assert.equal(h.first.error, undefined, JSON.stringify(h.first));
  assert.deepEqual(withoutIndex((await dump(s.bus)).links.clat0), { ...OURS, dnsOverTls: '' });
  h.child.kill('SIGTERM');
  assert.equal(await exited(h.child), 0);
  assert.equal((await dump(s.bus)).links.clat0, undefined, 'reverted');
});

test('resolved absent (no owner of its name, or no system bus at all): the resolv.conf path is used', async (t) => {
  if (!requires(t, { binaries: ['dbus-daemon'] })) return;
  const bus = await startPrivateBus();
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rdabs-'));
  const old = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  t.after(async () => {
    if (old === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = old;
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const resolvConf = join(dir, 'resolv.conf');
  const original = 'nameserver 2001:db8::53\nsearch example\n';
  for (const address of [bus.address, `unix:path=${join(dir, 'no-such-socket')}`]) {
    process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
    writeFileSync(resolvConf, original);
    assert.equal(await resolvedOnBus(), false, address);
    const learned = await learnUplinkResolvers({ iface: 'lo', resolvConfPath: resolvConf });
    assert.deepEqual(learned.upstreams, [{ address: '2001:db8::53', port: 53 }]);
    assert.equal(learned.source, resolvConf);
    const journal = Journal.create(join(dir, 'state'), { restorable: [resolvConf] });
    const hooked = await hookSystemResolver({
      journal,
      address: '127.0.0.1',
      iface: 'lo',
      resolvConfPath: resolvConf,
    });
    assert.equal(hooked.how, 'resolv.conf');
    assert.match(readFileSync(resolvConf, 'utf8'), /^nameserver 127\.0\.0\.1$/m);
    await journal.undoAll();
    assert.equal(readFileSync(resolvConf, 'utf8'), original);
  }
});

/** An AAAA query sent the way resolved sends to a per-link server: socket bound to the link. */
const RESOLVED_LIKE_QUERY = `
import socket, struct, sys
ifname, server, name = sys.argv[1], sys.argv[2], sys.argv[3]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 50, struct.pack('!I', idx))   # IP_UNICAST_IF (big-endian)
s.setsockopt(socket.SOL_SOCKET, 62, struct.pack('i', idx))     # SO_BINDTOIFINDEX
s.settimeout(5)
q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + bytes(1) + struct.pack('!HH', 28, 1)
s.sendto(q, (server, 53))
r = s.recv(4096)
rcode, an = r[3] & 15, struct.unpack('!H', r[6:8])[0]
aaaa = socket.inet_ntop(socket.AF_INET6, r[-16:]) if an else '-'
print('rcode', rcode, 'answers', an, aaaa)
`;

test('clatbar run --dns64 on with resolved (fake) on the bus: upstreams from the uplink Link object, hooked on the TUN, reverted on SIGTERM; resolv.conf untouched', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['dbus-daemon', 'tayga', 'unbound', 'dig', 'curl'] }))
    return;
  const bus = await startPrivateBus();
  const cl = await buildClatLab('rde');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rde-'));
  t.after(async () => {
    await cl.dispose();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await startServers(cl, {});
  const { lab, laptop } = cl;
  await startRouterResolver(cl, dir);

  // resolved knows the router's resolver on the uplink; resolv.conf names one that does not
  // answer, so a working stub proves the upstream came over D-Bus.
  await startFake(lab, laptop, bus, [
    '--seed',
    JSON.stringify({ [cl.uplink]: { dns: [['2001:db8:1::1', 0, '']], domains: [] } }),
  ]);
  const original = 'nameserver 127.0.0.53\noptions edns0 trust-ad\n';
  const { etc, prefix: inPrivateEtc } = privateEtc(dir, original);

  const stateDir = join(dir, 'state');
  const run = lab.spawn(
    laptop,
    'sh',
    [
      '-c',
      `${inPrivateEtc} ${process.execPath} ${CLATBAR} run --uplink ${cl.uplink} --prefix ${PREFIX} --dns64 on --state-dir ${stateDir} --control-socket ${stateDir}/engine.sock`,
    ],
    { env: bus.env },
  );
  let out = '';
  run.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    'DNS64 to start',
    () => /DNS64 \(on\) on|DNS64 stub not started/.test(out) || run.exitCode !== null,
    30000,
  );
  assert.match(
    out,
    new RegExp(
      `DNS64 upstreams from systemd-resolved, link ${cl.uplink} \\(ifindex \\d+\\): \\[2001:db8:1::1\\]:53`,
    ),
    out,
  );
  assert.match(out, /DNS64 \(on\) on 192\.0\.0\.4:53, via systemd-resolved/, out);
  assert.match(out, /systemd-resolved: every DNS name now goes to 192\.0\.0\.4 .* through clat0/, out);

  let d = await dump(bus);
  assert.deepEqual(withoutIndex(d.links.clat0), OURS);
  assert.equal(readFileSync(join(etc, 'resolv.conf'), 'utf8'), original, 'resolv.conf is not touched');
  assert.equal(
    nsh(lab, laptop, 'dig +short +time=3 AAAA v4only.example @192.0.0.4').trim(),
    '2001:db8:64::cb00:710a',
  );
  // resolved's own socket for a link's server is bound to that link (IP_UNICAST_IF and
  // SO_BINDTOIFINDEX, resolved-dns-scope.c): such a socket, bound to the TUN, reaches the stub.
  const probe = lab.exec(laptop, 'python3', [
    '-c',
    RESOLVED_LIKE_QUERY,
    'clat0',
    '192.0.0.4',
    'v4only.example',
  ]);
  assert.equal(probe.trim(), 'rcode 0 answers 1 2001:db8:64::cb00:710a');

  run.kill('SIGTERM');
  assert.equal(await exited(run), 0, out);
  d = await dump(bus);
  assert.equal(d.links.clat0, undefined);
  const revert = d.calls.find((c) => c.member === 'RevertLink');
  assert.ok(revert && revert.ifname === 'clat0' && !revert.error, 'reverted while the TUN still existed');
  assert.match(out, /undone: systemd-resolved: DNS 192\.0\.0\.4 with routing domain ~\. on clat0/);
  assert.equal(readFileSync(join(etc, 'resolv.conf'), 'utf8'), original);
});
