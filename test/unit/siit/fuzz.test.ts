// Robustness: random valid packets, then mutated, truncated and length-lying ones, through
// translators with several configurations. No exception may escape, and everything emitted must
// be a well-formed IPv4/IPv6 packet whose lengths add up; checksums must be right wherever the
// input's were (and always in ICMP errors, whose checksums are computed afresh).
//
// SIIT_FUZZ_ITERATIONS=N (default 20000) and SIIT_FUZZ_SEED=S (default 7915) widen the search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG, HEADROOM, Translator } from '../../../src-main/engine/siit/translator.js';
import { finish, fold, pseudo6, sum16, sumAddr4 } from '../../../src-main/engine/siit/checksum.js';
import { parseIPv6 } from '../../../src-main/engine/ip/address.js';

const ITERATIONS = Number(process.env.SIIT_FUZZ_ITERATIONS) || 20000;
const SEED = Number(process.env.SIIT_FUZZ_SEED) || 7915;

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  bytes(n: number): number[] {
    return Array.from({ length: n }, () => this.int(256));
  }
}

const V4 = [0xc0000001, 0xcb007105, 0x01000005, 0x0a000007, 0x08080808, 0x7f000001, 0];
const V6 = [
  '2001:db8:1:2::c1a7',
  '2001:db8:64::cb00:7105',
  '2001:db8:3::5',
  '2001:db8:2::7',
  '2001:db8:64::808:808',
  '2001:db8:ffff::1',
  '64:ff9b::a00:1',
].map((a) => parseIPv6(a)!);

