// Header writing shared by every packet the translator emits: the outer packet, the packet
// quoted inside a translated ICMP error (RFC 7915 §4.3 / §5.3), fragments, and the errors the
// translator originates. Jool's rfc7915 runs one table of steps for outer and inner packets;
// here the steps are these functions and transport.ts, called by both.
import { IPPROTO_FRAGMENT } from '../ip/numbers.js';

/**
 * The IPv6 header at o[p] (RFC 7915 §4.1): Traffic Class from the IPv4 TOS, flow label 0, the
 * payload length, next header and hop limit. The addresses (o[p+8, p+40)) are the caller's: they
 * are mapped straight into place, or written with writeAddrs6. Kept apart from the Fragment
 * Header so that it stays small enough for V8 to inline into the translator's hot path.
 */
export function writeIpv6(
  o: Uint8Array,
  p: number,
  tos: number,
  plen: number,
  nh: number,
  hop: number,
): void {
  o[p] = 0x60 | (tos >> 4);
  o[p + 1] = (tos & 15) << 4;
  o[p + 2] = 0;
  o[p + 3] = 0;
  o[p + 4] = (plen >> 8) & 255;
  o[p + 5] = plen & 255;
  o[p + 6] = nh;
  o[p + 7] = hop;
}

/**
 * A Fragment Header (RFC 8200 §4.5) after the IPv6 header at o[p], carrying fragWord (offset | M)
 * and the IPv4 Identification (RFC 7915 §4.1); the IPv6 header's Next Header becomes 44 and nh
 * moves into the Fragment Header. Returns the length of both headers, 48.
 */
export function writeFragmentHeader(
  o: Uint8Array,
  p: number,
  nh: number,
  fragWord: number,
  id: number,
): number {
  o[p + 6] = IPPROTO_FRAGMENT;
  o[p + 40] = nh;
  o[p + 41] = 0;
  o[p + 42] = fragWord >> 8;
  o[p + 43] = fragWord & 255;
  o[p + 44] = 0;
  o[p + 45] = 0;
  o[p + 46] = (id >> 8) & 255;
  o[p + 47] = id & 255;
  return 48;
}

/** Copies the 16-byte source and destination addresses into the IPv6 header at o[p]. */
export function writeAddrs6(o: Uint8Array, p: number, src: Uint8Array, dst: Uint8Array): void {
  for (let i = 0; i < 16; i++) {
    o[p + 8 + i] = src[i];
    o[p + 24 + i] = dst[i];
  }
}

/** Writes a 20-byte IPv4 header (no options) with its checksum at o[p]. */
export function writeIpv4(
  o: Uint8Array,
  p: number,
  tos: number,
  total: number,
  id: number,
  flagsOff: number,
  ttl: number,
  proto: number,
  src: number,
  dst: number,
): void {
  o[p] = 0x45;
  o[p + 1] = tos;
  o[p + 2] = total >> 8;
  o[p + 3] = total & 255;
  o[p + 4] = id >> 8;
  o[p + 5] = id & 255;
  o[p + 6] = flagsOff >> 8;
  o[p + 7] = flagsOff & 255;
  o[p + 8] = ttl;
  o[p + 9] = proto;
  o[p + 12] = src >>> 24;
  o[p + 13] = (src >>> 16) & 255;
  o[p + 14] = (src >>> 8) & 255;
  o[p + 15] = src & 255;
  o[p + 16] = dst >>> 24;
  o[p + 17] = (dst >>> 16) & 255;
  o[p + 18] = (dst >>> 8) & 255;
  o[p + 19] = dst & 255;
  // The header checksum, unrolled: ten words plus the fold.
  let s =
    ((o[p] << 8) | o[p + 1]) +
    ((o[p + 2] << 8) | o[p + 3]) +
    ((o[p + 4] << 8) | o[p + 5]) +
    ((o[p + 6] << 8) | o[p + 7]) +
    ((o[p + 8] << 8) | o[p + 9]) +
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  o[p + 10] = c >> 8;
  o[p + 11] = c & 255;
}

/** The ICMP header's type, code, zero checksum and second word (`rest`: MTU, pointer, length) at o[p]. */
export function writeIcmpHeader(o: Uint8Array, p: number, type: number, code: number, rest: number): void {
  o[p] = type;
  o[p + 1] = code;
  o[p + 2] = 0;
  o[p + 3] = 0;
  o[p + 4] = (rest >>> 24) & 255;
  o[p + 5] = (rest >>> 16) & 255;
  o[p + 6] = (rest >>> 8) & 255;
  o[p + 7] = rest & 255;
}
