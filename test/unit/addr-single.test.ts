// One implementation of address text <-> bytes and of RFC 6052 prefixes (siit/addr.ts): the
// bring-up names (net/addr.ts) and the DNS64's (dns64/rfc6052.ts) give the same answers as it,
// and node:net's own grammar agrees on what is an IPv6 address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6, isIPv4 } from 'node:net';
import * as siit from '../../src-main/engine/siit/addr.js';
import * as net from '../../src-main/engine/net/addr.js';
import * as dns64 from '../../src-main/engine/dns64/rfc6052.js';

function netParse6(s: string): Uint8Array | null {
  try {
    return net.parseIPv6(s);
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
    for (const parse of [siit.parseIPv6, dns64.parseIPv6, netParse6]) assert.equal(parse(bad), null, bad);
  for (const good of ['::1.2.3.4', '::ffff:192.0.2.1', '1:2:3:4:5:6:192.0.2.1', '64:ff9b::192.0.2.33'])
    assert.ok(siit.parseIPv6(good), good);
});

test('IPv6 text: the three names accept what node:net accepts and give the same bytes', () => {
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
    const b = siit.parseIPv6(s);
    assert.equal(b !== null, isIPv6(s), s);
    assert.deepEqual(dns64.parseIPv6(s) && new Uint8Array(dns64.parseIPv6(s)!), b, s);
    assert.deepEqual(netParse6(s), b, s);
    if (b) {
      valid++;
      const text = siit.formatIPv6(b);
      assert.equal(dns64.formatIPv6(b), text);
      assert.equal(net.formatIPv6(b), text);
      assert.deepEqual(siit.parseIPv6(text), b, `${s} -> ${text}`);
    }
  }
  assert.ok(valid > 1000, `${valid} valid`);
});

test('IPv4 text: the three names agree with each other and node:net', () => {
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
    const n = siit.parseIPv4(s);
    assert.equal(n !== null, isIPv4(s), s);
    const b = siit.parseIPv4Bytes(s);
    assert.deepEqual(dns64.parseIPv4(s) && new Uint8Array(dns64.parseIPv4(s)!), b, s);
    if (b) {
      assert.deepEqual(net.parseIPv4(s), b);
      assert.equal(net.formatIPv4(b), s);
      assert.equal(dns64.formatIPv4(b), s);
      assert.equal(siit.formatIPv4(n!), s);
    } else assert.throws(() => net.parseIPv4(s), /not an IPv4 address/);
  }
});

test('RFC 6052 §2.1/§2.2: the CLAT and the DNS64 accept the same NAT64 prefixes', () => {
  const cases: [string, boolean][] = [
    ['64:ff9b::/96', true],
    ['2001:db8::/32', true],
    ['2001:db8:100::/40', true],
    ['2001:db8:122::/48', true],
    ['2001:db8:122:300::/56', true],
    ['2001:db8:122:344::/64', true],
    ['2001:db8:122:344::/96', true],
    ['2001:db8::/33', false],
    ['2001:db8::1/96', false],
    ['2001:db8:0:0:ff00::/96', false],
    // Bits 64-71 set under a /32: "MUST be zero" whatever the length.
    ['2001:db8:0:0:100::/32', false],
    ['64:ff9b::/64', false],
    ['ff0e::/96', false],
  ];
  for (const [text, ok] of cases) {
    const problem = net.rfc6052Problem(net.parsePrefix6(text));
    assert.equal(problem === null, ok, `${text}: ${problem}`);
    if (ok) assert.equal(dns64.parsePref64(text).text, text);
    else
      assert.throws(
        () => dns64.parsePref64(text),
        (e: Error) => e.message.endsWith(problem!),
        text,
      );
  }
});

test('RFC 6052 §2.2: every embedding of 192.0.2.33 is the same, and extracts back', () => {
  const v4 = Uint8Array.of(192, 0, 2, 33);
  // RFC 6052 §2.4 Table 1's prefixes.
  const table1 = [
    '2001:db8::/32',
    '2001:db8:100::/40',
    '2001:db8:122::/48',
    '2001:db8:122:300::/56',
    '2001:db8:122:344::/64',
    '2001:db8:122:344::/96',
  ];
  for (const prefixText of table1) {
    const p = siit.parsePrefix6(prefixText)!;
    const len = p.len as siit.Rfc6052Length;
    const pool = new siit.Pool6(p);
    const out = new Uint8Array(16);
    assert.ok(pool.embed(0xc0000221 | 0, out, 0));
    assert.deepEqual(new Uint8Array(dns64.embed(dns64.parsePref64(prefixText), v4)), out, prefixText);
    assert.deepEqual(net.embedIPv4(net.parsePrefix6(prefixText), v4), out, prefixText);
    assert.deepEqual(siit.extractIPv4Bytes(p.addr, len, out), v4);
    assert.deepEqual(new Uint8Array(dns64.extract(dns64.parsePref64(prefixText), out)!), v4);
  }
});

test('RFC 6052 §3.1: the translator and the DNS64 keep the same non-global IPv4 list', () => {
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
  ] as const) {
    const b = siit.parseIPv4Bytes(s)!;
    assert.equal(siit.isGlobal4(siit.parseIPv4(s)!), global, s);
    assert.equal(dns64.isGlobalIPv4(b), global, s);
  }
  // ipv4only.arpa's addresses are synthesized with any prefix (RFC 7050 §2.2), others not under the WKP.
  const wkp = dns64.parsePref64('64:ff9b::/96');
  assert.equal(dns64.maySynthesize(wkp, siit.parseIPv4Bytes('192.0.0.170')!), true);
  assert.equal(dns64.maySynthesize(wkp, siit.parseIPv4Bytes('192.88.99.1')!), false);
});
