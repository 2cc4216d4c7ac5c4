// The DNS64 against a real unbound serving test/fixtures/dns64/zone.conf: each case asserts
// the exact answer RFC 6147 requires. Section numbers are RFC 6147's unless named otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import net from 'node:net';
import packet from 'dns-packet';
import { requires } from '../helpers/env.js';
import { Dns64Server, type Dns64Options } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { ask, failingAuthority, records, silentResolver, startUnbound } from './helpers.js';
import { unboundPerFile } from './per-file-unbound.js';

const PREFIX = '2001:db8:64::/96';
let auth: { port: number; close(): void } | null = null;
const upstream = unboundPerFile(async () => {
  auth = await failingAuthority();
  return {
    extra: ['local-zone: "broken.dns64.example." transparent'],
    tail: `stub-zone:\n  name: "broken.dns64.example."\n  stub-addr: 127.0.0.1@${auth.port}\n`,
  };
});
after(() => auth?.close());

async function dns64(
  t: TestContext,
  o: Partial<Dns64Options> = {},
): Promise<{ port: number; server: Dns64Server } | null> {
  if (!requires(t, { binaries: ['unbound'] })) return null;
  const server = await upstream.dns64({ prefix: parsePref64(PREFIX), timeoutMs: 300, ...o });
  return { port: server.boundAddresses()[0].port, server };
}

test('§5.1.6/§5.1.7: an A-only name gets one AAAA per A, in order, TTL min(A TTL, SOA negative TTL)', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const r = await ask(d, 'a-only.dns64.example', 'AAAA');
  assert.equal(r.msg.rcode, 'NOERROR');
  // A TTL 300, the AAAA reply's SOA: min(TTL, MINIMUM) = 60.
  assert.deepEqual(records(r.msg), [
    ['a-only.dns64.example', 'AAAA', 60, '2001:db8:64::c000:201'],
    ['a-only.dns64.example', 'AAAA', 60, '2001:db8:64::c000:202'],
  ]);
  assert.equal(r.msg.flag_ad, false, '§5.5: no AD on synthesized data');
  const short = await ask(d, 'a-short.dns64.example', 'AAAA');
  assert.deepEqual(records(short.msg), [['a-short.dns64.example', 'AAAA', 30, '2001:db8:64::c000:203']]);
  assert.equal(d.server.stats.synthesized, 2);
});

test('§5.1.1: real AAAA records win, for AAAA-only and mixed names', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  assert.deepEqual(records((await ask(d, 'aaaa-only.dns64.example', 'AAAA')).msg), [
    ['aaaa-only.dns64.example', 'AAAA', 300, '2001:db8:1::1'],
  ]);
  assert.deepEqual(records((await ask(d, 'mixed.dns64.example', 'AAAA')).msg), [
    ['mixed.dns64.example', 'AAAA', 300, '2001:db8:1::2'],
  ]);
  // §5.3.3: other types pass unchanged, A included.
  assert.deepEqual(records((await ask(d, 'mixed.dns64.example', 'A')).msg), [
    ['mixed.dns64.example', 'A', 300, '192.0.2.4'],
  ]);
  assert.equal(d.server.stats.synthesized, 0);
});

test('§5.1.5: a CNAME chain to an A-only name is kept, the AAAA owned by the A record owner', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const r = await ask(d, 'cname.dns64.example', 'AAAA');
  assert.deepEqual(records(r.msg), [
    ['cname.dns64.example', 'CNAME', 120, 'cname2.dns64.example'],
    ['cname2.dns64.example', 'CNAME', 120, 'a-only.dns64.example'],
    ['a-only.dns64.example', 'AAAA', 60, '2001:db8:64::c000:201'],
    ['a-only.dns64.example', 'AAAA', 60, '2001:db8:64::c000:202'],
  ]);
});

