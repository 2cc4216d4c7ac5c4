// PrefixMonitor (engine/discovery/monitor.ts) fed RAs from a stand-in RA socket and, for
// ipv4only.arpa, a real DNS server on the loopback: which prefix it uses with several routers,
// what a withdrawal or a resolver error does, and that close() leaves nothing that keeps the
// process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setImmediate as tick } from 'node:timers/promises';
import { PrefixMonitor, type RaSource } from '../../src-main/engine/discovery/monitor.js';

const ROUTER_A = 'fe80::a';
const ROUTER_B = 'fe80::b';
const P1 = '2001:db8:64::/96';
const P2 = '2001:db8:65::/96';

/** An RA (RFC 4861 §4.2) with PREF64 options (RFC 8781 §4) for /96 prefixes 2001:db8:XX::. */
function advert(...prefs: { third: number; lifetime: number }[]): Uint8Array {
  const head = [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
  const opts = prefs.flatMap(({ third, lifetime }) => {
    const v = (Math.ceil(lifetime / 8) << 3) | 0;
    return [38, 2, v >> 8, v & 0xff, 0x20, 0x01, 0x0d, 0xb8, 0, third, 0, 0, 0, 0, 0, 0];
  });
  return Uint8Array.from([...head, ...opts]);
}
const p1 = (lifetime = 600) => ({ third: 0x64, lifetime });
const p2 = (lifetime = 600) => ({ third: 0x65, lifetime });

class FakeRa implements RaSource {
  private cb: ((m: { source: string; payload: Uint8Array }) => void) | null = null;
  closed = false;
  onMessage(cb: (m: { source: string; payload: Uint8Array }) => void): void {
    this.cb = cb;
  }
  onError(): void {}
  solicit(): void {}
  close(): void {
    this.closed = true;
  }
  send(source: string, payload: Uint8Array): void {
    this.cb?.({ source, payload });
  }
}

/** holdMs 0: these tests are about which prefix is chosen; flap damping has its own below. */
function monitorWith(ra: FakeRa, log: string[] = [], holdMs = 0): PrefixMonitor {
  return new PrefixMonitor({
    uplink: 'up0',
    resolvers: [],
    openRa: () => ra,
    log: (l) => log.push(l.text),
    waitMs: 50,
    holdMs,
  });
}

test('two routers announcing different prefixes: the one in use stays, no switch with every RA', () => {
  const ra = new FakeRa();
  const m = monitorWith(ra);
  const changes: string[] = [];
  m.onChange((next) => changes.push(next?.prefix ?? 'none'));
  ra.send(ROUTER_A, advert(p1()));
  ra.send(ROUTER_B, advert(p2()));
  ra.send(ROUTER_A, advert(p1()));
  ra.send(ROUTER_B, advert(p2()));
  assert.equal(m.current?.prefix, P1);
  assert.deepEqual(changes, [P1], 'one change, not one per RA');
  // Router A withdraws its prefix: router B's takes over.
  ra.send(ROUTER_A, advert(p1(0)));
  assert.equal(m.current?.prefix, P2);
  assert.equal(m.current?.from, ROUTER_B);
  m.close();
});

test('two routers announcing the same prefix: one withdrawing it leaves the other announcement', () => {
  const ra = new FakeRa();
  const log: string[] = [];
  const m = monitorWith(ra, log);
  const changes: string[] = [];
  m.onChange((next) => changes.push(next?.prefix ?? 'none'));
  ra.send(ROUTER_A, advert(p1()));
  ra.send(ROUTER_B, advert(p1()));
  ra.send(ROUTER_A, advert(p1(0)));
  assert.equal(m.current?.prefix, P1, 'router B still announces it');
  assert.equal(m.current?.source, 'pref64');
  assert.deepEqual(changes, [P1]);
  assert.ok(
    log.some((l) => /router fe80::a withdrew the NAT64 prefix 2001:db8:64::\/96/.test(l)),
    log.join('\n'),
  );
  ra.send(ROUTER_B, advert(p1(0)));
  assert.equal(m.current, null, 'withdrawn by both');
  m.close();
});

test('a router that renumbers (new prefix only) is followed with its next RA', () => {
  const ra = new FakeRa();
  const m = monitorWith(ra);
  ra.send(ROUTER_A, advert(p1()));
  ra.send(ROUTER_A, advert(p1(), p2()));
  assert.equal(m.current?.prefix, P1, 'graceful renumbering: the old one is kept while announced');
  ra.send(ROUTER_A, advert(p2()));
  assert.equal(m.current?.prefix, P2);
  m.close();
});

test('initial() after close() resolves with null, not with the prefix (a SIGINT during the wait)', async () => {
  const ra = new FakeRa();
  const m = new PrefixMonitor({
    uplink: 'up0',
    resolvers: [],
    openRa: () => ra,
    log: () => {},
    waitMs: 60_000,
  });
  // A PREF64 arrives, then the monitor is closed before anyone asked: nobody wants it any more.
  ra.send(ROUTER_A, advert(p1()));
  m.close();
  assert.equal(await m.initial(), null);
  assert.ok(ra.closed);
});

/** A DNS server on 127.0.0.1 that answers each query with what next() says (null: silence). */
/** A DNS64 on the loopback; its synthesized records carry `ttl` seconds (default 3600). */
async function dnsServer(next: (n: number) => 'synth' | 'servfail' | 'nxdomain' | null, ttl = 3600) {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', (q, rinfo) => {
    const what = next(n++);
    if (what === null) return;
    // Header: same ID, QR|RD|RA, rcode; the question copied; AAAA answers for synth.
    const qEnd = 12 + q.subarray(12).indexOf(0) + 1 + 4;
    const question = q.subarray(12, qEnd);
    const rcode = what === 'servfail' ? 2 : what === 'nxdomain' ? 3 : 0;
    const answers: Buffer[] = [];
    if (what === 'synth')
      for (const last of [0xaa, 0xab])
        answers.push(
          Buffer.from([
            0xc0,
            0x0c,
            0,
            28,
            0,
            1,
            (ttl >>> 24) & 0xff,
            (ttl >>> 16) & 0xff,
            (ttl >>> 8) & 0xff,
            ttl & 0xff,
            0,
            16,
            0x20,
            0x01,
            0x0d,
            0xb8,
            0,
            0x64,
            0,
            0,
            0,
            0,
            0,
            0,
            192,
            0,
            0,
            last,
          ]),
        );
    const head = Buffer.from([q[0], q[1], 0x81, 0x80 | rcode, 0, 1, 0, answers.length, 0, 0, 0, 0]);
    s.send(Buffer.concat([head, question, ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, count: () => n, close: () => s.close() };
}

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('ipv4only.arpa: a SERVFAIL later does not take away the prefix; an NXDOMAIN does', async (t) => {
  const script: ('synth' | 'servfail' | 'nxdomain')[] = ['synth', 'servfail', 'servfail', 'nxdomain'];
  const dns = await dnsServer((n) => script[Math.min(n, script.length - 1)]);
  t.after(() => dns.close());
  const m = new PrefixMonitor({
    uplink: 'up0',
    resolvers: [{ address: '127.0.0.1', port: dns.port }],
    openRa: () => null,
    log: () => {},
    waitMs: 5000,
    recheckMs: 20,
    holdMs: 0,
  });
  t.after(() => m.close());
  const first = await m.initial();
  assert.equal(first?.prefix, P1);
  assert.equal(first?.source, 'ipv4only.arpa');
  // Which answer each change came with: the SERVFAILs (the resolver is unwell, not one that
  // stopped synthesizing) change nothing; the NXDOMAIN, the fourth answer, takes it away.
  const changes: { to: string | null; answers: number }[] = [];
  m.onChange((next) => changes.push({ to: next?.prefix ?? null, answers: dns.count() }));
  await until('the NXDOMAIN', () => m.current === null);
  assert.deepEqual(changes, [{ to: null, answers: 4 }]);
});

test('ipv4only.arpa is asked again when its TTL runs out (RFC 7050 §3), not before', async (t) => {
  const dns = await dnsServer(() => 'synth', 1);
  const longer = await dnsServer(() => 'synth', 3600);
  t.after(() => {
    dns.close();
    longer.close();
  });
  const monitor = (port: number) =>
    new PrefixMonitor({
      uplink: 'up0',
      resolvers: [{ address: '127.0.0.1', port }],
      openRa: () => null,
      log: () => {},
      waitMs: 5000,
      minRecheckMs: 0,
    });
  const short = monitor(dns.port);
  const long = monitor(longer.port);
  t.after(() => {
    short.close();
    long.close();
  });
  assert.equal((await short.initial())?.prefix, P1);
  assert.equal((await long.initial())?.prefix, P1);
  const t0 = Date.now();
  await until('the second query after the 1 s TTL', () => dns.count() >= 2);
  assert.ok(Date.now() - t0 >= 800, `asked again after ${Date.now() - t0} ms, before the TTL ran out`);
  // The one with an hour's TTL is not asked again meanwhile.
  assert.equal(longer.count(), 1);
});

test('close() during an ipv4only.arpa query leaves no timer or socket behind', async (t) => {
  const dns = await dnsServer(() => null); // never answers
  t.after(() => dns.close());
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const m = new PrefixMonitor({
    uplink: 'up0',
    resolvers: [{ address: '127.0.0.1', port: dns.port }],
    openRa: () => null,
    log: () => {},
    waitMs: 60_000,
    dnsTimeoutMs: 60_000,
  });
  const started = m.initial();
  await until('the query to reach the server', () => dns.count() >= 1);
  m.close();
  assert.equal(await started, null);
  await tick();
  const left = process.getActiveResourcesInfo();
  assert.equal(left.filter((r) => r === 'Timeout').length, before, JSON.stringify(left));
  assert.ok(
    !left.includes('UDPWrap') || left.filter((r) => r === 'UDPWrap').length === 1,
    JSON.stringify(left),
  );
});

test('a flood of RAs from made-up routers: the log and the table stay bounded, the prefix in use stays', () => {
  const ra = new FakeRa();
  const log: string[] = [];
  const m = monitorWith(ra, log);
  ra.send(ROUTER_A, advert(p1()));
  for (let i = 1; i <= 1000; i++) {
    const router = `fe80::1:${i.toString(16)}`;
    // Bad PLC (logged as a problem), then a PREF64 of its own (an entry in the table).
    const bad = advert(p2());
    bad[19] |= 7;
    ra.send(router, bad);
    const own = advert({ third: 0x70, lifetime: 600 });
    own[25] = i & 0xff;
    own[24] = i >> 8;
    ra.send(router, own);
  }
  assert.ok(log.length <= 102, `${log.length} log lines`);
  assert.match(log.at(-1) ?? '', /more than 100 different discovery problems; further ones are only counted/);
  // The table is private; its size is the point here.
  const table = (m as unknown as { table: Map<string, unknown> }).table;
  assert.ok(table.size <= 32, `${table.size} entries`);
  assert.equal(m.current?.prefix, P1);
  assert.equal(m.stats.pref64Ignored, 1000, 'every bad option is still counted');
  m.close();
});

test('an RA with router lifetime 0 (not a default router) still brings its PREF64', () => {
  // RFC 4861 §6.3.4: router lifetime 0 only says "not a default router"; the RA's other
  // information stays valid, and the PREF64 names the network's NAT64, not a route via this router.
  const ra = new FakeRa();
  const m = monitorWith(ra);
  const msg = advert(p2());
  msg[6] = 0;
  msg[7] = 0;
  ra.send(ROUTER_B, msg);
  assert.equal(m.current?.prefix, P2);
  assert.equal(m.current?.source, 'pref64');
  m.close();
});

test('a router flapping between prefixes with every RA is followed ever more slowly (flap damping); a renumbering later at once', (t) => {
  // The monitor's clock (Date.now, setTimeout) is the test's: a thousand RAs a second for a
  // minute, deterministically.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const ra = new FakeRa();
  const m = monitorWith(ra, [], 1000);
  t.after(() => m.close());
  const changes: { at: number; to: string }[] = [];
  m.onChange((next) => changes.push({ at: Date.now() - 1_000_000, to: next?.prefix ?? 'none' }));
  ra.send(ROUTER_A, advert(p1()));
  assert.equal(m.current?.prefix, P1, 'the first prefix at once');
  for (let ms = 1; ms <= 60_000; ms++) {
    t.mock.timers.tick(1);
    ra.send(ROUTER_A, advert(ms % 2 ? p2() : p1()));
  }
  // Not 60 000 switches: at once, then after 1, 2, 4, 8, 16 s of hold (waits 1+2+4+8+16+32 > 60 s).
  // Not 60 000 switches: followed, but each after twice the wait of the one before (1 s, 2 s,
  // 4 s, ...): a handful in the minute.
  assert.ok(changes.length >= 4 && changes.length <= 7, JSON.stringify(changes));
  for (let i = 1; i + 1 < changes.length; i++)
    assert.ok(changes[i + 1].at - changes[i].at >= 1000 * 2 ** i, JSON.stringify(changes));
  // The flapping stops on P2: followed when the hold ends, at the latest 64 s later.
  ra.send(ROUTER_A, advert(p2()));
  t.mock.timers.tick(64_000);
  assert.equal(m.current?.prefix, P2);
  // After quiet (twice the hold), a renumbering is followed at once again.
  t.mock.timers.tick(200_000);
  ra.send(ROUTER_A, advert(p1()));
  assert.equal(m.current?.prefix, P1);
});

test('a router announcing and withdrawing its PREF64 with every RA is damped too; a PREF64 where there was none is taken at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const ra = new FakeRa();
  const m = monitorWith(ra, [], 1000);
  t.after(() => m.close());
  let changes = 0;
  m.onChange(() => changes++);
  for (let ms = 0; ms < 60_000; ms++) {
    ra.send(ROUTER_A, advert(p1(ms % 2 ? 0 : 600)));
    t.mock.timers.tick(1);
  }
  // Each withdrawal waits for a hold twice the last; each announcement after it comes at once.
  assert.ok(changes >= 6 && changes <= 14, `${changes} changes`);
});
