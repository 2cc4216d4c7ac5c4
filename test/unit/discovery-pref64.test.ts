// The PREF64 option (RFC 8781 §4) read out of Router Advertisements built byte by byte: every
// Prefix Length Code, the Scaled Lifetime's units, and each way an option can be unusable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePref64Options, PLC_LENGTHS } from '../../src-main/engine/discovery/pref64.js';
import { parseRouterAdvertisement } from '../../src-main/engine/discovery/ra-socket.js';

/** RA header (RFC 4861 §4.2): type 134, code 0, checksum 0, hop limit 64, router lifetime 1800. */
function ra(...options: number[][]): Uint8Array {
  const head = [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
  return Uint8Array.from([...head, ...options.flat()]);
}

/** A PREF64 option: type 38, length 2, scaled lifetime (13 bits) | PLC (3 bits), 12 prefix bytes. */
function pref64(scaled: number, plc: number, prefix12: number[]): number[] {
  const v = (scaled << 3) | plc;
  return [38, 2, v >> 8, v & 0xff, ...prefix12];
}

const WKP12 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
/** A PIO (type 3, length 4), so PREF64 is not the only option. */
const PIO = [
  3, 4, 64, 0xc0, 0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0,
];

test('64:ff9b::/96 with a 600 s lifetime: scaled lifetime 75, PLC 0', () => {
  const bytes = ra(PIO, pref64(75, 0, WKP12));
  // The option's 4 bytes before the prefix, as on the wire: 38, 2, 0x02, 0x58.
  assert.deepEqual([...bytes.subarray(48, 52)], [38, 2, 0x02, 0x58]);
  const r = parsePref64Options(bytes);
  assert.equal(r.malformed, false);
  assert.deepEqual(r.ignored, []);
  assert.equal(r.options.length, 1);
  assert.equal(r.options[0].prefix, '64:ff9b::/96');
  assert.equal(r.options[0].len, 96);
  assert.equal(r.options[0].lifetime, 600);
  assert.deepEqual([...r.options[0].addr], [...WKP12, 0, 0, 0, 0]);
});

test('every Prefix Length Code maps to its RFC 6052 length (RFC 8781 §4 table)', () => {
  const expect = [
    [0, 96, '2001:db8:1122:3344:55:6677::/96'],
    [1, 64, '2001:db8:1122:3344::/64'],
    [2, 56, '2001:db8:1122:3300::/56'],
    [3, 48, '2001:db8:1122::/48'],
    [4, 40, '2001:db8:1100::/40'],
    [5, 32, '2001:db8::/32'],
  ] as const;
  assert.deepEqual(
    PLC_LENGTHS,
    expect.map((e) => e[1]),
  );
  for (const [plc, length, text] of expect) {
    // Only the prefix's own bytes are set, the rest of the 96 bits zero.
    const full = [0x20, 0x01, 0x0d, 0xb8, 0x11, 0x22, 0x33, 0x44, 0x00, 0x55, 0x66, 0x77];
    const p12 = full.map((b, i) => (i < length / 8 ? b : 0));
    const r = parsePref64Options(ra(pref64(1, plc, p12)));
    assert.equal(r.options.length, 1, `PLC ${plc}`);
    assert.equal(r.options[0].len, length);
    assert.equal(r.options[0].prefix, text);
    assert.equal(r.options[0].lifetime, 8, 'scaled lifetime 1 = 8 seconds');
    assert.equal(r.hostBitsCleared, 0);
  }
});

test('scaled lifetime: 0 withdraws, 8191 (all 13 bits) is 65528 s', () => {
  const r = parsePref64Options(ra(pref64(0, 0, WKP12), pref64(8191, 0, WKP12)));
  assert.deepEqual(
    r.options.map((o) => o.lifetime),
    [0, 65528],
  );
  // The high byte of 8191 << 3 is 0xff; nothing of it leaks into the PLC.
  assert.deepEqual(
    r.options.map((o) => o.len),
    [96, 96],
  );
});

test('PLC 6 and 7 are ignored and counted; later options are still read', () => {
  const r = parsePref64Options(ra(pref64(75, 6, WKP12), pref64(75, 7, WKP12), pref64(75, 0, WKP12)));
  assert.deepEqual(
    r.ignored.map((i) => i.problem),
    ['unknown-plc', 'unknown-plc'],
  );
  assert.equal(r.options.length, 1);
  assert.equal(r.malformed, false);
});

test('a PREF64 option whose Length is not 2 is ignored, not the RA', () => {
  const long = [38, 3, 0x02, 0x58, ...WKP12, 0, 0, 0, 0, 0, 0, 0, 0];
  const short = [38, 1, 0x02, 0x58, 0, 0, 0, 0];
  const r = parsePref64Options(ra(long, short, pref64(75, 0, WKP12)));
  assert.deepEqual(
    r.ignored.map((i) => i.problem),
    ['bad-length', 'bad-length'],
  );
  assert.match(r.ignored[0].detail, /Length 3/);
  assert.equal(r.options.length, 1);
});

test('prefixes that break RFC 6052 are ignored: u-octet, WKP not /96, multicast', () => {
  const uOctet = [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0x01, 0, 0, 0]; // byte 8 set, /96
  const wkp64 = pref64(75, 1, WKP12); // 64:ff9b::/64
  const mcast = [0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const r = parsePref64Options(ra(pref64(75, 0, uOctet), wkp64, pref64(75, 0, mcast)));
  assert.equal(r.options.length, 0);
  assert.deepEqual(
    r.ignored.map((i) => i.problem),
    ['not-rfc6052', 'not-rfc6052', 'not-rfc6052'],
  );
  assert.match(r.ignored[0].detail, /u" octet/);
  assert.match(r.ignored[1].detail, /Well-Known Prefix/);
  assert.match(r.ignored[2].detail, /multicast/);
});

test('bits past the prefix length are cleared, counted, and the prefix used', () => {
  const dirty = [0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0x01];
  const r = parsePref64Options(ra(pref64(75, 5, dirty)));
  assert.equal(r.hostBitsCleared, 1);
  assert.equal(r.options[0].prefix, '2001:db8::/32');
  assert.deepEqual([...r.options[0].addr.subarray(4)], new Array(12).fill(0));
});

test('several PREF64 options keep their order', () => {
  const a = [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0];
  const b = [0x20, 0x01, 0x0d, 0xb8, 0, 0x65, 0, 0, 0, 0, 0, 0];
  const r = parsePref64Options(ra(pref64(10, 0, a), PIO, pref64(20, 0, b)));
  assert.deepEqual(
    r.options.map((o) => [o.prefix, o.lifetime]),
    [
      ['2001:db8:64::/96', 80],
      ['2001:db8:65::/96', 160],
    ],
  );
});

test('a broken option area makes the whole RA malformed (RFC 4861 §6.1.2)', () => {
  const zeroLen = parsePref64Options(ra(pref64(75, 0, WKP12), [38, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(zeroLen.malformed, true);
  assert.equal(zeroLen.options.length, 0, 'nothing from a discarded RA is used');
  const truncated = parsePref64Options(ra(pref64(75, 0, WKP12)).subarray(0, 16 + 10));
  assert.equal(truncated.malformed, true);
  const oddByte = parsePref64Options(Uint8Array.from([...ra(pref64(75, 0, WKP12)), 38]));
  assert.equal(oddByte.malformed, true);
  assert.equal(parsePref64Options(Uint8Array.from([133, 0, 0, 0])).malformed, true, 'not an RA');
  assert.equal(parsePref64Options(ra().fill(1, 1, 2)).malformed, true, 'code not 0');
  assert.equal(parsePref64Options(ra()).malformed, false, 'an RA with no options is fine');
});

test('parseRouterAdvertisement: the RA header and option area by RFC 4861 §6.1.2, PREF64 by this parser', () => {
  assert.equal(parseRouterAdvertisement(ra().subarray(0, 15)), undefined, 'shorter than 16 bytes');
  const badCode = ra();
  badCode[1] = 1;
  assert.equal(parseRouterAdvertisement(badCode), undefined, 'code not 0');
  assert.equal(parseRouterAdvertisement(ra([1, 0, 0, 0, 0, 0, 0, 0])), undefined, 'zero-length option');
  assert.equal(parseRouterAdvertisement(ra([38, 2, 0, 0])), undefined, 'option past the end');
  assert.deepEqual(parseRouterAdvertisement(ra()), { routerLifetime: 0x708, pref64: [] });
  const bytes = ra(PIO, pref64(75, 0, WKP12), pref64(3, 6, WKP12));
  assert.deepEqual(
    parseRouterAdvertisement(bytes)?.pref64.map((o) => [o.prefix, o.len, o.lifetime]),
    parsePref64Options(bytes).options.map((o) => [o.prefix, o.len, o.lifetime]),
  );
  assert.equal(parseRouterAdvertisement(bytes)?.pref64.length, 1, 'PLC 6 is ignored');
});

test('random bytes never throw', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let n = 0; n < 2000; n++) {
    const body = Array.from({ length: rnd() % 64 }, rnd);
    const r = parsePref64Options(Uint8Array.from([134, 0, 0, 0, ...new Array(12).fill(0), ...body]));
    for (const o of r.options) assert.ok([32, 40, 48, 56, 64, 96].includes(o.len));
  }
});