test('§5.1.2: NXDOMAIN passes through with its SOA; §5.1.6: NODATA for both stays NODATA', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const nx = await ask(d, 'nothere.dns64.example', 'AAAA');
  assert.equal(nx.msg.rcode, 'NXDOMAIN');
  assert.deepEqual(records(nx.msg), []);
  assert.deepEqual(
    records(nx.msg, 'authorities').map((r) => r.slice(0, 2)),
    [['dns64.example', 'SOA']],
  );
  const nd = await ask(d, 'nodata.dns64.example', 'AAAA');
  assert.equal(nd.msg.rcode, 'NOERROR');
  assert.deepEqual(records(nd.msg), []);
  assert.deepEqual(
    records(nd.msg, 'authorities').map((r) => r.slice(0, 2)),
    [['dns64.example', 'SOA']],
  );
});

test('§5.1.2: SERVFAIL for AAAA leads to the A query; SERVFAIL for both is the answer', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const r = await ask(d, 'aaaa-fails.broken.dns64.example', 'AAAA');
  assert.equal(r.msg.rcode, 'NOERROR');
  // No SOA came with the failed AAAA reply: TTL = min(A TTL 300, 600).
  assert.deepEqual(records(r.msg), [
    ['aaaa-fails.broken.dns64.example', 'AAAA', 300, '2001:db8:64::c000:207'],
  ]);
  const both = await ask(d, 'x.broken.dns64.example', 'AAAA');
  assert.equal(both.msg.rcode, 'SERVFAIL');
  assert.deepEqual(records(both.msg), []);
});

test('§5.1.3: a silent upstream times out, the next one answers; with none left, SERVFAIL', async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  const silent = await silentResolver();
  t.after(() => silent.close());
  const d = await dns64(t, {
    upstreams: [
      { address: '127.0.0.1', port: silent.port },
      { address: '127.0.0.1', port: upstream.unbound!.port },
    ],
  });
  if (!d) return;
  const r = await ask(d, 'a-only.dns64.example', 'AAAA');
  assert.equal(records(r.msg).length, 2);
  assert.ok(silent.received() >= 1, 'the silent resolver was asked first');
  assert.ok(d.server.stats.upstream.timeouts >= 1);
  const lonely = await dns64(t, { upstreams: [{ address: '127.0.0.1', port: silent.port }], attempts: 2 });
  if (!lonely) return;
  const f = await ask(lonely, 'a-only.dns64.example', 'AAAA');
  assert.equal(f.msg.rcode, 'SERVFAIL');
});

test('answers too big for UDP: TCP retry upstream, TC to small clients, full answer over TCP', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const udp = await ask(d, 'big.dns64.example', 'AAAA');
  assert.equal(udp.msg.flag_tc, true, 'RFC 1035 §4.2.1: TC set for a 512-byte client');
  assert.deepEqual(records(udp.msg), []);
  assert.ok(d.server.stats.upstream.tcpRetries >= 1, 'unbound truncated the A reply; we retried over TCP');
  const tcp = await ask(d, 'big.dns64.example', 'AAAA', { tcp: true });
  assert.equal(tcp.msg.flag_tc, false);
  const got = records(tcp.msg);
  assert.equal(got.length, 100);
  got.forEach((r, i) =>
    assert.deepEqual(r, [
      'big.dns64.example',
      'AAAA',
      60,
      `2001:db8:64::c633:64${(i + 1).toString(16).padStart(2, '0')}`,
    ]),
  );
  // RFC 6891 §7: an EDNS client gets as much as it says it takes.
  const edns = await ask(d, 'big.dns64.example', 'AAAA', { edns: 65000 });
  assert.equal(records(edns.msg).length, 100);
  const small = await ask(d, 'big.dns64.example', 'AAAA', { edns: 1232 });
  assert.equal(small.msg.flag_tc, true);
  assert.ok(small.wire.length <= 1232);
  // A passed-through answer too big for UDP.
  const txt = await ask(d, 'bigtxt.dns64.example', 'TXT', { tcp: true });
  assert.equal(records(txt.msg).length, 1);
  assert.equal((txt.msg.answers?.[0] as { data: Buffer[] }).data.length, 8);
});

