// ICMP errors the translator makes itself are never sent about packets to multicast or broadcast
// destinations, nor to sources that are not one host: RFC 1812 §4.3.2.7 for IPv4 and RFC 4443
// §2.4(e) for IPv6. A kernel's own multicast (MLD reports to ff02::16, IGMP, mDNS) reaching the
// TUN must be a silent drop, not an error sent back to the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { mayAnswer4, mayAnswer6 } from '../../../src-main/engine/siit/errors.js';
import { finish, sum16 } from '../../../src-main/engine/siit/checksum.js';
import { parseIPv4 as parse4, parseIPv6 as parse6 } from '../../../src-main/engine/ip/address.js';

function parseIPv4(s: string): number {
  const a = parse4(s);
  assert.notEqual(a, null, s);
  return a as number;
}

function parseIPv6(s: string): Uint8Array {
  const a = parse6(s);
  assert.ok(a, s);
  return a;
}
import { run } from './helpers.js';

const CLAT = {
  pool6: '64:ff9b::/96',
  eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
  icmpSourceV4: '192.0.0.2',
  icmpSourceV6: '2001:db8:1:2::1',
};

/** IPv6 packet (payload zeros, checksums irrelevant for the address checks) with `nh` and hop limit. */
function v6(src: string, dst: string, nh = 17, hlim = 64, ext: number[] = []): Uint8Array {
  const payload = 8;
  const p = new Uint8Array(40 + ext.length + payload);
  const plen = ext.length + payload;
  p.set([0x60, 0, 0, 0, plen >> 8, plen & 255, ext.length ? 43 : nh, hlim]);
  p.set(parseIPv6(src), 8);
  p.set(parseIPv6(dst), 24);
  p.set(ext, 40);
  return p;
}

/** IPv4 UDP packet with a valid header checksum. */
function v4(src: string, dst: string, ttl = 64, fragWord = 0x4000): Uint8Array {
  const p = new Uint8Array(28);
  p.set([0x45, 0, 0, 28, 0, 7, fragWord >> 8, fragWord & 255, ttl, 17, 0, 0]);
  const s = parseIPv4(src);
  const d = parseIPv4(dst);
  p.set(
    [
      s >>> 24,
      (s >>> 16) & 255,
      (s >>> 8) & 255,
      s & 255,
      d >>> 24,
      (d >>> 16) & 255,
      (d >>> 8) & 255,
      d & 255,
    ],
    12,
  );
  const hc = finish(sum16(p, 0, 20, 0));
  p[10] = hc >> 8;
  p[11] = hc & 255;
  p.set([0x9c, 0x40, 0, 53, 0, 8, 0, 0], 20);
  return p;
}

function silent(t: Translator, pkt: Uint8Array, reason: string): void {
  const before = t.counters.icmpErrorsSent;
  const r = run(t, pkt);
  assert.equal(r.verdict, 'dropped');
  assert.equal(r.reason, reason);
  assert.equal(r.out.length, 0);
  assert.equal(t.counters.icmpErrorsSent, before);
}

test('RFC 4443 §2.4(e)(3): no Destination Unreachable about a packet to a multicast group', () => {
  const t = new Translator(CLAT);
  // The bring-up noise of a TUN with a link-local: MLDv2 reports and all-nodes pings.
  silent(t, v6('fe80::1', 'ff02::16', 58), 'dst-untranslatable');
  silent(t, v6('2001:db8:1:2::c1a7', 'ff02::1'), 'dst-untranslatable');
  silent(t, v6('2001:db8:1:2::c1a7', 'ff0e::101'), 'dst-untranslatable');
  // The same packet to an untranslatable unicast address is answered (the control case).
  const r = run(t, v6('2001:db8:1:2::c1a7', '2001:db8:9::1'));
  assert.equal(r.verdict, 'icmp-error');
  assert.equal(r.out.length, 1);
  assert.equal(r.out[0][40], 1); // Destination Unreachable
});

test('RFC 4443 §2.4(e)(3): no Parameter Problem code 0 about a packet to a multicast group', () => {
  const t = new Translator(CLAT);
  // Routing header type 0... with Segments Left 1: RFC 7915 §5.1 answers Parameter Problem,
  // pointing at Segments Left, but not when the destination is a group.
  const rh = [17, 0, 0, 1, 0, 0, 0, 0];
  silent(t, v6('2001:db8:1:2::c1a7', 'ff0e::1', 17, 64, rh), 'routing-header');
  const r = run(t, v6('2001:db8:1:2::c1a7', '64:ff9b::808:808', 17, 64, rh));
  assert.equal(r.verdict, 'icmp-error');
  assert.deepEqual([r.out[0][40], r.out[0][41]], [4, 0]);
});

test('RFC 4443 §2.4(e): Packet Too Big and Parameter Problem code 2 may answer a multicast packet', () => {
  const pkt = v6('2001:db8:1:2::c1a7', 'ff0e::1');
  assert.equal(mayAnswer6(pkt, 0, 2, 0), true);
  assert.equal(mayAnswer6(pkt, 0, 4, 2), true);
  assert.equal(mayAnswer6(pkt, 0, 4, 0), false);
  assert.equal(mayAnswer6(pkt, 0, 4, 1), false);
  assert.equal(mayAnswer6(pkt, 0, 1, 1), false);
  assert.equal(mayAnswer6(pkt, 0, 3, 0), false);
  // §2.4(e)(6): sources that are not one node get nothing, not even Packet Too Big.
  for (const src of ['::', '::1', 'ff02::1'])
    for (const [type, code] of [
      [1, 1],
      [2, 0],
      [4, 2],
    ])
      assert.equal(mayAnswer6(v6(src, '2001:db8::1'), 0, type, code), false, `${src} ${type}/${code}`);
  assert.equal(mayAnswer6(v6('fe80::1', '2001:db8::1'), 0, 1, 1), true);
});

test('RFC 1812 §4.3.2.7: no ICMPv4 error about a datagram to a multicast or broadcast address', () => {
  const t = new Translator(CLAT);
  // TTL 1 to a unicast peer: Time Exceeded (the control case).
  const r = run(t, v4('192.0.0.1', '8.8.8.8', 1));
  assert.equal(r.verdict, 'icmp-error');
  assert.equal(r.out[0][20], 11);
  // TTL 1 (IGMP, mDNS, SSDP all go out with TTL 1 or 255) to groups and the limited broadcast.
  for (const dst of ['224.0.0.22', '224.0.0.251', '239.255.255.250', '255.255.255.255'])
    silent(t, v4('192.0.0.1', dst, 1), 'dst-untranslatable');
});

test('RFC 1812 §4.3.2.7: no ICMPv4 error about non-initial fragments or from non-host sources', () => {
  const t = new Translator(CLAT);
  // A non-initial fragment whose TTL runs out: dropped without Time Exceeded.
  silent(t, v4('192.0.0.1', '8.8.8.8', 1, 0x0001), 'ttl-expired');
  const unicast = parseIPv4('192.0.0.1');
  const peer = parseIPv4('8.8.8.8');
  assert.equal(mayAnswer4(unicast, peer, 0), true);
  assert.equal(mayAnswer4(unicast, peer, 1), false);
  for (const dst of ['224.0.0.1', '239.1.2.3', '255.255.255.255'])
    assert.equal(mayAnswer4(unicast, parseIPv4(dst), 0), false, dst);
  // Zero, loopback, multicast, Class E and broadcast sources do not define a single host.
  for (const src of ['0.0.0.0', '127.0.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255'])
    assert.equal(mayAnswer4(parseIPv4(src), peer, 0), false, src);
});
