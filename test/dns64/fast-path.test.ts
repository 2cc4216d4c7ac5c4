// Cache hits answered inside the native UDP socket (AnswerTable in native/src/udp_linux.cc) must
// be byte for byte what the JS hit path (server.ts handle() → respond()) sends. One server, one
// cache: each query goes out with the fast path on and then off, and the two replies are
// compared whole (ID, flags, the client's spelling, TTLs, OPT, TC), at two ages of the cache so
// the TTL countdown is covered; the counters must move the same way on both paths; flushes,
// evictions and expiry must reach the native copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import packet from 'dns-packet';
import { inCI, requires } from '../helpers/env.js';
import { type Dns64Options, type Dns64Server, type Dns64Stats } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { batchUdpUnavailable } from '../../src-main/engine/native/batch-socket.js';
import { prng, rawExchange } from './helpers.js';
import { unboundPerFile } from './per-file-unbound.js';

const upstream = unboundPerFile();

function usable(t: Parameters<typeof requires>[0]): boolean {
  if (!requires(t, { binaries: ['unbound'] })) return false;
  const why = batchUdpUnavailable();
  if (why) {
    if (inCI) throw new Error(why);
    t.skip(why);
    return false;
  }
  return true;
}

function start(extra: Partial<Dns64Options> = {}): Promise<Dns64Server> {
  return upstream.dns64({
    listen: [
      { address: '127.0.0.1', port: 0 },
      { address: '::1', port: 0 },
    ],
    udpFastPath: true,
    ...extra,
  });
}

interface Q {
  what: string;
  name: string;
  type: number;
  rd?: boolean;
  cd?: boolean;
  /** Other header bits set in the query (AA, AD, Z): the reply must not depend on them. */
  extraFlags?: number;
  opcode?: number;
  edns?: { size: number; dnssecOk?: boolean; version?: number; options?: Buffer };
  /** Bytes after the question and OPT (a malformed or unusual shape). */
  trailer?: Buffer;
  /** An additional record after the OPT (ARCOUNT 2). */
  extraAdditional?: boolean;
  /** Whether the native table may answer it (false: it must reach JS). */
  fast: boolean;
}

const T = { A: 1, AAAA: 28, TXT: 16, OPT: 41, ANY: 255 };

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])),
    Buffer.from([0]),
  ]);
}

function build(q: Q, id: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  let flags = (q.opcode ?? 0) << 11;
  if (q.rd ?? true) flags |= 0x0100;
  if (q.cd) flags |= 0x0010;
  flags |= q.extraFlags ?? 0;
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(1, 4);
  const question = Buffer.concat([encodeName(q.name), Buffer.from([q.type >> 8, q.type & 0xff, 0, 1])]);
  const parts: Buffer[] = [h, question];
  let ar = 0;
  if (q.edns) {
    const opts = q.edns.options ?? Buffer.alloc(0);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(T.OPT, 1);
    opt.writeUInt16BE(q.edns.size, 3);
    opt[6] = q.edns.version ?? 0;
    opt.writeUInt16BE(q.edns.dnssecOk ? 0x8000 : 0, 7);
    opt.writeUInt16BE(opts.length, 9);
    parts.push(opt, opts);
    ar++;
  }
  if (q.extraAdditional) {
    // An A record for the root in the additional section: odd, but parseable.
    parts.push(Buffer.from([0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]));
    ar++;
  }
  if (q.trailer) parts.push(q.trailer);
  h.writeUInt16BE(ar, 10);
  return Buffer.concat(parts);
}

/** 0x20-style mixed case. */
function spell(name: string, seed: number): string {
  return [...name].map((ch, i) => ((seed >> (i % 13)) & 1 ? ch.toUpperCase() : ch)).join('');
}

const COOKIE = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]); // RFC 7873 client cookie