test('§5.3.1: PTR under the prefix is a CNAME to in-addr.arpa plus its answer', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const name = '1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.4.6.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
  const r = await ask(d, name, 'PTR');
  assert.equal(r.msg.rcode, 'NOERROR');
  assert.deepEqual(records(r.msg), [
    [name, 'CNAME', 600, '33.2.0.192.in-addr.arpa'],
    ['33.2.0.192.in-addr.arpa', 'PTR', 300, 'rfc6052.dns64.example'],
  ]);
  // An address outside the prefix is not ours to answer: it goes upstream unchanged.
  const outside = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
  const other = await ask(d, outside, 'PTR');
  const direct = await ask(upstream.unbound!, outside, 'PTR');
  assert.equal(other.msg.rcode, direct.msg.rcode);
  assert.deepEqual(records(other.msg), records(direct.msg));
  assert.deepEqual(records(other.msg, 'authorities'), records(direct.msg, 'authorities'));
  // No PTR data for the embedded address: NXDOMAIN from the in-addr.arpa zone passes through.
  const nx = await ask(d, name.replace(/^1\.2\./, '2.2.'), 'PTR');
  assert.equal(nx.msg.rcode, 'NXDOMAIN');
  assert.equal(records(nx.msg)[0][1], 'CNAME');
});

test('RFC 8880 §7.2: ipv4only.arpa AAAA is answered locally from our prefix', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const sent = d.server.stats.upstream.sent;
  const r = await ask(d, 'ipv4only.arpa', 'AAAA');
  assert.deepEqual(records(r.msg), [
    ['ipv4only.arpa', 'AAAA', 600, '2001:db8:64::c000:aa'],
    ['ipv4only.arpa', 'AAAA', 600, '2001:db8:64::c000:ab'],
  ]);
  assert.equal(d.server.stats.upstream.sent, sent, 'no upstream was asked');
});

test('§5.1.4: ::ffff:0:0/96 AAAA records are excluded; partly excluded sets are filtered', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  assert.deepEqual(records((await ask(d, 'excluded.dns64.example', 'AAAA')).msg), [
    ['excluded.dns64.example', 'AAAA', 300, '2001:db8:64::c000:209'],
  ]);
  assert.deepEqual(records((await ask(d, 'part-excluded.dns64.example', 'AAAA')).msg), [
    ['part-excluded.dns64.example', 'AAAA', 300, '2001:db8:1::10'],
  ]);
});

test('§5.2 / RFC 6052 §2.4: synthesis at every prefix length', async (t) => {
  const table: Array<[string, string]> = [
    ['2001:db8::/32', '2001:db8:c000:221::'],
    ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
    ['2001:db8:122::/48', '2001:db8:122:c000:2:2100:0'],
    ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221:0:0'],
    ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
    ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
  ];
  for (const [pfx, addr] of table) {
    const d = await dns64(t, { prefix: parsePref64(pfx) });
    if (!d) return;
    const r = await ask(d, 'rfc6052.dns64.example', 'AAAA');
    // dns-packet prints addresses its own way; compare as 16 bytes.
    const got = (r.msg.answers ?? []).map((a) => (a as { data: string }).data);
    assert.equal(got.length, 1, pfx);
    assert.equal(Buffer.compare(v6(got[0]), v6(addr)), 0, `${pfx}: ${got[0]} != ${addr}`);
    // PTR back from that address finds the IPv4 name.
    const ptr = await ask(d, ip6arpa(v6(addr)), 'PTR');
    assert.equal(records(ptr.msg)[1]?.[3], 'rfc6052.dns64.example', pfx);
  }
});

test('RFC 6052 §3.1: the Well-Known Prefix is not used for non-global IPv4', async (t) => {
  const d = await dns64(t, { prefix: parsePref64('64:ff9b::/96') });
  if (!d) return;
  const r = await ask(d, 'a-only.dns64.example', 'AAAA');
  assert.equal(r.msg.rcode, 'NOERROR');
  assert.deepEqual(records(r.msg), [], '192.0.2.0/24 is documentation space, not global');
  assert.deepEqual(
    records((await ask(d, 'ipv4only.arpa', 'AAAA')).msg).map((x) => x[3]),
    ['64:ff9b::c000:aa', '64:ff9b::c000:ab'],
  );
});

