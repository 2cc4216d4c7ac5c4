// ICMP <-> ICMPv6 type and code tables (RFC 7915 §4.2 and §5.2), Parameter Problem pointer maps
// (RFC 7915 Figures 3 and 6), Packet Too Big <-> Fragmentation Needed MTU arithmetic, and the
// RFC 4884 layout of translated errors that carry extensions.

/** (type << 8) | code, or -1 for "silently drop". */
export type TypeCode = number;

/** ICMPv4 error types: never answered with an error, and carry an inner packet (RFC 1812 §4.3.2.7). */
export function isIcmp4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** RFC 7915 §4.2 informational messages: only Echo survives; the rest are single-hop or obsolete. */
export function info4to6(type: number): number {
  if (type === 8) return 128;
  if (type === 0) return 129;
  return -1;
}

/** RFC 7915 §5.2 informational messages: Echo only; MLD and ND are single-hop. */
export function info6to4(type: number): number {
  if (type === 128) return 8;
  if (type === 129) return 0;
  return -1;
}

/** RFC 7915 §4.2 "ICMPv4 error messages". */
export function error4to6(type: number, code: number): TypeCode {
  switch (type) {
    case 3: // Destination Unreachable
      switch (code) {
        case 0: // net unreachable
        case 1: // host unreachable
        case 5: // source route failed
        case 6:
        case 7:
        case 8:
        case 11:
        case 12:
          return (1 << 8) | 0;
        case 2: // protocol unreachable -> Parameter Problem, unrecognized Next Header (pointer 6)
          return (4 << 8) | 1;
        case 3: // port unreachable
          return (1 << 8) | 4;
        case 4: // fragmentation needed -> Packet Too Big
          return 2 << 8;
        case 9:
        case 10:
        case 13: // administratively prohibited
        case 15: // precedence cutoff in effect
          return (1 << 8) | 1;
        default: // 14 (host precedence violation) and unknown codes
          return -1;
      }
    case 11: // Time Exceeded: code unchanged
      return code <= 1 ? (3 << 8) | code : -1;
    case 12: // Parameter Problem: 0 (pointer) and 2 (bad length) become 4/0; 1 (missing option) drops
      return code === 0 || code === 2 ? 4 << 8 : -1;
    default: // Source Quench, Redirect, and unknown errors
      return -1;
  }
}

/** RFC 7915 §5.2 "ICMPv6 error messages". */
export function error6to4(type: number, code: number): TypeCode {
  switch (type) {
    case 1: // Destination Unreachable
      switch (code) {
        case 0: // no route
        case 2: // beyond scope
        case 3: // address unreachable
          return (3 << 8) | 1;
        case 1: // administratively prohibited
          return (3 << 8) | 10;
        case 4: // port unreachable
          return (3 << 8) | 3;
        default:
          return -1;
      }
    case 2: // Packet Too Big -> Fragmentation Needed
      return (3 << 8) | 4;
    case 3: // Time Exceeded: code unchanged
      return code <= 1 ? (11 << 8) | code : -1;
    case 4: // Parameter Problem
      if (code === 0) return 12 << 8;
      if (code === 1) return (3 << 8) | 2; // unrecognized Next Header -> protocol unreachable
      return -1;
    default:
      return -1;
  }
}

/** RFC 7915 Figure 3: IPv4 header byte -> IPv6 header byte, or -1 (n/a: drop). */
export function pointer4to6(p: number): number {
  if (p === 0 || p === 1) return p;
  if (p === 2 || p === 3) return 4;
  if (p === 8) return 7;
  if (p === 9) return 6;
  if (p >= 12 && p <= 15) return 8;
  if (p >= 16 && p <= 19) return 24;
  return -1;
}

/** RFC 7915 Figure 6: IPv6 header byte -> IPv4 header byte, or -1 (n/a: drop). */
export function pointer6to4(p: number): number {
  if (p === 0 || p === 1) return p;
  if (p === 4 || p === 5) return 2;
  if (p === 6) return 9;
  if (p === 7) return 8;
  if (p >= 8 && p <= 23) return 12;
  if (p >= 24 && p <= 39) return 16;
  return -1;
}

/** RFC 1191 §7 plateau table, for Fragmentation Needed messages from pre-RFC 1191 routers (MTU 0). */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

export function plateauBelow(len: number): number {
  for (const p of PLATEAUS) if (p < len) return p;
  return 68;
}

/**
 * RFC 7915 §4.2 Packet Too Big MTU: min(advertised + 20, IPv6 next-hop MTU, IPv4 next-hop MTU + 20),
 * never below 1280 (RFC 7915 §5, first bullet). An advertised 0 is replaced by the plateau below
 * the inner packet's length (RFC 1191 §5).
 */
export function mtu4to6(advertised: number, innerTotalLen: number, ipv6Mtu: number, ipv4Mtu: number): number {
  const adv = advertised === 0 ? plateauBelow(innerTotalLen) : advertised;
  return Math.max(1280, Math.min(adv + 20, ipv6Mtu, ipv4Mtu + 20));
}

/** RFC 7915 §5.2 Fragmentation Needed MTU: min(advertised - 20, IPv4 next-hop MTU, IPv6 next-hop MTU - 20). */
export function mtu6to4(advertised: number, ipv4Mtu: number, ipv6Mtu: number): number {
  return Math.max(68, Math.min(advertised - 20, ipv4Mtu, ipv6Mtu - 20, 0xffff));
}

/** ICMPv4 types with an RFC 4884 length field (byte 5, 32-bit words). */
export function hasLength4(type: number): boolean {
  return type === 3 || type === 11 || type === 12;
}

/** ICMPv6 types with an RFC 4884 length field (byte 4, 64-bit words). */
export function hasLength6(type: number): boolean {
  return type === 1 || type === 3;
}

/**
 * Where the parts of a translated ICMP error go. RFC 7915 §4.2/§5.2 keep RFC 4884 extensions as
 * opaque bytes and adjust the length; when the result would exceed the limit (576 for ICMPv4,
 * 1280 for ICMPv6), the inner packet beyond its first 128 bytes goes first, then the whole
 * extension (it is never cut in half), then the inner packet down to what fits (as Jool does).
 */
export class ErrorLayout {
  /** Bytes of the translated inner packet to keep. */
  inner = 0;
  /** Inner bytes plus zero padding (RFC 4884 §4.1: multiple of the unit, at least 128). */
  padded = 0;
  /** Extension bytes kept (0 or all of them). */
  ext = 0;
  /** The RFC 4884 length field value (padded / unit), 0 without extension. */
  lengthField = 0;

  compute(innerLen: number, extLen: number, head: number, limit: number, unit: number): this {
    if (extLen > 0) {
      // Like Jool, a translated quote that is not a multiple of the unit is cut down to one
      // (it is a truncated quote already), and a short one is zero padded to 128 (RFC 4884 §4.1).
      let padded = innerLen >= 128 ? Math.floor(innerLen / unit) * unit : 128;
      let inner = Math.min(innerLen, padded);
      if (head + padded + extLen > limit) {
        const room = Math.floor((limit - head - extLen) / unit) * unit;
        if (room >= 128) {
          padded = room;
          inner = Math.min(innerLen, room);
        } else {
          extLen = 0;
        }
      }
      if (extLen > 0) {
        this.inner = inner;
        this.padded = padded;
        this.ext = extLen;
        this.lengthField = padded / unit;
        return this;
      }
    }
    this.inner = Math.min(innerLen, limit - head);
    this.padded = this.inner;
    this.ext = 0;
    this.lengthField = 0;
    return this;
  }
}