const QUERIES: Q[] = [
  { what: 'synthesized AAAA', name: 'a-only.dns64.example', type: T.AAAA, fast: true },
  { what: 'mixed case', name: spell('a-only.dns64.example', 0x1b5d), type: T.AAAA, fast: true },
  { what: 'other mixed case', name: spell('a-only.dns64.example', 0x0a2f), type: T.AAAA, fast: true },
  { what: 'RD=0', name: 'a-only.dns64.example', type: T.AAAA, rd: false, fast: true },
  {
    what: 'AA, AD and Z bits in the query',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    extraFlags: 0x0400 | 0x0020 | 0x0040,
    fast: true,
  },
  { what: 'real AAAA', name: 'mixed.dns64.example', type: T.AAAA, fast: true },
  { what: 'CNAME chain', name: 'CName.dns64.Example', type: T.AAAA, fast: true },
  { what: 'NODATA (SOA TTL)', name: 'nodata.dns64.example', type: T.AAAA, fast: true },
  { what: 'NXDOMAIN', name: 'no-such-name.dns64.example', type: T.AAAA, fast: true },
  { what: 'A', name: 'a-only.dns64.example', type: T.A, fast: true },
  { what: 'TXT', name: 'nodata.dns64.example', type: T.TXT, fast: true },
  { what: 'EDNS 1232', name: 'a-only.dns64.example', type: T.AAAA, edns: { size: 1232 }, fast: true },
  {
    what: 'EDNS below 512 (counts as 512)',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    edns: { size: 100 },
    fast: true,
  },
  {
    what: 'EDNS DO=1',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    edns: { size: 1232, dnssecOk: true },
    fast: true,
  },
  {
    what: 'EDNS DO=1, mixed case',
    name: spell('mixed.dns64.example', 0x2c71),
    type: T.AAAA,
    edns: { size: 4096, dnssecOk: true },
    fast: true,
  },
  { what: 'CD=1', name: 'a-only.dns64.example', type: T.AAAA, cd: true, fast: true },
  {
    what: 'CD=1 with EDNS DO=1',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    cd: true,
    edns: { size: 1232, dnssecOk: true },
    fast: true,
  },
  {
    what: 'EDNS with a cookie option',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    edns: { size: 1232, options: COOKIE },
    fast: true,
  },
  { what: 'big, no EDNS: TC', name: 'big.dns64.example', type: T.AAAA, fast: true },
  {
    what: 'big, EDNS 512: TC with OPT',
    name: 'BIG.dns64.example',
    type: T.AAAA,
    edns: { size: 512 },
    fast: true,
  },
  {
    what: 'big, EDNS 1232: TC with OPT',
    name: 'big.dns64.example',
    type: T.AAAA,
    edns: { size: 1232, dnssecOk: true },
    fast: true,
  },
  {
    what: 'big, EDNS 4096: whole answer',
    name: 'big.dns64.example',
    type: T.AAAA,
    edns: { size: 4096 },
    fast: true,
  },
  { what: 'big A, EDNS 4096', name: 'big.dns64.example', type: T.A, edns: { size: 4096 }, fast: true },
  {
    // 255 bytes on the wire, the most a name may have (RFC 1035 §3.1); NXDOMAIN from upstream.
    what: 'longest name',
    name: `${'a'.repeat(63)}.${'B'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(47)}.dns64.example`,
    type: T.AAAA,
    edns: { size: 1232 },
    fast: true,
  },
  { what: 'ipv4only.arpa (local)', name: 'IPv4only.arpa', type: T.AAAA, fast: true },
  // Shapes the native table leaves to JS (which answers or rejects them).
  {
    what: 'EDNS version 1: BADVERS',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    edns: { size: 1232, version: 1 },
    fast: false,
  },
  { what: 'opcode 2: NOTIMP', name: 'a-only.dns64.example', type: T.AAAA, opcode: 2, fast: false },
  {
    what: 'trailing bytes: FORMERR',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    trailer: Buffer.from([1, 2, 3]),
    fast: false,
  },
  {
    what: 'OPT then another additional (JS full parse, a hit there)',
    name: 'a-only.dns64.example',
    type: T.AAAA,
    edns: { size: 1232 },
    extraAdditional: true,
    fast: false,
  },
];