const CONFIGS = [
  {
    pool6: '2001:db8:64::/96',
    eamt: [
      { ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' },
      { ipv4: '1.0.0.0/24', ipv6: '2001:db8:3::/120' },
      { ipv4: '10.0.0.0/24', ipv6: '2001:db8:2::/120' },
    ],
    rfc6791v4: '203.0.113.99',
    icmpSourceV4: '192.0.0.2',
    icmpSourceV6: '2001:db8:1:2::1',
  },
  {
    pool6: '64:ff9b::/96',
    eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
    lowestIpv6Mtu: 1400,
    ipv4Mtu: 1300,
    ipv6Mtu: 1350,
    amendUdpChecksumZero: true,
    icmpSourceV4: '192.0.0.2',
    icmpSourceV6: '2001:db8:1:2::1',
  },
  {
    pool6: '2001:db8:100::/40',
    eamt: [{ ipv4: '1.0.0.0/24', ipv6: '2001:db8:3::/120' }],
    icmpSourceV6: '2001:db8::1',
  },
];

function put16(a: number[], o: number, v: number): void {
  a[o] = (v >> 8) & 255;
  a[o + 1] = v & 255;
}

/** A transport segment with a valid checksum for the given pseudo-header sum. */
function transport(r: Rng, proto: number, pseudoBase: number, ipv6: boolean): number[] {
  const body = r.bytes(r.int(4) === 0 ? r.int(3000) : r.int(200));
  let seg: number[];
  let at: number;
  if (proto === 6) {
    seg = [...r.bytes(12), 0x50, 0x18, ...r.bytes(2), 0, 0, 0, 0, ...body];
    at = 16;
  } else if (proto === 17) {
    seg = [...r.bytes(4), 0, 0, 0, 0, ...body];
    put16(seg, 4, seg.length);
    at = 6;
  } else if (proto === 1 || proto === 58) {
    const type = proto === 1 ? r.pick([8, 0, 13]) : r.pick([128, 129, 135]);
    seg = [type, 0, 0, 0, ...r.bytes(4), ...body];
    at = 2;
  } else {
    return body;
  }
  const arr = Uint8Array.from(seg);
  const withPseudo = proto === 1 ? 0 : pseudoBase + (ipv6 && proto === 58 ? 58 : proto) + seg.length;
  const c = finish(sum16(arr, 0, arr.length, withPseudo));
  put16(seg, at, c === 0 && proto === 17 ? 0xffff : c);
  return seg;
}

function ipv4(r: Rng, depth = 0): number[] {
  const src = r.pick(V4);
  const dst = r.pick(V4);
  const proto = depth === 0 && r.int(5) === 0 ? 1 : r.pick([6, 17, 1, 253]);
  let payload: number[];
  if (proto === 1 && depth === 0 && r.int(2) === 0) {
    // An ICMPv4 error quoting another packet, sometimes with an RFC 4884 extension.
    const inner = ipv4(r, 1).slice(0, r.int(4) === 0 ? 20 + r.int(600) : 2000);
    const ext = r.int(3) === 0 ? r.bytes(4 * (1 + r.int(100))) : [];
    const padded = ext.length ? [...inner, ...new Array((4 - (inner.length % 4)) % 4).fill(0)] : inner;
    const type = r.pick([3, 11, 12]);
    const head = [type, r.int(16), 0, 0, r.int(20), ext.length ? padded.length / 4 : 0, ...r.bytes(2)];
    if (type === 3 && head[1] === 4) put16(head, 6, r.pick([0, 576, 1400, 9000]));
    payload = [...head, ...padded, ...ext];
    const c = finish(sum16(Uint8Array.from(payload), 0, payload.length, 0));
    put16(payload, 2, c);
  } else {
    payload = transport(r, proto, sumAddr4(src) + sumAddr4(dst), false);
  }
  const opts = r.int(6) === 0 ? [7, 7, 4, 0, 0, 0, 0, 1] : [];
  const ihl = 20 + opts.length;
  const h = [0x40 | (ihl >> 2), r.int(256), 0, 0, ...r.bytes(2), 0, 0, 1 + r.int(255), proto, 0, 0];
  put16(h, 2, ihl + payload.length);
  put16(h, 6, r.pick([0x4000, 0, 0x2000, 0x0010, 0x6000]));
  h.push(
    src >>> 24,
    (src >>> 16) & 255,
    (src >>> 8) & 255,
    src & 255,
    dst >>> 24,
    (dst >>> 16) & 255,
    (dst >>> 8) & 255,
    dst & 255,
    ...opts,
  );
  put16(h, 10, finish(sum16(Uint8Array.from(h), 0, ihl, 0)));
  return [...h, ...payload];
}

function ipv6(r: Rng, depth = 0): number[] {
  const src = r.pick(V6);
  const dst = r.pick(V6);
  const exts: number[][] = [];
  const types: number[] = [];
  const n = r.int(3) === 0 ? r.int(4) : 0;
  for (let i = 0; i < n; i++) {
    const t = r.pick([0, 60, 43, 44]);
    types.push(t);
    if (t === 44) exts.push([0, 0, ...r.bytes(2).map((x, k) => (k === 1 ? x & 0xf9 : x & 0)), ...r.bytes(4)]);
    else if (t === 43) exts.push([0, 0, 0, r.int(3) === 0 ? 1 : 0, 0, 0, 0, 0]);
    else exts.push([0, 0, 1, 4, 0, 0, 0, 0]);
  }
  const proto = depth === 0 && r.int(5) === 0 ? 58 : r.pick([6, 17, 58, 253]);
  let payload: number[];
  const pb = (() => {
    const s = Uint8Array.from([...src, ...dst]);
    return fold(sum16(s, 0, 32, 0));
  })();
  if (proto === 58 && depth === 0 && r.int(2) === 0) {
    const inner = ipv6(r, 1).slice(0, r.int(4) === 0 ? 40 + r.int(600) : 1232);
    const ext = r.int(3) === 0 ? r.bytes(8 * (1 + r.int(60))) : [];
    const padded = ext.length ? [...inner, ...new Array((8 - (inner.length % 8)) % 8).fill(0)] : inner;
    const type = r.pick([1, 2, 3, 4]);
    const head = [type, r.int(7), 0, 0, ...r.bytes(4)];
    if (type === 4) head.splice(4, 4, 0, 0, 0, r.int(48));
    if (type === 2) head.splice(4, 4, 0, 0, r.int(256), r.int(256));
    if (ext.length && (type === 1 || type === 3)) head[4] = padded.length / 8;
    payload = [...head, ...padded, ...ext];
    put16(payload, 2, finish(sum16(Uint8Array.from(payload), 0, payload.length, pb + 58 + payload.length)));
  } else {
    payload = transport(r, proto, pb, true);
  }
  for (let i = exts.length - 1; i >= 0; i--) exts[i][0] = i === exts.length - 1 ? proto : types[i + 1];
  const body = [...exts.flat(), ...payload];
  const h = [
    0x60 | r.int(16),
    r.int(256),
    ...r.bytes(2),
    0,
    0,
    types.length ? types[0] : proto,
    1 + r.int(255),
    ...src,
    ...dst,
  ];
  put16(h, 4, body.length);
  return [...h, ...body];
}

function mutate(r: Rng, p: number[]): number[] {
  const q = p.slice();
  switch (r.int(7)) {
    case 0: // flip bytes
      for (let i = r.int(4) + 1; i > 0 && q.length; i--) q[r.int(q.length)] = r.int(256);
      return q;
    case 1: // truncate
      return q.slice(0, r.int(q.length + 1));
    case 2: // bogus length fields
      if (q[0] >> 4 === 4) put16(q, 2, r.int(65536));
      else put16(q, 4, r.int(65536));
      return q;
    case 3: // bogus IHL or extension-header length
      if (q[0] >> 4 === 4) q[0] = 0x40 | r.int(16);
      else if (q.length > 41) q[41] = r.int(256);
      return q;
    case 4: // extension-header "loop": every header names Hop-by-Hop (or Routing) as next
      if (q[0] >> 4 === 6) {
        q[6] = r.pick([0, 43, 60, 44]);
        for (let o = 40; o + 8 <= q.length; o += 8) {
          q[o] = q[6];
          q[o + 1] = 0;
        }
      }
      return q;
    case 5: // IPv4 options that never end, or whose length fields are 0 or 1
      if (q[0] >> 4 === 4 && q.length >= 20) {
        const opts = Array.from({ length: 40 }, () => r.pick([0x83, 0x89, 0x07, 0x44, 0x01, 0x00, 0x02]));
        for (let i = 1; i < 40; i += 2) opts[i] = r.pick([0, 1, 2, 3, 39, 40, 255]);
        const out = [0x4f, ...q.slice(1, 20), ...opts, ...q.slice(20 + ((q[0] & 15) * 4 - 20))];
        put16(out, 2, out.length);
        put16(out, 10, 0);
        put16(out, 10, finish(sum16(Uint8Array.from(out), 0, 60, 0)));
        return out;
      }
      return q;
    default: // garbage
      return r.bytes(r.int(120));
  }
}

/** Checks one emitted packet; returns a description of what is wrong, or null. */
function check(p: Uint8Array, inputValid: boolean): string | null {
  if (p.length < 1) return 'empty packet';
  const v = p[0] >> 4;
  if (v === 4) {
    if (p.length < 20) return 'IPv4 shorter than 20';
    const ihl = (p[0] & 15) * 4;
    if (ihl < 20) return 'IPv4 IHL < 5';
    if (((p[2] << 8) | p[3]) !== p.length) return 'IPv4 total length mismatch';
    if (fold(sum16(p, 0, ihl, 0)) !== 0xffff) return 'IPv4 header checksum';
    const fo = (p[6] << 8) | p[7];
    const fragmented = (fo & 0x3fff) !== 0;
    const l4 = p.subarray(ihl);
    if (p[9] === 1 && !fragmented && l4.length >= 8) {
      const err = [3, 11, 12].includes(l4[0]);
      if ((err || inputValid) && fold(sum16(l4, 0, l4.length, 0)) !== 0xffff) return 'ICMPv4 checksum';
    }
    if (inputValid && !fragmented && (p[9] === 6 || p[9] === 17) && l4.length >= 8) {
      const src = ((p[12] << 24) | (p[13] << 16) | (p[14] << 8) | p[15]) >>> 0;
      const dst = ((p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19]) >>> 0;
      if (fold(sum16(l4, 0, l4.length, sumAddr4(src) + sumAddr4(dst) + p[9] + l4.length)) !== 0xffff) {
        return `IPv4 ${p[9] === 6 ? 'TCP' : 'UDP'} checksum`;
      }
    }
    return null;
  }
  if (v === 6) {
    if (p.length < 40) return 'IPv6 shorter than 40';
    if (40 + ((p[4] << 8) | p[5]) !== p.length) return 'IPv6 payload length mismatch';
    let nh = p[6];
    let o = 40;
    let fragmented = false;
    while (nh === 0 || nh === 43 || nh === 60 || nh === 44) {
      if (o + 8 > p.length) return 'IPv6 extension header runs past the end';
      if (nh === 44) fragmented = fragmented || (((p[o + 2] << 8) | p[o + 3]) & 0xfff9) !== 0;
      const len = nh === 44 ? 8 : (p[o + 1] + 1) * 8;
      nh = p[o];
      o += len;
    }
    if (o > p.length) return 'IPv6 extension header runs past the end';
    const l4len = p.length - o;
    if (!fragmented && l4len >= 8 && (nh === 58 || (inputValid && (nh === 6 || nh === 17)))) {
      const err = nh === 58 && p[o] < 128;
      if ((err || inputValid) && fold(sum16(p, o, l4len, pseudo6(p, 8, 24, l4len, nh))) !== 0xffff)
        return `IPv6 ${nh} checksum`;
    }
    return null;
  }
  return `version ${v}`;
}

test(`fuzz: ${ITERATIONS} random/mutated packets (seed ${SEED}) never throw and only emit well-formed packets`, (t) => {
  const r = new Rng(SEED);
  const translators = CONFIGS.map((c) => new Translator(c));

  const buf = new Uint8Array(HEADROOM + 70000);
  let emitted = 0;
  let inputValid = false;
  let problem: string | null = null;
  for (const tr of translators) {
    tr.emit = (b, o, l) => {
      emitted++;
      const why = check(b.subarray(o, o + l), inputValid);
      if (why && !problem)
        problem = `${why}: ${Buffer.from(b.subarray(o, o + l))
          .toString('hex')
          .slice(0, 400)}`;
    };
  }
  for (let i = 0; i < ITERATIONS; i++) {
    const base = r.int(2) === 0 ? ipv4(r) : ipv6(r);
    inputValid = r.int(3) === 0;
    const pkt = inputValid ? base : mutate(r, base);
    const tr = translators[r.int(translators.length)];
    // Now and then as a GSO super-packet with a partial checksum (the TUN offload path).
    const flags = r.int(10) === 0 ? r.pick([FLAG.gso, FLAG.csumPartial, FLAG.gso | FLAG.csumPartial]) : 0;
    if (flags & FLAG.csumPartial) inputValid = false;
    buf.fill(0xaa, 0, HEADROOM);
    buf.set(pkt, HEADROOM);
    try {
      tr.translate(buf, HEADROOM, pkt.length, flags);
    } catch (err) {
      assert.fail(`iteration ${i} threw ${(err as Error).stack}\ninput ${Buffer.from(pkt).toString('hex')}`);
    }
    assert.equal(problem, null, `iteration ${i}: input ${Buffer.from(pkt).toString('hex').slice(0, 400)}`);
  }
  assert.ok(
    emitted > ITERATIONS / 10,
    `only ${emitted} packets emitted: the generator is too broken to be useful`,
  );
  for (const [i, x] of translators.entries())
    t.diagnostic(`config ${i}: ${JSON.stringify(x.counters.snapshot())}`);
});
