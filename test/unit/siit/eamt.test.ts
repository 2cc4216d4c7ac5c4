// The translator's RFC 7757 EAM table (siit/eamt.ts). Pool6 (RFC 6052) is tested with the other
// RFC 6052 code in test/unit/ip/rfc6052.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Eamt } from '../../../src-main/engine/siit/eamt.js';
import {
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from '../../../src-main/engine/ip/address.js';

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
