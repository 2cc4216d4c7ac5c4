// RFC 6052 IPv4-embedded IPv6 addresses (engine/ip/rfc6052.ts): the prefix rules, the
// embedding at every length in both forms (the translator's Pool6 and the byte-array form the
// CLAT, discovery and the DNS64 use), and §3.1 for the Well-Known Prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Pool6,
  checkRfc6052Prefix,
  embedIPv4,
  extractIPv4,
  maySynthesize,
  parsePref64,
} from '../../../src-main/engine/ip/rfc6052.js';
import {
  formatIPv6,
  formatPrefix6,
  ipv4Bytes,
  isGlobal4,
  parseIPv4,
  parseIPv6,
  parsePrefix6,
} from '../../../src-main/engine/ip/address.js';
import { inAddrArpaName, ip6ArpaName, parseIp6Arpa } from '../../../src-main/engine/dns/reverse-names.js';

// RFC 6052 §2.4, the table of examples: 192.0.2.33 under each prefix length.
const TABLE: Array<[string, string]> = [
  ['2001:db8::/32', '2001:db8:c000:221::'],
  ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
  ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
];

test('RFC 6052 §2.4 examples: embedIPv4, extractIPv4 and Pool6 agree at every prefix length', () => {
  const n = parseIPv4('192.0.2.33');
  const v4 = ipv4Bytes(n);
  for (const [pfx, addr] of TABLE) {
    const p = parsePref64(pfx);
    const out = embedIPv4(p, v4);
    assert.equal(formatIPv6(out), addr, pfx);
    assert.deepEqual(extractIPv4(p, out), v4, pfx);
    const pool = new Pool6(p);
    const viaPool = new Uint8Array(16);
    assert.ok(pool.embed(n | 0, viaPool, 0));
    assert.deepEqual(viaPool, out, pfx);
    assert.equal(pool.extract(out, 0), n | 0, pfx);
  }
  // The WKP example of §2.4.
  assert.equal(formatIPv6(embedIPv4(parsePref64('64:ff9b::/96'), v4)), '64:ff9b::c000:221');
});

test('RFC 6052 §2.1/§2.2: which NAT64 prefixes are legal, and why not', () => {
  const cases: [string, string | null][] = [
    ['64:ff9b::/96', null],
    ['2001:db8::/32', null],
    ['2001:db8:100::/40', null],
    ['2001:db8:122::/48', null],
    ['2001:db8:122:300::/56', null],
    ['2001:db8:122:344::/64', null],
    ['2001:db8:122:344::/96', null],
    ['2001:db8::/33', 'length'],
    ['2001:db8::/80', 'length'],
    ['2001:db8::1/96', 'host-bits'],
    ['2001:db8::1:0:0/64', 'host-bits'],
    ['2001:db8:0:0:ff00::/96', 'u-octet'],
    // Bits 64-71 set under a /32: "MUST be zero" whatever the length.
    ['2001:db8:0:0:100::/32', 'u-octet'],
    ['64:ff9b::/64', 'wkp-length'],
    ['ff0e::/96', 'multicast'],
  ];
  for (const [text, code] of cases) {
    const problem = checkRfc6052Prefix(parsePrefix6(text));
    assert.equal(problem?.code ?? null, code, text);
    if (!problem) assert.equal(formatPrefix6(parsePref64(text)), text);
    else
      assert.throws(
        () => parsePref64(text),
        (e: Error) => e.message === `${text}: ${problem.message}`,
        text,
      );
  }
  assert.throws(() => parsePref64('2001:db8::/33'), /32, 40, 48, 56, 64 or 96/);
  assert.throws(
    () => parsePref64('2001:db8::1/96'),
    /bits set beyond \/96; write the prefix with no bits set after/,
  );
  assert.throws(() => parsePref64('2001:db8:0:0:ff00::/96'), /64-71/);
  assert.throws(() => parsePref64('192.0.2.0/24'), /not an IPv6 address/);
  assert.throws(() => parsePref64('64:ff9b::'), /not an IPv6 prefix/);
  assert.equal(formatPrefix6(parsePref64('64:FF9B:0::/96')), '64:ff9b::/96');
  // The translator takes any prefix with a defined mapping (the policy rules are the CLAT's).
  assert.throws(() => new Pool6(parsePrefix6('2001:db8::/80')), /not one RFC 6052/);
  assert.ok(new Pool6(parsePrefix6('64:ff9b::/64')));
});

