// Found against a real NAT64: TAYGA updates UDP checksums incrementally and, about once in 65536
// datagrams, sends IPv6 UDP with the checksum field 0x0000 where 0xffff was meant (one's
// complement "negative zero", RFC 1624 §3). `iperf3 -u -R` through the CLAT lost exactly those
// (drop.udp-checksum-zero). A whole datagram whose sum verifies with the field as 0 is one of
// them and is translated; a datagram that really carries no checksum (RFC 8200 §8.1 forbids it)
// and a fragment (which cannot be verified) are still dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { finish, fold, pseudo6, sum16 } from '../../../src-main/engine/siit/checksum.js';
import { run } from './helpers.js';

const CLAT = {
  pool6: '2001:db8:64::/96',
  eamt: [{ ipv4: '192.0.0.4/32', ipv6: '2001:db8:1::c1a7/128' }],
  icmpSourceV4: '192.0.0.5',
  icmpSourceV6: '2001:db8:1::c1a7',
};

/** 203.0.113.10:5201 -> the CLAT, as IPv6, payload chosen so the true checksum is 0xffff. */
function negativeZero(payloadWords = 8): Uint8Array {
  const ulen = 8 + payloadWords * 2;
  const p = new Uint8Array(40 + ulen);
  p.set([0x60, 0, 0, 0, 0, ulen, 17, 64]);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 10], 8);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xc1, 0xa7], 24);
  p.set([0x14, 0x51, 0xd9, 0x03, 0, ulen, 0, 0], 40);
  for (let i = 48; i < p.length - 2; i++) p[i] = (i * 37) & 255;
  // Last word such that the sum with a zero field folds to 0xffff: the computed checksum is 0,
  // sent as 0xffff, and an incremental update may turn it into 0x0000.
  const s = fold(sum16(p, 40, ulen, pseudo6(p, 8, 24, ulen, 17)));
  const w = (0xffff - s) & 0xffff;
  p[p.length - 2] = w >> 8;
  p[p.length - 1] = w & 255;
  assert.equal(finish(sum16(p, 40, ulen, pseudo6(p, 8, 24, ulen, 17))), 0, 'test packet: -0 checksum');
  return p;
}

function udp4Valid(ip: Uint8Array): boolean {
  const ulen = ip.length - 20;
  const pseudo = sum16(ip, 12, 8, 0) + 17 + ulen;
  return finish(sum16(ip, 20, ulen, pseudo)) === 0;
}

test('IPv6 UDP with checksum 0x0000 that verifies as 0xffff (TAYGA) is translated with a valid checksum', () => {
  const t = new Translator(CLAT);
  const r = run(t, negativeZero());
  assert.equal(r.verdict, 'translated', r.reason);
  assert.equal(r.out.length, 1);
  const ip = r.out[0];
  assert.equal(ip[0] >> 4, 4);
  const field = (ip[26] << 8) | ip[27];
  assert.notEqual(field, 0, 'IPv4 UDP checksum 0 would mean "no checksum"');
  assert.ok(udp4Valid(ip), 'the IPv4 UDP checksum verifies');
});

test('IPv6 UDP that really has no checksum is still dropped (RFC 8200 §8.1)', () => {
  const t = new Translator(CLAT);
  const p = negativeZero();
  p[p.length - 1] ^= 1; // now the sum does not verify with a zero field
  const r = run(t, p);
  assert.equal(r.verdict, 'dropped');
  assert.equal(r.reason, 'udp-checksum-zero');
});

test('a zero-checksum first fragment cannot be verified and is dropped', () => {
  const t = new Translator(CLAT);
  const whole = negativeZero(16);
  // Same datagram as the first of two fragments: Fragment Header, M=1, offset 0.
  const first = new Uint8Array(40 + 8 + 24);
  first.set(whole.subarray(0, 40));
  first[4] = 0;
  first[5] = 32;
  first[6] = 44;
  first.set([17, 0, 0, 1, 0, 0, 0x12, 0x34], 40);
  first.set(whole.subarray(40, 64), 48);
  const r = run(t, first);
  assert.equal(r.verdict, 'dropped');
  assert.equal(r.reason, 'udp-checksum-zero');
});
