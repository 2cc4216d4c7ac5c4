// Address text <-> bytes and prefixes (engine/ip/address.ts), the one implementation the
// translator, the CLAT, discovery and the DNS64 share: node:net's own grammar must agree with
// it on what is an address, and the host-bit rule is applied by whoever needs a clean prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6, isIPv4 } from 'node:net';
import {
  formatIPv4,
  formatIPv6,
  formatPrefix6,
  hostBitsSet4,
  hostBitsSet6,
  inPrefix6,
  ipv4Bytes,
  ipv4FromBytes,
  isGlobal4,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from '../../../src-main/engine/ip/address.js';

function parse6OrNull(s: string): Uint8Array | null {
  try {
    return parseIPv6(s);
  } catch {
    return null;
  }
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('RFC 4291 §2.2: a dotted quad only stands for the last 32 bits', () => {
  for (const bad of ['1.2.3.4::', '1.2.3.4::1', '::1.2.3.4:1', '1:2:3:4:5:6:1.2.3.4:8'])
    assert.throws(() => parseIPv6(bad), /not an IPv6 address/, bad);
  for (const good of ['::1.2.3.4', '::ffff:192.0.2.1', '1:2:3:4:5:6:192.0.2.1', '64:ff9b::192.0.2.33'])
    assert.ok(parseIPv6(good), good);
});

test('IPv6 text: accepted exactly when node:net accepts it, and round-trips through RFC 5952 text', () => {
  const next = rng(6052);
  const alphabet = '0123456789abcdefABCDEF:.';
  const seeds = ['2001:db8::1', '::', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '64:ff9b::c000:221', 'fe80::1'];
  let valid = 0;
  for (let i = 0; i < 20000; i++) {
    let s: string;
    if (i % 2 === 0) {
      const n = 1 + Math.floor(next() * 40);
      s = '';
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(next() * alphabet.length)];
    } else {
      // A valid address with one character changed, inserted or removed.
      const a = seeds[Math.floor(next() * seeds.length)].split('');
      const at = Math.floor(next() * (a.length + 1));
      const c = alphabet[Math.floor(next() * alphabet.length)];
      const op = Math.floor(next() * 3);
      if (op === 0) a.splice(at, 1, c);
      else if (op === 1) a.splice(at, 0, c);
      else a.splice(at, 1);
      s = a.join('');
    }
    const b = parse6OrNull(s);
    assert.equal(b !== null, isIPv6(s), s);
    if (b) {
      valid++;
      const text = formatIPv6(b);
      assert.deepEqual(parseIPv6(text), b, `${s} -> ${text}`);
    }
  }
  assert.ok(valid > 1000, `${valid} valid`);
});

test('IPv6 text forms and RFC 5952 formatting', () => {
  for (const [input, want] of [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8:0:1:0:0:1:1', '2001:db8:0:1::1:1'],
  ])
    assert.equal(formatIPv6(parseIPv6(input)), want, input);
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::', ':::', '1.2.3.4', 'fe80::1%eth0'])
    assert.throws(() => parseIPv6(bad), /not an IPv6 address/, bad);
});

test('IPv4 text: accepted exactly when node:net accepts it; number and bytes agree', () => {
  for (const s of [
    '192.0.2.1',
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    ' 1.2.3.4',
    '1.2.3.-4',
  ]) {
    if (!isIPv4(s)) {
      assert.throws(() => parseIPv4(s), /not an IPv4 address/, s);
      continue;
    }
    const n = parseIPv4(s);
    assert.equal(formatIPv4(n), s);
    const b = ipv4Bytes(n);
    assert.deepEqual([...b], s.split('.').map(Number), s);
    assert.equal(ipv4FromBytes(b), n);
  }
});

test('prefixes are read as written; the host-bit rule is one named test', () => {
  assert.deepEqual(parsePrefix4('0.0.0.0/0'), { addr: 0, len: 0 });
  const p4 = parsePrefix4('192.0.2.1/24');
  assert.equal(formatIPv4(p4.addr), '192.0.2.1', 'host bits are kept as written');
  assert.equal(hostBitsSet4(p4), true);
  assert.equal(hostBitsSet4(parsePrefix4('192.0.2.0/24')), false);
  assert.equal(hostBitsSet4(parsePrefix4('192.0.2.1/32')), false);
  const p6 = parsePrefix6('2001:db8::1/64');
  assert.equal(hostBitsSet6(p6), true);
  assert.equal(hostBitsSet6(parsePrefix6('2001:db8::/64')), false);
  assert.equal(hostBitsSet6(parsePrefix6('2001:db8::1/128')), false);
  assert.equal(formatPrefix6(parsePrefix6(' 64:FF9B::/96 ')), '64:ff9b::/96');
  assert.throws(() => parsePrefix6('64:ff9b::'), /not an IPv6 prefix \(want ADDRESS\/LENGTH/);
  assert.throws(() => parsePrefix6('64:ff9b::/129'), /over 128/);
  assert.throws(() => parsePrefix4('192.0.2.0/33'), /over 32/);
  assert.throws(() => parsePrefix6('192.0.2.0/24'), /not an IPv6 address/);
});

test('prefix membership', () => {
  const r = parsePrefix6('::ffff:0:0/96');
  assert.equal(inPrefix6(r, parseIPv6('::ffff:192.0.2.1')), true);
  assert.equal(inPrefix6(r, parseIPv6('2001:db8::1')), false);
  assert.equal(inPrefix6(parsePrefix6('2001:db8::/29'), parseIPv6('2001:dbf::1')), true);
  assert.equal(inPrefix6(parsePrefix6('2001:db8::/29'), parseIPv6('2001:dc0::1')), false);
});

test('RFC 6890: which IPv4 addresses are globally reachable', () => {
  for (const [s, global] of [
    ['192.0.2.33', false],
    ['192.88.99.1', false],
    ['10.1.2.3', false],
    ['100.64.0.1', false],
    ['192.0.0.9', true],
    ['192.0.0.170', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['8.8.8.8', true],
    ['1.1.1.1', true],
  ] as const)
    assert.equal(isGlobal4(parseIPv4(s)), global, s);
});

test('formatIPv6 gives the RFC 5952 form (checked against the WHATWG URL parser)', () => {
  const cases = [
    '64:ff9b::',
    '2001:db8::1',
    '2001:db8:0:1:1:1:1:1',
    '2001:0:0:1::1',
    '::',
    '::1',
    'fe80::1:0:0:0',
    '2001:db8:64::',
  ];
  for (const c of cases) {
    const bytes = new Uint8Array(16);
    const canon = new URL(`http://[${c}]/`).hostname.slice(1, -1);
    const [head, tail = ''] = canon.split('::');
    const groups = canon.includes('::')
      ? [
          ...(head ? head.split(':') : []),
          ...Array(8 - (head ? head.split(':').length : 0) - (tail ? tail.split(':').length : 0)).fill('0'),
          ...(tail ? tail.split(':') : []),
        ]
      : canon.split(':');
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      bytes[2 * i] = v >> 8;
      bytes[2 * i + 1] = v & 255;
    });
    assert.equal(formatIPv6(bytes), canon);
  }
});
