// RFC 6052 address mapping as the DNS64 uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  embed,
  extract,
  formatIPv6,
  inAddrArpaName,
  ip6ArpaName,
  isGlobalIPv4,
  maySynthesize,
  parseIp6Arpa,
  parseIPv4,
  parseIPv6,
  parsePref64,
  parseV6Range,
  inRange,
} from '../../../src-main/engine/dns64/rfc6052.js';

// RFC 6052 §2.4, the table of examples: 192.0.2.33 under each prefix length.
const TABLE: Array<[string, string]> = [
  ['2001:db8::/32', '2001:db8:c000:221::'],
  ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
  ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
];

test('RFC 6052 §2.4 examples embed and extract at every prefix length', () => {
  const v4 = parseIPv4('192.0.2.33')!;
  for (const [pfx, addr] of TABLE) {
    const p = parsePref64(pfx);
    const out = embed(p, v4);
    assert.equal(formatIPv6(out), addr, pfx);
    assert.deepEqual(extract(p, out), v4, pfx);
  }
  // The WKP example of §2.4.
  assert.equal(formatIPv6(embed(parsePref64('64:ff9b::/96'), v4)), '64:ff9b::c000:221');
});

test('prefixes are parsed strictly', () => {
  assert.throws(() => parsePref64('2001:db8::/33'), /32, 40, 48, 56, 64 or 96/);
  assert.throws(() => parsePref64('2001:db8::1/96'), /bits set after/);
  assert.throws(() => parsePref64('2001:db8:0:0:ff00::/96'), /64-71/);
  assert.throws(() => parsePref64('192.0.2.0/24'), /not an IPv6 address/);
  assert.throws(() => parsePref64('64:ff9b::'), /not an IPv6 prefix/);
  assert.equal(parsePref64('64:FF9B:0::/96').text, '64:ff9b::/96');
});

test('IPv6 text parses, including embedded dotted quads, and formats per RFC 5952', () => {
  assert.equal(formatIPv6(parseIPv6('::ffff:192.0.2.1')!), '::ffff:c000:201');
  assert.equal(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(parseIPv6('::')!), '::');
  assert.equal(parseIPv6('2001:db8::g'), null);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), null);
});

test('the Well-Known Prefix is never used for non-global IPv4 (RFC 6052 §3.1)', () => {
  const wkp = parsePref64('64:ff9b::/96');
  const nsp = parsePref64('2001:db8:64::/96');
  for (const a of [
    '10.1.2.3',
    '192.168.1.1',
    '172.16.0.1',
    '127.0.0.1',
    '192.0.2.1',
    '100.64.0.1',
    '169.254.1.1',
  ]) {
    assert.equal(isGlobalIPv4(parseIPv4(a)!), false, a);
    assert.equal(maySynthesize(wkp, parseIPv4(a)!), false, a);
    assert.equal(maySynthesize(nsp, parseIPv4(a)!), true, a);
  }
  assert.equal(maySynthesize(wkp, parseIPv4('8.8.8.8')!), true);
  // RFC 7050/8880: ipv4only.arpa's addresses are synthesized with any prefix.
  assert.equal(maySynthesize(wkp, parseIPv4('192.0.0.170')!), true);
  assert.equal(maySynthesize(wkp, parseIPv4('192.0.0.171')!), true);
});

test('reverse names round-trip and ranges match', () => {
  const a = parseIPv6('2001:db8:64::c000:221')!;
  assert.deepEqual(parseIp6Arpa(ip6ArpaName(a)), a);
  assert.deepEqual(parseIp6Arpa(`${ip6ArpaName(a).toUpperCase()}.`), a);
  assert.equal(parseIp6Arpa('1.0.ip6.arpa'), null);
  assert.equal(inAddrArpaName(parseIPv4('192.0.2.33')!), '33.2.0.192.in-addr.arpa');
  const r = parseV6Range('::ffff:0:0/96');
  assert.equal(inRange(r, parseIPv6('::ffff:192.0.2.1')!), true);
  assert.equal(inRange(r, parseIPv6('2001:db8::1')!), false);
  assert.equal(inRange(parseV6Range('2001:db8::/29'), parseIPv6('2001:dbf::1')!), true);
  assert.equal(inRange(parseV6Range('2001:db8::/29'), parseIPv6('2001:dc0::1')!), false);
});