test('§5.5: CD=1 gets the real (empty) answer; DO=1 synthesis never sets AD', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const cd = await ask(d, 'a-only.dns64.example', 'AAAA', { cd: true, edns: 1232, dnssecOk: true });
  assert.equal(cd.msg.rcode, 'NOERROR');
  assert.deepEqual(records(cd.msg), []);
  assert.equal(cd.msg.flag_cd, true);
  const dok = await ask(d, 'a-only.dns64.example', 'AAAA', { edns: 1232, dnssecOk: true });
  assert.equal(records(dok.msg).length, 2);
  assert.equal(dok.msg.flag_ad, false);
});

test('EDNS0 and the question: OPT only for EDNS clients, the client spelling kept', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const plain = await ask(d, 'A-Only.DNS64.example', 'AAAA');
  assert.equal(plain.msg.questions?.[0].name, 'A-Only.DNS64.example');
  assert.equal((plain.msg.additionals ?? []).filter((a) => a.type === 'OPT').length, 0);
  const e = await ask(d, 'a-only.DNS64.example', 'AAAA', { edns: 4096 });
  const opt = (e.msg.additionals ?? []).filter((a) => a.type === 'OPT') as Array<{ udpPayloadSize: number }>;
  assert.equal(opt.length, 1);
  assert.equal(opt[0].udpPayloadSize, 1232);
  assert.equal(e.msg.questions?.[0].name, 'a-only.DNS64.example');
});

test('cache: hits served with aged TTLs, flushed when the prefix changes; identical queries coalesced', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const first = await ask(d, 'a-only.dns64.example', 'AAAA');
  const sent = d.server.stats.upstream.sent;
  const again = await ask(d, 'a-only.dns64.example', 'AAAA');
  assert.equal(d.server.stats.upstream.sent, sent, 'the second answer came from the cache');
  assert.equal(d.server.stats.cacheHits, 1);
  assert.ok(records(again.msg)[0][2] <= records(first.msg)[0][2]);
  d.server.setPrefix(parsePref64('2001:db8:6464::/96'));
  const moved = await ask(d, 'a-only.dns64.example', 'AAAA');
  assert.equal(records(moved.msg)[0][3], '2001:db8:6464::c000:201');
  // 20 identical questions at once cost the upstream queries of one.
  let before = d.server.stats.upstream.sent;
  await ask(d, 'cname.dns64.example', 'AAAA');
  const one = d.server.stats.upstream.sent - before;
  d.server.flush();
  before = d.server.stats.upstream.sent;
  const all = await Promise.all(Array.from({ length: 20 }, () => ask(d, 'cname.dns64.example', 'AAAA')));
  for (const r of all) assert.equal(records(r.msg).length, 4);
  assert.equal(d.server.stats.upstream.sent - before, one);
  assert.equal(d.server.stats.coalesced, 19);
});

test('mode auto: upstreams that already do DNS64 are passed through', async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  const upstream64 = await startUnbound({
    zones: false,
    refuseRoot: false,
    extra: [
      'module-config: "dns64 iterator"',
      'dns64-prefix: 2001:db8:6464::/96',
      'local-zone: "dns64.example." nodefault',
      'local-zone: "ipv4only.arpa." nodefault',
      'local-zone: "2.0.192.in-addr.arpa." nodefault',
    ],
    tail: `forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@${upstream.unbound!.port}\n`,
  });
  t.after(() => upstream64.stop());
  const d = await dns64(t, { mode: 'auto', upstreams: [{ address: '127.0.0.1', port: upstream64.port }] });
  if (!d) return;
  assert.equal(await d.server.probe(), true);
  assert.equal(d.server.synthesizing, false);
  assert.deepEqual(
    records((await ask(d, 'a-only.dns64.example', 'AAAA')).msg).map((r) => r[3]),
    ['2001:db8:6464::c000:201', '2001:db8:6464::c000:202'],
  );
  assert.deepEqual(
    records((await ask(d, 'ipv4only.arpa', 'AAAA')).msg).map((r) => r[3]),
    ['2001:db8:6464::c000:aa', '2001:db8:6464::c000:ab'],
  );
  assert.equal(d.server.stats.synthesized, 0);
  // The same mode with a plain upstream synthesizes.
  const plain = await dns64(t, { mode: 'auto' });
  if (!plain) return;
  assert.equal(await plain.server.probe(), false);
  assert.equal(
    records((await ask(plain, 'a-only.dns64.example', 'AAAA')).msg)[0][3],
    '2001:db8:64::c000:201',
  );
});