const COUNTED = [
  'queries',
  'udpQueries',
  'cacheHits',
  'truncated',
  'formerr',
  'dropped',
  'passedThrough',
  'synthesized',
] as const;

function delta(a: Dns64Stats, b: Dns64Stats): Record<string, number> {
  return Object.fromEntries(COUNTED.map((k) => [k, b[k] - a[k]]));
}

/**
 * Sends q with the fast path on, then off; returns both replies and the counter deltas. Retried
 * (at most 3 times) when the two differ, since a whole second of cache age may tick between
 * them; a real difference differs every time.
 */
async function pair(
  server: Dns64Server,
  port: number,
  address: string,
  q: Q,
  id: number,
): Promise<{
  on: Buffer;
  off: Buffer;
  dOn: Record<string, number>;
  dOff: Record<string, number>;
  fastOn: number;
}> {
  let last: Awaited<ReturnType<typeof pair>> | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const wire = build(q, id);
    assert.equal(server.setFastPath(true), true);
    const s0 = server.stats;
    const on = await rawExchange({ port, address }, wire, false, 3000);
    const s1 = server.stats;
    server.setFastPath(false);
    const off = await rawExchange({ port, address }, wire, false, 3000);
    const s2 = server.stats;
    server.setFastPath(true);
    last = {
      on,
      off,
      dOn: delta(s0, s1),
      dOff: delta(s1, s2),
      fastOn: s1.udpFastAnswers - s0.udpFastAnswers,
    };
    if (on.equals(off)) break;
  }
  return last as NonNullable<typeof last>;
}

function ttls(wire: Buffer): number[] {
  const m = packet.decode(wire);
  return [...(m.answers ?? []), ...(m.authorities ?? [])].map((r) => (r as { ttl?: number }).ttl ?? -1);
}

test('native cache hits are byte for byte the JS path, at two cache ages, with the same counters', async (t) => {
  if (!usable(t)) return;
  const server = await start({ cache: { maxTtl: 5 } });
  const ports = server.boundAddresses();
  // Warm the cache through JS (every query once, fast path off).
  server.setFastPath(false);
  for (const [i, q] of QUERIES.entries()) {
    await rawExchange({ port: ports[0].port }, build(q, i), false, 5000);
  }
  const warmed = Date.now();
  const first = new Map<string, Buffer>();
  for (const round of [0, 1]) {
    if (round === 1) await new Promise((r) => setTimeout(r, Math.max(0, warmed + 2200 - Date.now())));
    for (const [ai, address] of ['127.0.0.1', '::1'].entries()) {
      for (const [i, q] of QUERIES.entries()) {
        const id = (round * 4096 + ai * 1024 + i * 7 + 1) & 0xffff;
        const r = await pair(server, ports[ai].port, address, q, id);
        const label = `${q.what} over ${address}, round ${round}`;
        assert.equal(r.on.readUInt16BE(0), id, `${label}: the client's ID`);
        assert.deepEqual(r.on, r.off, `${label}: native and JS replies differ`);
        assert.deepEqual(r.dOn, r.dOff, `${label}: counters moved differently`);
        assert.equal(r.fastOn, q.fast ? 1 : 0, `${label}: answered ${r.fastOn ? 'natively' : 'in JS'}`);
        if (q.fast) assert.equal(r.dOn.cacheHits, 1, `${label}: counted as a cache hit`);
        if (round === 0 && ai === 0) first.set(q.what, r.on);
        if (round === 1 && ai === 0 && q.what === 'synthesized AAAA') {
          // The countdown itself: two seconds later every TTL is two (or three) lower.
          const before0 = ttls(first.get(q.what) as Buffer);
          const now = ttls(r.on);
          assert.equal(now.length, before0.length);
          now.forEach((x, k) =>
            assert.ok(before0[k] - x >= 2 && before0[k] - x <= 3, `TTL ${before0[k]} -> ${x}`),
          );
        }
      }
    }
  }
  // Mixed case comes back as each client spelled it.
  const mixed = packet.decode(first.get('mixed case') as Buffer);
  assert.equal(mixed.questions?.[0].name, spell('a-only.dns64.example', 0x1b5d));
  const tc = packet.decode(first.get('big, no EDNS: TC') as Buffer) as packet.Packet & { flag_tc?: boolean };
  assert.equal(tc.flag_tc, true);
  assert.ok((first.get('big, EDNS 4096: whole answer') as Buffer).length > 1232);

  // Expiry (maxTtl 5 s): the native copy does not answer an expired entry; JS resolves again
  // and the answer carries fresh TTLs.
  await new Promise((r) => setTimeout(r, Math.max(0, warmed + 5300 - Date.now())));
  server.setFastPath(true);
  const before = server.stats;
  const again = await rawExchange({ port: ports[0].port }, build(QUERIES[0], 77), false, 5000);
  assert.equal(server.stats.udpFastAnswers, before.udpFastAnswers, 'expired entry went to JS');
  assert.equal(server.stats.cacheHits, before.cacheHits);
  assert.deepEqual(
    ttls(again),
    ttls(await rawExchange({ port: ports[0].port }, build(QUERIES[0], 78), false, 5000)),
  );
  assert.equal(
    server.stats.udpFastAnswers,
    before.udpFastAnswers + 1,
    'and is answered natively once cached again',
  );
});

