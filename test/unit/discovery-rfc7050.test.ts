// RFC 7050 §3: the NAT64 prefix read off synthesized ipv4only.arpa AAAA records, at every
// RFC 6052 length, with the ambiguity heuristic and RFC 6052's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  prefixesFromAnswers,
  wkaPositions,
  WKA_PRIMARY,
  WKA_SECONDARY,
} from '../../src-main/engine/discovery/rfc7050.js';
import { embedIPv4, RFC6052_LENGTHS, type Rfc6052Length } from '../../src-main/engine/ip/rfc6052.js';
import { parseIPv6 } from '../../src-main/engine/ip/address.js';

const v6 = (t: string) => {
  const b = parseIPv6(t);
  if (!b) throw new Error(t);
  return b;
};

test('one synthesized pair per RFC 6052 length gives back that prefix', () => {
  const prefixes: Record<Rfc6052Length, string> = {
    32: '2001:db8::/32',
    40: '2001:db8:100::/40',
    48: '2001:db8:122::/48',
    56: '2001:db8:122:300::/56',
    64: '2001:db8:122:344::/64',
    96: '2001:db8:122:344::/96',
  };
  for (const len of RFC6052_LENGTHS) {
    const p = v6(prefixes[len].split('/')[0]);
    const answers = [
      embedIPv4({ addr: p, len: len }, WKA_PRIMARY),
      embedIPv4({ addr: p, len: len }, WKA_SECONDARY),
    ];
    const r = prefixesFromAnswers(answers);
    assert.deepEqual(
      r.prefixes.map((x) => [x.prefix, x.len]),
      [[prefixes[len], len]],
      `/${len}`,
    );
    assert.deepEqual(r.rejected, []);
  }
});

test('addresses as written in the RFCs and as unbound synthesizes them', () => {
  // /96: what unbound with dns64-prefix 2001:db8:64::/96 answers.
  assert.equal(prefixesFromAnswers([v6('2001:db8:64::c000:aa')]).prefixes[0].prefix, '2001:db8:64::/96');
  // /64: the u-octet (byte 8) is zero, the IPv4 address in bytes 9-12.
  assert.equal(prefixesFromAnswers([v6('2001:db8:1:2:c0:0:aa00:0')]).prefixes[0].prefix, '2001:db8:1:2::/64');
  // /32: bytes 4-7.
  assert.equal(prefixesFromAnswers([v6('2001:db8:c000:ab::')]).prefixes[0].prefix, '2001:db8::/32');
  // /40: bytes 5-7 and 9.
  assert.equal(prefixesFromAnswers([v6('2001:db8:1c0:0:aa::')]).prefixes[0].prefix, '2001:db8:100::/40');
});

test('the Well-Known Prefix is accepted for the WKAs (RFC 7050 §2.2 exception to RFC 6052 §3.1)', () => {
  const r = prefixesFromAnswers([v6('64:ff9b::c000:aa'), v6('64:ff9b::c000:ab')]);
  assert.deepEqual(
    r.prefixes.map((x) => x.prefix),
    ['64:ff9b::/96'],
  );
});

test('the Well-Known Prefix at another length is rejected (RFC 6052 §2.1)', () => {
  const r = prefixesFromAnswers([v6('64:ff9b::c0:0:aa00:0')]);
  assert.deepEqual(r.prefixes, []);
  assert.match(r.rejected.join('\n'), /Well-Known Prefix/);
});

test('a non-zero u-octet disqualifies the short lengths (RFC 6052 §2.2)', () => {
  // 192.0.0.170 at the /64 position, but byte 8 is 0x01.
  const a = v6('2001:db8:1:2:1c0:0:aa00:0');
  assert.deepEqual(wkaPositions(a), []);
  const r = prefixesFromAnswers([a]);
  assert.deepEqual(r.prefixes, []);
  assert.match(r.rejected[0], /neither 192\.0\.0\.170 nor 192\.0\.0\.171/);
  // As a /96 prefix the u-octet belongs to the prefix and must be zero too.
  const r96 = prefixesFromAnswers([v6('2001:db8:0:0:100::c000:aa')]);
  assert.deepEqual(r96.prefixes, []);
  assert.match(r96.rejected.join('\n'), /"u" octet/);
});

test('a prefix that itself contains 192.0.0.170 is settled with the secondary WKA (RFC 7050 §3)', () => {
  // 2001:db8:c000:aa::/96: bytes 4-7 are c0 00 00 aa, so the /32 position reads 192.0.0.170 too.
  const p = v6('2001:db8:c000:aa::');
  const a170 = embedIPv4({ addr: p, len: 96 }, WKA_PRIMARY);
  const a171 = embedIPv4({ addr: p, len: 96 }, WKA_SECONDARY);
  assert.deepEqual(
    wkaPositions(a170).map((c) => c.len),
    [32, 96],
  );
  const alone = prefixesFromAnswers([a170]);
  assert.deepEqual(alone.prefixes, [], 'ambiguous without the secondary');
  assert.match(alone.rejected[0], /ambiguous/);
  const both = prefixesFromAnswers([a170, a171]);
  assert.deepEqual(
    both.prefixes.map((x) => x.prefix),
    ['2001:db8:c000:aa::/96'],
  );
});

test('a plain AAAA (no DNS64) yields nothing, with the reason', () => {
  const r = prefixesFromAnswers([v6('2001:db8::1')]);
  assert.deepEqual(r.prefixes, []);
  assert.equal(r.rejected.length, 1);
  assert.deepEqual(prefixesFromAnswers([]), { prefixes: [], rejected: [] });
});

test('two DNS64 prefixes come back in answer order, duplicates once', () => {
  const r = prefixesFromAnswers([
    v6('2001:db8:64::c000:aa'),
    v6('2001:db8:65::c000:aa'),
    v6('2001:db8:64::c000:ab'),
  ]);
  assert.deepEqual(
    r.prefixes.map((x) => x.prefix),
    ['2001:db8:64::/96', '2001:db8:65::/96'],
  );
});
