// ICMP errors the translator originates itself (RFC 7915 §4.4 and §5.4): Time Exceeded,
// Fragmentation Needed / Packet Too Big, Parameter Problem and the default "administratively
// prohibited" for packets it refuses. Sources are the configured icmpSourceV4 / icmpSourceV6.
import { copy, finish, pseudo6, sum16 } from './checksum.js';
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
  return buf[off + 24] !== 0xff || type === 2 || (type === 4 && code === 2);
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
  o[0] = 0x45;
  o[1] = 0;
  o[2] = total >> 8;
  o[3] = total & 255;
  const id = t.nextIpId();
  o[4] = id >> 8;
  o[5] = id & 255;
  o[6] = 0; // DF clear: the error may be fragmented on its way back (RFC 1812 §4.3.2.2)
  o[7] = 0;
  o[8] = 64;
  o[9] = 1;
  o[10] = o[11] = 0;
  const s = cfg.icmpSourceV4;
  o[12] = s >>> 24;
  o[13] = (s >>> 16) & 255;
  o[14] = (s >>> 8) & 255;
  o[15] = s & 255;
  for (let i = 0; i < 4; i++) o[16 + i] = buf[off + 12 + i];
  const hc = finish(sum16(o, 0, 20, 0));
  o[10] = hc >> 8;
  o[11] = hc & 255;
  o[20] = type;
  o[21] = code;
  o[22] = o[23] = 0;
  o[24] = (rest >>> 24) & 255;
  o[25] = (rest >>> 16) & 255;
  o[26] = (rest >>> 8) & 255;
  o[27] = rest & 255;
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
  o[0] = 0x60;
  o[1] = o[2] = o[3] = 0;
  o[4] = plen >> 8;
  o[5] = plen & 255;
  o[6] = 58;
  o[7] = 64;
  o.set(src6, 8);
  for (let i = 0; i < 16; i++) o[24 + i] = buf[off + 8 + i];
  o[40] = type;
  o[41] = code;
  o[42] = o[43] = 0;
  o[44] = (rest >>> 24) & 255;
  o[45] = (rest >>> 16) & 255;
  o[46] = (rest >>> 8) & 255;
  o[47] = rest & 255;
  copy(o, 48, buf, off, quote);
  const c = finish(sum16(o, 40, plen, pseudo6(o, 8, 24, plen, 58)));
  o[42] = c >> 8;
  o[43] = c & 255;
  t.counters.drops[reason]++;
  t.counters.icmpErrorsSent++;
  t.reason = reason;
  t.out(o, 0, 40 + plen);
  return 2;
}
