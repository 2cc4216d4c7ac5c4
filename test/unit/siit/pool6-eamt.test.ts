// The translator's address mappings: RFC 6052 (Pool6, the WKP rule of §3.1) and the RFC 7757 EAM table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Eamt } from '../../../src-main/engine/siit/eamt.js';
import { Pool6 } from '../../../src-main/engine/ip/rfc6052.js';
import {
  formatIPv4,
  formatIPv6,
  isGlobal4,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from '../../../src-main/engine/ip/address.js';

// RFC 6052 §2.4, Table 1 (the examples for 192.0.2.33).
const TABLE1: [string, string][] = [
  ['2001:db8::/32', '2001:db8:c000:221::'],
  ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
  ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
];

for (const [prefix, embedded] of TABLE1) {
  test(`RFC 6052 §2.4: 192.0.2.33 in ${prefix} is ${embedded} (and back)`, () => {
    const pool = new Pool6(parsePrefix6(prefix)!);
    const out = new Uint8Array(16);
    assert.ok(pool.embed(parseIPv4('192.0.2.33')!, out, 0));
    assert.equal(formatIPv6(out), formatIPv6(parseIPv6(embedded)!));
    assert.equal(formatIPv4(pool.extract(parseIPv6(embedded)!, 0)), '192.0.2.33');
  });
}

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

test('RFC 7757 §3.2: EAM suffix bits go right after the IPv6 prefix (7 bits after a /120: ::4 for .130); longest match wins', () => {
  const eamt = new Eamt([
    { v4: parsePrefix4('198.51.100.0/24')!, v6: parsePrefix6('2001:db8:1c6:3364::/72')! },
    { v4: parsePrefix4('198.51.100.128/25')!, v6: parsePrefix6('2001:db8:aaaa::/120')! },
    { v4: parsePrefix4('192.0.0.1/32')!, v6: parsePrefix6('2001:db8:1:2::c1a7/128')! },
  ]);
  const out = new Uint8Array(16);
  assert.ok(eamt.map4to6(parseIPv4('198.51.100.2')!, out, 0));
  assert.equal(formatIPv6(out), '2001:db8:1c6:3364:2::');
  assert.ok(eamt.map4to6(parseIPv4('198.51.100.130')!, out, 0));
  assert.equal(formatIPv6(out), '2001:db8:aaaa::4');
  assert.ok(eamt.map4to6(parseIPv4('192.0.0.1')!, out, 0));
  assert.equal(formatIPv6(out), '2001:db8:1:2::c1a7');
  assert.equal(eamt.map4to6(parseIPv4('192.0.0.2')!, out, 0), false);
  assert.equal(formatIPv4(eamt.map6to4(parseIPv6('2001:db8:1c6:3364:2::')!, 0)), '198.51.100.2');
  assert.equal(formatIPv4(eamt.map6to4(parseIPv6('2001:db8:aaaa::4')!, 0)), '198.51.100.130');
  assert.equal(formatIPv4(eamt.map6to4(parseIPv6('2001:db8:1:2::c1a7')!, 0)), '192.0.0.1');
  assert.equal(eamt.map6to4(parseIPv6('2001:db8:1:2::c1a8')!, 0), -1);
  assert.ok(eamt.has4(parseIPv4('198.51.100.255')!));
  assert.throws(
    () => new Eamt([{ v4: parsePrefix4('10.0.0.0/8')!, v6: parsePrefix6('2001:db8::/112')! }]),
    /suffix/,
  );
});
