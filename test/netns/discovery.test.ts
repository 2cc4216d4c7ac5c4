// `clatbar run --uplink up0` without --prefix: the NAT64 prefix comes from the network. The lab
// router announces PREF64 (RFC 8781) in its RAs as each test says, and runs Unbound twice: as
// the network's DNS64 (dns64-prefix 2001:db8:64::/96; ipv4only.arpa synthesized, RFC 7050) on
// 2001:db8:1::1, and as a plain resolver on 2001:db8:1::2. A second TAYGA on the router is the
// NAT64 for 2001:db8:65::/96, so a switch of prefix is proven by pings still getting through.
//
// The engine runs with a private /etc bind-mounted over /etc (as in clat-dns64.test.ts): its
// resolv.conf names the resolver the test wants it to learn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  writeFileSync,
  copyFileSync,
  existsSync,
  rmSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  hostState,
  nsh,
  waitFor,
  CLATBAR,
  PREFIX,
  SERVER_V4,
  type ClatLab,
  startIpv4OnlyArpaResolver as startUnbound,
} from '../helpers/clat-lab.js';
import { callControl } from '../../src-main/engine/control/client.js';
import { toEngineStatus } from '../../src-main/app/engine-client.js';

const PREFIX_B = '2001:db8:65::/96';
const DNS64 = '2001:db8:1::1';
const PLAIN_DNS = '2001:db8:1::2';

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await gone;
}

/** A second NAT64 on the router: TAYGA for PREFIX_B with its own pool (192.0.2.0/24). */
function startSecondNat64(cl: ClatLab, dir: string): void {
  const conf = join(dir, 'tayga-b.conf');
  const data = join(dir, 'tayga-b');
  mkdirSync(data);
  writeFileSync(
    conf,
    [
      'tun-device nat64b',
      'ipv4-addr 192.0.2.1',
      `prefix ${PREFIX_B}`,
      'dynamic-pool 192.0.2.0/24',
      `data-dir ${data}`,
      '',
    ].join('\n'),
  );
  const { lab, router } = cl;
  lab.exec(router, 'tayga', ['--mktun', '--config', conf]);
  lab.exec(router, 'ip', ['link', 'set', 'nat64b', 'up']);
  lab.exec(router, 'ip', ['route', 'add', '192.0.2.0/24', 'dev', 'nat64b']);
  lab.exec(router, 'ip', ['-6', 'route', 'add', PREFIX_B, 'dev', 'nat64b']);
  const t = lab.spawn(router, 'tayga', ['-d', '--config', conf]);
  t.stdout?.resume();
  t.stderr?.resume();
}

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  sock: string;
}

