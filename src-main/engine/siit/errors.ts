// ICMP errors the translator originates itself (RFC 7915 §4.4 and §5.4): Time Exceeded,
// Fragmentation Needed / Packet Too Big, Parameter Problem and the default "administratively
// prohibited" for packets it refuses. Sources are the configured icmpSourceV4 / icmpSourceV6.
import { copy, finish, pseudo6, sum16 } from './checksum.js';
import { writeIcmpHeader, writeIpv4, writeIpv6 } from './headers.js';
import { ICMP6_PACKET_TOO_BIG, ICMP6_PARAM_PROBLEM, IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../ip/numbers.js';
import { isIllegalSource4, isIllegalSource6 } from '../ip/address.js';
import type { Translator, Verdict } from './translator.js';

/** RFC 1812 §4.3.2.2: an ICMPv4 error quotes as much of the packet as fits in 576 bytes. */
export const ICMP4_ERROR_MAX = 576;
/** RFC 4443 §2.4(c): an ICMPv6 error must not exceed the minimum IPv6 MTU. */
export const ICMP6_ERROR_MAX = 1280;

/**
 * RFC 1812 §4.3.2.7: no ICMPv4 error about a datagram destined to an IP broadcast or multicast
 * address, about a non-initial fragment, or whose source does not define a single host (zero,
 * loopback, broadcast, multicast or Class E: isIllegalSource4). The limited broadcast is the only
 * broadcast the translator can recognise: it is not told any subnet's directed broadcast.
 * ICMPv4 errors themselves are excluded by the callers (RFC 1812 §4.3.2.7, first bullet).
 */
export function mayAnswer4(src: number, dst: number, fragOffset: number): boolean {
  // `>>> 0`: the data path holds addresses as int32, parseIPv4 as uint32.
  return fragOffset === 0 && !isIllegalSource4(src) && dst >>> 28 !== 14 && dst >>> 0 !== 0xffffffff;
}

/**
 * RFC 4443 §2.4(e): no ICMPv6 error about a packet destined to a multicast address (3), except
 * Packet Too Big and Parameter Problem code 2 (unrecognized option, RFC 4443 §3.4), nor about
 * one whose source does not identify a single node: unspecified, multicast (6), or loopback,
 * which never leaves a node (RFC 4291 §2.5.3). ICMPv6 errors themselves are excluded by the
 * callers (§2.4(e)(1)).
 */
export function mayAnswer6(buf: Uint8Array, off: number, type: number, code: number): boolean {
  if (isIllegalSource6(buf, off + 8)) return false;
  return (
    buf[off + 24] !== 0xff || type === ICMP6_PACKET_TOO_BIG || (type === ICMP6_PARAM_PROBLEM && code === 2)
  );
}

/**
 * Sends an ICMPv4 error about the IPv4 packet buf[off, off+len) back to its source and returns the
 * verdict. `rest` is the second word of the ICMP header (MTU or pointer). Packets that must not
 * be answered (mayAnswer4) are dropped silently with the same reason.
 */
export function sendIcmp4Error(
  t: Translator,
  buf: Uint8Array,
  off: number,
  len: number,
  type: number,
  code: number,
  rest: number,
  reason: number,
): Verdict {
  const cfg = t.cfg;
  const src = (buf[off + 12] << 24) | (buf[off + 13] << 16) | (buf[off + 14] << 8) | buf[off + 15];
  const dst = (buf[off + 16] << 24) | (buf[off + 17] << 16) | (buf[off + 18] << 8) | buf[off + 19];
  const fragOffset = ((buf[off + 6] << 8) | buf[off + 7]) & 0x1fff;
  if (cfg.icmpSourceV4 === -1 || t.inHairpin || !mayAnswer4(src, dst, fragOffset)) return t.drop(reason);
  // RFC 1812 §4.3.2.8: rate limited; the packet is still dropped, just without the error.
  if (!t.takeIcmpToken()) return t.drop(reason);
  const o = t.sErr;
  const quote = Math.min(len, ICMP4_ERROR_MAX - 28);
  const total = 28 + quote;
  // DF clear (flags 0): the error may be fragmented on its way back (RFC 1812 §4.3.2.2).
  writeIpv4(o, 0, 0, total, t.nextIpId(), 0, 64, IPPROTO_ICMP, cfg.icmpSourceV4, src);
  writeIcmpHeader(o, 20, type, code, rest);
  copy(o, 28, buf, off, quote);
  const c = finish(sum16(o, 20, 8 + quote, 0));
  o[22] = c >> 8;
  o[23] = c & 255;
  t.counters.drops[reason]++;
  t.counters.icmpErrorsSent++;
  t.reason = reason;
  t.out(o, 0, total);
  return 2;
}

/**
 * Sends an ICMPv6 error about the IPv6 packet buf[off, off+len) back to its source. Packets that
 * must not be answered (mayAnswer6) are dropped silently with the same reason.
 */
export function sendIcmp6Error(
  t: Translator,
  buf: Uint8Array,
  off: number,
  len: number,
  type: number,
  code: number,
  rest: number,
  reason: number,
): Verdict {
  const src6 = t.cfg.icmpSourceV6;
  if (src6 === null || t.inHairpin || !mayAnswer6(buf, off, type, code)) return t.drop(reason);
  // RFC 4443 §2.4(f): rate limited; the packet is still dropped, just without the error.
  if (!t.takeIcmpToken()) return t.drop(reason);
  const o = t.sErr;
  const quote = Math.min(len, ICMP6_ERROR_MAX - 48);
  const plen = 8 + quote;
  writeIpv6(o, 0, 0, plen, IPPROTO_ICMPV6, 64);
  o.set(src6, 8);
  for (let i = 0; i < 16; i++) o[24 + i] = buf[off + 8 + i];
  writeIcmpHeader(o, 40, type, code, rest);
  copy(o, 48, buf, off, quote);
  const c = finish(sum16(o, 40, plen, pseudo6(o, 8, 24, plen, IPPROTO_ICMPV6)));
  o[42] = c >> 8;
  o[43] = c & 255;
  t.counters.drops[reason]++;
  t.counters.icmpErrorsSent++;
  t.reason = reason;
  t.out(o, 0, 40 + plen);
  return 2;
}