test('flush, prefix change and eviction reach the native copy', async (t) => {
  if (!usable(t)) return;
  const server = await start({ cache: { maxEntries: 2 } });
  const port = server.boundAddresses()[0].port;
  const ask = async (name: string, type: number, id: number): Promise<Buffer> =>
    rawExchange({ port }, build({ what: '', name, type, fast: true }, id), false, 5000);
  const fast = (): number => server.stats.udpFastAnswers;

  await ask('a-only.dns64.example', T.AAAA, 1);
  let f = fast();
  await ask('a-only.dns64.example', T.AAAA, 2);
  assert.equal(fast(), f + 1, 'a cached answer is served natively');

  // A new prefix flushes: the next answer comes from JS, under the new prefix.
  server.setPrefix(parsePref64('2001:db8:46::/96'));
  f = fast();
  const r = packet.decode(await ask('a-only.dns64.example', T.AAAA, 3));
  assert.equal(fast(), f, 'nothing stale answered natively after the flush');
  assert.ok(
    r.answers?.every((a) => String((a as { data?: unknown }).data).startsWith('2001:db8:46::')),
    JSON.stringify(r.answers),
  );
  await ask('a-only.dns64.example', T.AAAA, 4);
  assert.equal(fast(), f + 1);

  // Eviction (two entries at most): the oldest goes from both copies.
  await ask('mixed.dns64.example', T.AAAA, 5);
  await ask('nodata.dns64.example', T.AAAA, 6);
  f = fast();
  await ask('a-only.dns64.example', T.AAAA, 7);
  assert.equal(fast(), f, 'an evicted entry is not answered natively');
  await ask('mixed.dns64.example', T.AAAA, 8);
  assert.equal(fast(), f, 'evicted in turn by the re-inserted one');
  await ask('a-only.dns64.example', T.AAAA, 9);
  assert.equal(fast(), f + 1);

  // Upstream change flushes too; stop() leaves nothing behind.
  server.setUpstreams([{ address: '127.0.0.1', port: upstream.unbound!.port }]);
  f = fast();
  await ask('a-only.dns64.example', T.AAAA, 10);
  assert.equal(fast(), f);

  // Off means off: the same cached query goes through JS.
  server.setFastPath(false);
  const hits = server.stats.cacheHits;
  await ask('a-only.dns64.example', T.AAAA, 11);
  assert.equal(fast(), f);
  assert.equal(server.stats.cacheHits, hits + 1);
});