test('the Well-Known Prefix is never used for non-global IPv4 (RFC 6052 §3.1)', () => {
  const wkp = parsePref64('64:ff9b::/96');
  const nsp = parsePref64('2001:db8:64::/96');
  const out = new Uint8Array(16);
  for (const a of [
    '10.1.2.3',
    '192.168.1.1',
    '172.16.0.1',
    '127.0.0.1',
    '192.0.2.1',
    '100.64.0.1',
    '169.254.1.1',
  ]) {
    const v4 = ipv4Bytes(parseIPv4(a));
    assert.equal(maySynthesize(wkp, v4), false, a);
    assert.equal(maySynthesize(nsp, v4), true, a);
    assert.equal(new Pool6(wkp).embed(parseIPv4(a) | 0, out, 0), false, a);
    assert.equal(new Pool6(nsp).embed(parseIPv4(a) | 0, out, 0), true, a);
  }
  assert.equal(maySynthesize(wkp, ipv4Bytes(parseIPv4('8.8.8.8'))), true);
  // RFC 7050/8880: ipv4only.arpa's addresses are synthesized with any prefix.
  assert.equal(maySynthesize(wkp, ipv4Bytes(parseIPv4('192.0.0.170'))), true);
  assert.equal(maySynthesize(wkp, ipv4Bytes(parseIPv4('192.0.0.171'))), true);
});

test('reverse names round-trip', () => {
  const a = parseIPv6('2001:db8:64::c000:221');
  assert.deepEqual(parseIp6Arpa(ip6ArpaName(a)), a);
  assert.deepEqual(parseIp6Arpa(`${ip6ArpaName(a).toUpperCase()}.`), a);
  assert.equal(parseIp6Arpa('1.0.ip6.arpa'), null);
  assert.equal(inAddrArpaName(ipv4Bytes(parseIPv4('192.0.2.33'))), '33.2.0.192.in-addr.arpa');
});

test('RFC 6052 §2.2: the u-octet (bits 64-71) is skipped and the suffix is zero', () => {
  const pool = new Pool6(parsePrefix6('2001:db8:122:344::/64')!);
  const out = new Uint8Array(16).fill(0xee);
  pool.embed(parseIPv4('255.255.255.255')!, out, 0);
  assert.equal(out[8], 0);
  assert.deepEqual([...out.subarray(9, 13)], [255, 255, 255, 255]);
  assert.deepEqual([...out.subarray(13)], [0, 0, 0]);
});

test('RFC 6052 §2.2: other prefix lengths are refused', () => {
  for (const len of [0, 24, 33, 72, 128]) {
    assert.throws(() => new Pool6({ addr: new Uint8Array(16), len }), /prefix length/);
  }
});

test('RFC 6052: an address outside the prefix does not extract', () => {
  const pool = new Pool6(parsePrefix6('2001:db8:100::/40')!);
  assert.equal(pool.extract(parseIPv6('2001:db8:200::1')!, 0), -1);
});

test('RFC 6052 §3.1: the Well-Known Prefix never carries non-global IPv4 addresses', () => {
  const wkp = new Pool6(parsePrefix6('64:ff9b::/96')!);
  assert.ok(wkp.wellKnown);
  const out = new Uint8Array(16);
  for (const a of [
    '10.1.2.3',
    '192.168.1.1',
    '172.16.0.1',
    '100.64.0.1',
    '127.0.0.1',
    '169.254.1.1',
    '192.0.2.1',
  ]) {
    assert.equal(wkp.embed(parseIPv4(a)!, out, 0), false, a);
    const v6 = parseIPv6(`64:ff9b::${a}`)!;
    assert.equal(wkp.extract(v6, 0), -1, a);
  }
  assert.ok(wkp.embed(parseIPv4('8.8.8.8')!, out, 0));
  assert.equal(formatIPv6(out), '64:ff9b::808:808');
  assert.ok(isGlobal4(parseIPv4('192.0.0.9')!), 'RFC 6890: 192.0.0.9 is globally reachable');
  // The local-use prefix of RFC 8215 is not the Well-Known Prefix: no such restriction.
  const local = new Pool6(parsePrefix6('64:ff9b:1::/96')!);
  assert.equal(local.wellKnown, false);
  assert.ok(local.embed(parseIPv4('10.1.2.3')!, out, 0));
});
