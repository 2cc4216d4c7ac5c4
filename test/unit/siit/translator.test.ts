// The Translator's data-path API: in place with headroom, scratch without, counters, GSO hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG, HEADROOM, Translator, VERDICT } from '../../../src-main/engine/siit/translator.js';
import { REASONS } from '../../../src-main/engine/siit/counters.js';
import { finish, fold, pseudo6, sum16, sumAddr4, sumAddr6 } from '../../../src-main/engine/siit/checksum.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../../src-main/engine/ip/address.js';
import { run } from './helpers.js';

const CLAT = {
  pool6: '64:ff9b::/96',
  eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
  icmpSourceV4: '192.0.0.2',
  icmpSourceV6: '2001:db8:1:2::1',
};

/** IPv4/proto packet of `size` bytes from 192.0.0.1 to 8.8.8.8 with a valid transport checksum. */
function v4(proto: number, size: number, df = true): Uint8Array {
  const p = new Uint8Array(size);
  p.set([0x45, 0, size >> 8, size & 255, 0, 1, df ? 0x40 : 0, 0, 64, proto, 0, 0, 192, 0, 0, 1, 8, 8, 8, 8]);
  const hc = finish(sum16(p, 0, 20, 0));
  p[10] = hc >> 8;
  p[11] = hc & 255;
  for (let i = 40; i < size; i++) p[i] = i & 255;
  const l4 = size - 20;
  p.set([0x9c, 0x40, 0, 80], 20);
  if (proto === 17) p.set([l4 >> 8, l4 & 255], 24);
  else p[32] = 0x50;
  const at = proto === 6 ? 36 : 26;
  const c = finish(sum16(p, 20, l4, sumAddr4(0xc0000001) + sumAddr4(0x08080808) + proto + l4));
  p[at] = c >> 8;
  p[at + 1] = c & 255;
  return p;
}

test('RFC 6877 CLAT: 192.0.0.1 maps to the CLAT address by EAM, the peer through the NAT64 prefix', () => {
  const r = run(new Translator(CLAT), v4(17, 60));
  assert.equal(r.verdict, 'translated');
  const o = r.out[0];
  assert.equal(formatIPv6(o, 8), '2001:db8:1:2::c1a7');
  assert.equal(formatIPv6(o, 24), '64:ff9b::808:808');
  assert.equal(
    fold(sum16(o, 40, o.length - 40, pseudo6(o, 8, 24, o.length - 40, 17))),
    0xffff,
    'UDP checksum valid',
  );
});

test('in place with headroom; through the scratch area without it: same bytes', () => {
  const t = new Translator(CLAT);
  const pkt = v4(6, 100);
  let seen: [Uint8Array, number, number] | null = null;
  t.emit = (b, o, l) => (seen = [b, o, l]);
  const withRoom = new Uint8Array(HEADROOM + 100);
  withRoom.set(pkt, HEADROOM);
  assert.equal(t.translate4to6(withRoom, HEADROOM, 100), VERDICT.translated);
  const [b1, o1, l1] = seen!;
  assert.equal(b1, withRoom, 'emitted from the caller buffer');
  assert.equal(o1, HEADROOM - 20);
  assert.equal(t.l4Off, HEADROOM + 20);
  const first = b1.slice(o1, o1 + l1);
  const noRoom = pkt.slice();
  assert.equal(t.translate4to6(noRoom, 0, 100), VERDICT.translated);
  const [b2, o2, l2] = seen!;
  assert.notEqual(b2, noRoom);
  assert.deepEqual([...b2.slice(o2, o2 + l2)], [...first]);
});

test('every drop is counted under its reason', () => {
  const t = new Translator(CLAT);
  const bad = v4(17, 60);
  bad[10] ^= 0xff; // header checksum
  assert.equal(run(t, bad).reason, 'bad-ipv4-checksum');
  assert.equal(run(t, bad).reason, 'bad-ipv4-checksum');
  assert.equal(run(t, Uint8Array.from([0x50, 0, 0, 0])).reason, 'not-ip');
  assert.equal(run(t, v4(17, 60).subarray(0, 30)).reason, 'truncated');
  const snap = t.counters.snapshot();
  assert.deepEqual(snap.drops, { 'not-ip': 1, truncated: 1, 'bad-ipv4-checksum': 2 });
  assert.equal(REASONS.length, t.counters.drops.length);
});

test('GSO hook: a DF super-packet is neither refused nor fragmented; partial checksum moves with it', () => {
  const t = new Translator({ ...CLAT, ipv6Mtu: 1500, ipv4Mtu: 1500 });
  const size = 20000;
  const pkt = v4(6, size);
  // VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds the folded pseudo-header sum.
  const partial4 = fold(sumAddr4(0xc0000001) + sumAddr4(0x08080808) + 6 + (size - 20));
  pkt[36] = partial4 >> 8;
  pkt[37] = partial4 & 255;
  const plain = run(t, pkt);
  assert.equal(plain.reason, 'too-big', 'without the flag: Fragmentation Needed');
  const r = run(t, pkt, FLAG.gso | FLAG.csumPartial);
  assert.equal(r.verdict, 'translated');
  assert.equal(r.out.length, 1);
  const o = r.out[0];
  assert.equal(o.length, size + 20);
  const partial6 = fold(sumAddr6(o, 8) + sumAddr6(o, 24) + 6 + (size - 20));
  assert.equal((o[56] << 8) | o[57], partial6);

  const back = new Translator({ ...CLAT, ipv4Mtu: 1500 });
  const v6pkt = o.slice();
  v6pkt.set(parseIPv6('64:ff9b::808:808')!, 8);
  v6pkt.set(parseIPv6('2001:db8:1:2::c1a7')!, 24);
  assert.equal(run(back, v6pkt).reason, 'too-big');
  const r6 = run(back, v6pkt, FLAG.gso | FLAG.csumPartial);
  assert.equal(r6.verdict, 'translated');
  assert.equal(r6.out[0][6] & 0x40, 0x40, 'DF set on a large packet');
  const partialBack = fold(sumAddr4(0x08080808) + sumAddr4(parseIPv4('192.0.0.1')!) + 6 + (size - 20));
  assert.equal((r6.out[0][36] << 8) | r6.out[0][37], partialBack);
});

test('RFC 7915 §4.1: a DF-clear GSO packet is not fragmented either', () => {
  const t = new Translator(CLAT);
  const r = run(t, v4(17, 4000, false), FLAG.gso);
  assert.equal(r.out.length, 1);
  const r2 = run(t, v4(17, 4000, false));
  assert.equal(r2.out.length, 4, 'without the flag: fragments of 1280 bytes');
  assert.equal(t.counters.fragmentsEmitted, 4);
});