test('CLATBAR_DNS64_FASTPATH=0 and udpFastPath: false keep every answer in JS', async (t) => {
  if (!usable(t)) return;
  const saved = process.env.CLATBAR_DNS64_FASTPATH;
  process.env.CLATBAR_DNS64_FASTPATH = '0';
  let byEnv: Dns64Server;
  try {
    byEnv = await start({ udpFastPath: undefined });
  } finally {
    if (saved === undefined) delete process.env.CLATBAR_DNS64_FASTPATH;
    else process.env.CLATBAR_DNS64_FASTPATH = saved;
  }
  const byOpt = await start({ udpFastPath: false });
  for (const s of [byEnv, byOpt]) {
    const port = s.boundAddresses()[0].port;
    for (let i = 0; i < 3; i++) await rawExchange({ port }, build(QUERIES[0], i), false, 5000);
    assert.equal(s.stats.cacheHits, 2);
    assert.equal(s.stats.udpFastAnswers, 0);
  }
});

const seed = Number(process.env.CLATBAR_FUZZ_SEED ?? Date.now() % 1_000_000);
const rounds = Number(process.env.CLATBAR_FUZZ_ROUNDS ?? 1);

async function exchangeOrNull(port: number, q: Buffer): Promise<Buffer | null> {
  return rawExchange({ port }, q, false, 400).catch(() => null);
}

test(`mutated cached queries: the native path and JS reply alike, byte for byte (seed ${seed})`, async (t) => {
  if (!usable(t)) return;
  const server = await start();
  const port = server.boundAddresses()[0].port;
  server.setFastPath(false);
  for (const [i, q] of QUERIES.entries()) await rawExchange({ port }, build(q, i), false, 5000);
  const rand = prng(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  let answeredFast = 0;
  for (let k = 0; k < 150 * rounds; k++) {
    const q = Buffer.from(build(QUERIES[pick(QUERIES.length)], pick(65536)));
    let m: Buffer;
    switch (pick(5)) {
      case 0: // one bit anywhere
        q[pick(q.length)] ^= 1 << pick(8);
        m = q;
        break;
      case 1: // a header byte replaced
        q[2 + pick(10)] = pick(256);
        m = q;
        break;
      case 2: // a byte of the question or OPT replaced
        q[12 + pick(q.length - 12)] = pick(256);
        m = q;
        break;
      case 3: // cut short
        m = q.subarray(0, pick(q.length));
        break;
      default: // bytes appended
        m = Buffer.concat([q, Buffer.from(Array.from({ length: 1 + pick(12) }, () => pick(256)))]);
    }
    let on: Buffer | null = null;
    let off: Buffer | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      // JS first: a mutation that still makes a cacheable question is resolved and cached by it,
      // and then answered natively.
      server.setFastPath(false);
      off = await exchangeOrNull(port, m);
      server.setFastPath(true);
      const f0 = server.stats.udpFastAnswers;
      on = await exchangeOrNull(port, m);
      if (server.stats.udpFastAnswers > f0) answeredFast++;
      if ((on === null && off === null) || (on && off && on.equals(off))) break;
    }
    assert.deepEqual(on, off, `mutation ${k} (${m.toString('hex')}): native and JS replies differ`);
  }
  // Some mutations leave a cacheable query (the ID, stray flag bits, the EDNS size): those must
  // have gone the native way, or this test compared JS with JS only.
  t.diagnostic(`${answeredFast} of ${150 * rounds} mutated queries answered natively`);
  assert.ok(answeredFast > 0, `answered natively: ${answeredFast}`);
});