test('malformed queries: FORMERR when the header is readable, nothing when it is not', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const { rawExchange } = await import('./helpers.js');
  // Header claims one question, none follows.
  const q = Buffer.from('1234010000010000000000000', 'hex').subarray(0, 12);
  const r = await rawExchange(d, q, false, 2000);
  assert.equal(r.readUInt16BE(0), 0x1234);
  assert.equal(r[3] & 0xf, 1, 'FORMERR');
  // A compression pointer in the question.
  const p = Buffer.from('123401000001000000000000c00c00010001', 'hex');
  assert.equal((await rawExchange(d, p, true, 2000))[3] & 0xf, 1);
  // EDNS version 1: BADVERS (RFC 6891 §6.1.3).
  const bad = Buffer.from('1234010000010000000000010161000001000100002904d0000100000000', 'hex');
  const bv = await rawExchange(d, bad, false, 2000);
  assert.equal(bv[3] & 0xf, 0);
  assert.equal(bv[bv.length - 6], 1, 'extended RCODE 1 = BADVERS');
  const dropped = d.server.stats.dropped;
  await rawExchange(d, Buffer.from('1234', 'hex'), false, 200).catch(() => null);
  assert.equal(d.server.stats.dropped, dropped + 1);
});

function v6(text: string): Buffer {
  const [head, tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = text.includes('::')
    ? [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl]
    : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function ip6arpa(b: Buffer): string {
  const n: string[] = [];
  for (let i = 15; i >= 0; i--) n.push((b[i] & 15).toString(16), (b[i] >> 4).toString(16));
  return `${n.join('.')}.ip6.arpa`;
}

test('stop() with resolutions in flight ends them quietly', async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  const silent = await silentResolver();
  t.after(() => silent.close());
  const d = await dns64(t, { upstreams: [{ address: '127.0.0.1', port: silent.port }], timeoutMs: 2000 });
  if (!d) return;
  const pending = ask(d, 'a-only.dns64.example', 'AAAA', { timeoutMs: 1000 }).catch((e: Error) => e);
  const tcp = ask(d, 'a-only.dns64.example', 'A', { tcp: true, timeoutMs: 1000 }).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(silent.received() >= 1);
  await d.server.stop();
  // No answer comes (the sockets are gone), and nothing throws in the background.
  assert.ok((await pending) instanceof Error);
  assert.ok((await tcp) instanceof Error);
  await new Promise((r) => setTimeout(r, 200));
});

test('RFC 7766 §6.2.1.1: pipelined TCP queries on one connection are all answered', async (t) => {
  const d = await dns64(t);
  if (!d) return;
  const names = ['a-only', 'aaaa-only', 'cname', 'nothere', 'mixed'].map((n) => `${n}.dns64.example`);
  const frames = names.map((name, i) => {
    const q = packet.encode({
      type: 'query',
      id: 100 + i,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: 'AAAA', name, class: 'IN' }],
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    return Buffer.concat([len, q]);
  });
  const got = await new Promise<Map<number, packet.Packet>>((resolve, reject) => {
    const byId = new Map<number, packet.Packet>();
    const s = net.connect({ host: '127.0.0.1', port: d.port }, () => s.write(Buffer.concat(frames)));
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        byId.set(m.id ?? -1, m);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (byId.size === names.length) {
        s.destroy();
        resolve(byId);
      }
    });
    s.on('error', reject);
  });
  names.forEach((name, i) => assert.equal(got.get(100 + i)?.questions?.[0].name, name));
  assert.equal((got.get(103) as { rcode?: string }).rcode, 'NXDOMAIN');
});