/** `clatbar run --uplink up0 ARGS` on the laptop, with resolv.conf naming `resolver`. */
function startRun(
  t: { after(fn: () => unknown): void },
  cl: ClatLab,
  dir: string,
  name: string,
  resolver: string,
  args: string[] = [],
  env = '',
): Run {
  const base = join(dir, name);
  const etc = join(base, 'etc');
  mkdirSync(etc, { recursive: true });
  for (const f of ['hosts', 'nsswitch.conf', 'passwd', 'group'])
    if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
  writeFileSync(join(etc, 'resolv.conf'), `nameserver ${resolver}\n`);
  const stateDir = join(base, 'state');
  const sock = join(stateDir, 'engine.sock');
  const child = cl.lab.spawn(cl.laptop, 'sh', [
    '-c',
    `mount --bind ${etc} /etc && ${env} exec ${process.execPath} ${CLATBAR} run --uplink ${cl.uplink} ` +
      `--state-dir ${stateDir} --control-socket ${sock} ${args.join(' ')}`,
  ]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  // A failed assertion must not leave this engine running into the next subtest.
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  return { child, out: () => out, exited, sock };
}

/** Waits until the engine's log matches re; the log is in the failure message. */
async function until(run: Run, what: string, re: RegExp, ms = 15000): Promise<void> {
  try {
    await waitFor(what, () => re.test(run.out()), ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the engine said:\n${run.out()}`);
  }
}

async function up(run: Run): Promise<void> {
  await waitFor(
    'the CLAT to come up (or give up)',
    () => /status: clatbar status/.test(run.out()) || run.child.exitCode !== null,
    30000,
  );
  assert.match(run.out(), /CLAT is up/, run.out());
}

async function status(run: Run): Promise<Record<string, unknown>> {
  return (await callControl(run.sock, 'status')) as Record<string, unknown>;
}

function ping(cl: ClatLab): string {
  return nsh(cl.lab, cl.laptop, `ping -c 2 -i 0.2 -W 3 ${SERVER_V4} 2>&1; true`);
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.out());
}

test('NAT64 prefix discovery: PREF64, ipv4only.arpa, precedence, changes while running, none', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound', 'dig', 'ping'] })) return;
  // Unsolicited RAs only every 300 s: a PREF64 within the few seconds discovery waits can only
  // have come as the answer to its Router Solicitation.
  const cl = await buildClatLab('dy', { ra: { pref64: [], interval: 1 } });
  t.after(() => cl.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-discovery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cl.lab.exec(cl.router, 'ip', ['addr', 'add', `${PLAIN_DNS}/64`, 'dev', 'r0', 'nodad']);
  let dns64 = await startUnbound(cl, dir, DNS64, PREFIX);
  await startUnbound(cl, dir, PLAIN_DNS, null);
  startSecondNat64(cl, dir);
  await waitFor(
    'both resolvers',
    () =>
      nsh(cl.lab, cl.router, 'ss -lun').includes(`[${DNS64}]:53`) &&
      nsh(cl.lab, cl.router, 'ss -lun').includes(`[${PLAIN_DNS}]:53`),
  );
  // The lab's resolvers behave as the tests assume.
  assert.equal(
    nsh(cl.lab, cl.laptop, `dig +short +time=3 AAAA ipv4only.arpa @${DNS64} | sort`).trim(),
    '2001:db8:64::c000:aa\n2001:db8:64::c000:ab',
  );
  assert.equal(nsh(cl.lab, cl.laptop, `dig +short +time=3 AAAA ipv4only.arpa @${PLAIN_DNS}`).trim(), '');
  const before = hostState(cl.lab, cl.laptop);

  await t.test('neither PREF64 nor a DNS64: refuses with the fix, host unchanged', async (st) => {
    cl.setRa({ pref64: [], interval: 300 });
    const run = startRun(st, cl, dir, 'none', PLAIN_DNS);
    const code = await run.exited;
    assert.equal(code, 1, run.out());
    assert.match(
      run.out(),
      /no NAT64 prefix: the network announces none \(no PREF64 in the router advertisements on up0, ipv4only\.arpa not synthesized by \[2001:db8:1::2\]:53\)/,
    );
    assert.match(run.out(), /fix: pass --prefix/);
    assert.doesNotMatch(run.out(), /bring-up failed|DAD/, 'nothing was started');
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
    assert.ok(!existsSync(join(dir, 'none', 'state', 'journal.json')), 'no journal left');
  });

  await t.test('ipv4only.arpa only (RFC 7050): comes up with it, ping works', async (st) => {
    // The RA's only PREF64 has Prefix Length Code 7, which means nothing (RFC 8781 §4): it is
    // ignored and counted, and the RA counts as one without PREF64.
    cl.setRa({ pref64: [], raw: ['2602025f20010db80066000000000000'], interval: 300 });
    // ipv4only.arpa is asked again every second here (10 minutes by default).
    const run = startRun(st, cl, dir, 'rfc7050', DNS64, [], 'CLATBAR_RFC7050_RECHECK_S=1');
    await up(run);
    assert.match(
      run.out(),
      /NAT64 prefix 2001:db8:64::\/96, from ipv4only\.arpa as synthesized by \[2001:db8:1::1\]:53/,
    );
    const s = await status(run);
    assert.equal(s.prefix, PREFIX);
    assert.equal(s.prefixSource, 'ipv4only.arpa');
    const seen = toEngineStatus(s, run.sock, Date.now()).prefix;
    assert.deepEqual(
      { prefix: seen?.prefix, source: seen?.source },
      { prefix: PREFIX, source: 'ipv4only.arpa' },
    );
    const disc = s.discovery as Record<string, number>;
    assert.ok(disc.pref64Ignored >= 1 && disc.rasWithPref64 === 0, JSON.stringify(disc));
    assert.match(run.out(), /PREF64 option from fe80::[0-9a-f:]+ ignored: PLC 7 \(unknown-plc\)/);
    assert.match(ping(cl), / 0% packet loss/);
    const words = spawnSync(process.execPath, [CLATBAR, 'status', '--control-socket', run.sock], {
      encoding: 'utf8',
    });
    assert.match(
      words.stdout,
      /NAT64 prefix +2001:db8:64::\/96, learned by asking the network's DNS for ipv4only\.arpa \(RFC 7050\)/,
    );

    // The network's DNS64 now synthesizes with 2001:db8:65::/96: the next check follows it.
    await stopChild(dns64);
    dns64 = await startUnbound(cl, dir, DNS64, PREFIX_B);
    await until(
      run,
      'the new ipv4only.arpa prefix',
      /NAT64 prefix changed: 2001:db8:64::\/96 \(ipv4only\.arpa\) -> 2001:db8:65::\/96 \(from ipv4only\.arpa/,
    );
    const rxB = () => Number(nsh(cl.lab, cl.router, 'cat /sys/class/net/nat64b/statistics/rx_packets'));
    const viaB = rxB();
    assert.match(ping(cl), / 0% packet loss/);
    assert.ok(rxB() > viaB, 'the pings went through the NAT64 for 2001:db8:65::/96');
    await stopChild(dns64);
    dns64 = await startUnbound(cl, dir, DNS64, PREFIX);
    await stop(run);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test('--prefix beats PREF64', async (st) => {
    cl.setRa({ pref64: [{ prefix: PREFIX_B, lifetime: 600 }], interval: 300 });
    const run = startRun(st, cl, dir, 'configured', DNS64, ['--prefix', PREFIX]);
    await up(run);
    assert.doesNotMatch(run.out(), /looking for the NAT64 prefix/);
    await until(
      run,
      'the note about the PREF64 prefix',
      /the network announces the NAT64 prefix 2001:db8:65::\/96 in PREF64 \(router fe80::[0-9a-f:]+\); using --prefix 2001:db8:64::\/96 as told/,
    );
    const s = await status(run);
    assert.equal(s.prefix, PREFIX);
    assert.equal(s.prefixSource, 'configured');
    await stop(run);
  });

  await t.test('PREF64 beats ipv4only.arpa; a change and a withdrawal while running follow', async (st) => {
    // PREF64 says 2001:db8:65::/96, the DNS64 synthesizes with 2001:db8:64::/96.
    cl.setRa({ pref64: [{ prefix: PREFIX_B, lifetime: 600 }], interval: 300 });
    const run = startRun(st, cl, dir, 'pref64', DNS64, ['--dns64', 'on']);
    await up(run);
    await until(run, 'the DNS64 stub', /DNS64 \(on\) on|DNS64 stub not started/);
    assert.match(
      run.out(),
      /NAT64 prefix 2001:db8:65::\/96, from PREF64 in router advertisements from fe80::[0-9a-f:]+ \(RFC 8781\), lifetime 600 s/,
    );
    let s = await status(run);
    assert.equal(s.prefix, PREFIX_B);
    assert.equal(s.prefixSource, 'pref64');
    assert.equal(s.prefixLifetime, 600);
    // The tray app reads the same status (shared/ipc.ts PrefixSource).
    // The app also learns when the PREF64 lifetime runs out (it counts it down).
    const seen = toEngineStatus(s, run.sock, Date.now()).prefix;
    assert.deepEqual({ prefix: seen?.prefix, source: seen?.source }, { prefix: PREFIX_B, source: 'pref64' });
    assert.ok((seen?.expiresAt ?? 0) > Date.now(), JSON.stringify(seen));
    const disc = s.discovery as Record<string, number>;
    assert.ok(disc.solicitations >= 1, JSON.stringify(disc));
    assert.ok(disc.rasWithPref64 >= 1, JSON.stringify(disc));
    const rxB = () => Number(nsh(cl.lab, cl.router, 'cat /sys/class/net/nat64b/statistics/rx_packets'));
    const viaB = rxB();
    assert.match(ping(cl), / 0% packet loss/);
    assert.ok(rxB() > viaB, 'the pings went through the NAT64 for 2001:db8:65::/96');
    // The stub answers ipv4only.arpa itself from its prefix (RFC 8880 §7.2).
    const own = () =>
      nsh(cl.lab, cl.laptop, 'dig +short +time=3 AAAA ipv4only.arpa @192.0.0.4 | sort').trim();
    assert.equal(own(), '2001:db8:65::c000:aa\n2001:db8:65::c000:ab');

    // The router renumbers its NAT64: the next RA carries the new PREF64.
    cl.setRa({ pref64: [{ prefix: PREFIX, lifetime: 600 }], interval: 300 });
    await until(
      run,
      'the prefix change',
      /NAT64 prefix changed: 2001:db8:65::\/96 \(pref64\) -> 2001:db8:64::\/96 \(from PREF64/,
    );
    s = await status(run);
    assert.equal(s.prefix, PREFIX);
    assert.equal(s.prefixSource, 'pref64');
    assert.match(run.out(), /NAT64 prefix now 2001:db8:64::\/96; cache flushed/);
    assert.equal(own(), '2001:db8:64::c000:aa\n2001:db8:64::c000:ab');
    const rxA = () => Number(nsh(cl.lab, cl.router, 'cat /sys/class/net/nat64/statistics/rx_packets'));
    const viaA = rxA();
    assert.match(ping(cl), / 0% packet loss/);
    assert.ok(rxA() > viaA, 'the pings went through the NAT64 for 2001:db8:64::/96');

    // Withdrawn (lifetime 0, RFC 8781 §4) with nothing in its place: ipv4only.arpa takes over.
    // The old 2001:db8:65::/96 is not revived although its 600 s have not run out: the RA that
    // brought the new prefix replaced the router's earlier set.
    cl.setRa({ pref64: [{ prefix: PREFIX, lifetime: 0 }], interval: 300 });
    await until(run, 'the withdrawal', /withdrew the NAT64 prefix 2001:db8:64::\/96/);
    await until(run, 'the fallback', /-> 2001:db8:64::\/96 \(from ipv4only\.arpa/);
    s = await status(run);
    assert.equal(s.prefixSource, 'ipv4only.arpa');
    assert.equal(s.prefix, PREFIX);
    assert.match(ping(cl), / 0% packet loss/);

    // A PREF64 again: it wins over ipv4only.arpa once more.
    cl.setRa({ pref64: [{ prefix: PREFIX_B, lifetime: 600 }], interval: 300 });
    await until(
      run,
      'PREF64 again',
      /2001:db8:64::\/96 \(ipv4only\.arpa\) -> 2001:db8:65::\/96 \(from PREF64/,
    );
    assert.equal((await status(run)).prefix, PREFIX_B);
    await stop(run);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
    assert.ok(!readFileSync(join(dir, 'pref64', 'etc', 'resolv.conf'), 'utf8').includes('192.0.0.4'));
  });

  await t.test('a PREF64 lifetime that runs out is honoured', async (st) => {
    // 8 s (scaled lifetime 1), never refreshed: unsolicited RAs are 300 s apart and the next
    // solicitation-triggered one carries no PREF64.
    cl.setRa({ pref64: [{ prefix: PREFIX_B, lifetime: 8 }], interval: 300 });
    const run = startRun(st, cl, dir, 'expiry', PLAIN_DNS);
    await up(run);
    assert.equal((await status(run)).prefixSource, 'pref64');
    cl.setRa({ pref64: [], interval: 300 });
    await until(run, 'the expiry', /2001:db8:65::\/96 from fe80::[0-9a-f:]+ expired/, 30000);
    await until(run, 'no prefix', /is gone and nothing replaces it/);
    const s = await status(run);
    assert.equal(s.prefix, '');
    // What the network said, in its own words (the resolver answered without synthesis).
    assert.match(
      String(s.prefixProblem),
      /went away and the network announces no other \(no PREF64 in the router advertisements on up0, ipv4only\.arpa not synthesized by \[2001:db8:1::2\]:53\)/,
    );
    assert.match(ping(cl), /100% packet loss/, `nothing is translated without a prefix:\n${run.out()}`);
    const after = (await status(run)).counters as Record<string, number>;
    assert.ok(after['drop.dst-untranslatable'] > 0, JSON.stringify(after));
    await stop(run);
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
  });

  await t.test(
    'RAs that RFC 4861 §6.1.2 discards (hop limit not 255, a global source) change nothing',
    async (st) => {
      cl.setRa({ pref64: [{ prefix: PREFIX, lifetime: 600 }], interval: 300 });
      const run = startRun(st, cl, dir, 'invalid-ra', PLAIN_DNS);
      await up(run);
      let s = await status(run);
      assert.equal(s.prefix, PREFIX);
      const disc = (): Record<string, number> => s.discovery as Record<string, number>;
      const poll = (what: string, done: () => boolean) =>
        waitFor(what, () => {
          void status(run)
            .then((x) => (s = x))
            .catch(() => {});
          return done();
        });
      // From here the lab router's own RAs carry no PREF64 (one goes out now): any that comes
      // during the test leaves the PREF64 counters alone.
      const first = disc().ras;
      cl.setRa({ pref64: [], interval: 300 });
      await poll('the RA without PREF64', () => disc().ras > first);
      const before = { ...disc() };
      // From the router, in this order: PREF64 2001:db8:65::/96 with hop limit 64 (forwarded, or
      // from off the link), the same with hop limit 255 from the router's global address, then a
      // valid RA whose only PREF64 has PLC 7 (ignored and counted: the marker that the two before
      // it have been read).
      const send = [
        'import socket, struct',
        "idx = socket.if_nametoindex('r0')",
        'def ra(hops, src, plc):',
        '    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)',
        '    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)',
        '    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)',
        '    if src: s.bind((src, 0, 0, 0))',
        "    m = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 600, 0, 0)",
        "    m += struct.pack('!BBH', 38, 2, (75 << 3) | plc) + socket.inet_pton(socket.AF_INET6, '2001:db8:65::')[:12]",
        "    s.sendto(m, ('ff02::1', 0, 0, idx))",
        'ra(64, None, 0)',
        `ra(255, '${DNS64}', 0)`,
        'ra(255, None, 7)',
      ].join('\n');
      cl.lab.exec(cl.router, '/usr/bin/python3', ['-c', send]);
      await poll('the valid RA', () => disc().pref64Ignored > before.pref64Ignored);
      const after = disc();
      assert.equal(
        after.rasWithPref64,
        before.rasWithPref64,
        `invalid RAs were read: ${JSON.stringify(after)}`,
      );
      assert.equal(s.prefix, PREFIX, "the invalid RAs' PREF64 was not taken");
      assert.doesNotMatch(run.out(), /NAT64 prefix changed/);
      await stop(run);
    },
  );

  await t.test('SIGINT during the discovery wait: stops at once, nothing brought up or left', async (st) => {
    // The router is silent (its RA sender stopped): discovery waits its full few seconds for a
    // PREF64 although ipv4only.arpa answered at once. Without a way out it would then bring the
    // whole CLAT up only to tear it down again.
    cl.raSender.kill('SIGSTOP');
    st.after(() => cl.raSender.kill('SIGCONT'));
    const run = startRun(st, cl, dir, 'sigint', DNS64);
    await until(run, 'discovery to start', /looking for the NAT64 prefix/);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0, run.out());
    assert.match(run.out(), /SIGINT received/);
    assert.match(run.out(), /stopped while looking for the NAT64 prefix; nothing was changed/);
    assert.doesNotMatch(run.out(), /DAD|CLAT is up|bring-up/, 'nothing was brought up');
    assert.deepEqual(hostState(cl.lab, cl.laptop), before);
    assert.ok(!existsSync(join(dir, 'sigint', 'state', 'journal.json')), 'no journal left');
  });
});
