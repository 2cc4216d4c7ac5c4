// RFC 6052 IPv4-embedded IPv6 addresses: the prefix rules (§2.1, §2.2), where the IPv4 octets
// go under each prefix length (§2.2 figure 1), embedding and extracting (§2.2, §2.3), and the
// §3.1 rule that the Well-Known Prefix carries only global IPv4 addresses. Pool6 is the
// translator's per-packet form; embedIPv4/extractIPv4 the byte-array form the CLAT checks, the
// DNS64 (RFC 6147 §5.1.7) and discovery (RFC 7050) use.
import {
  hostBitsSet6,
  inPrefix6,
  ipv4FromBytes,
  isGlobal4,
  parsePrefix6,
  prefixMatch6,
  type Prefix6,
} from './address.js';

/** The prefix lengths RFC 6052 §2.2 allows. */
export const RFC6052_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
export type Rfc6052Length = (typeof RFC6052_LENGTHS)[number];

export function isRfc6052Length(len: number): len is Rfc6052Length {
  return (RFC6052_LENGTHS as readonly number[]).includes(len);
}

/** A NAT64 prefix that passed checkRfc6052Prefix: a Prefix6 of an RFC 6052 length. */
export interface Pref64 extends Prefix6 {
  len: Rfc6052Length;
}

/** RFC 6052 §2.1: the Well-Known Prefix. */
export const WKP_TEXT = '64:ff9b::/96';
const WKP = parsePrefix6(WKP_TEXT);

/**
 * RFC 6052 §2.2 figure 1: the byte positions of the four IPv4 octets under a prefix of each
 * length. Octet 8 (bits 64-71, "u") is always skipped, so /40 to /56 straddle it.
 */
const POSITIONS: Record<Rfc6052Length, readonly number[]> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

export function rfc6052Positions(len: Rfc6052Length): readonly number[] {
  return POSITIONS[len];
}

export interface Rfc6052Problem {
  /** Structural (length, u-octet: no mapping is defined) or not (host bits, policy). */
  code: 'length' | 'u-octet' | 'host-bits' | 'wkp-length' | 'multicast';
  message: string;
}

/**
 * Why p cannot be a NAT64 prefix, or null: RFC 6052 §2.2 lengths only and bits 64-71 (the "u"
 * octet) zero, no bits set after the length (the host-bit rule, ip/address.ts), the Well-Known
 * Prefix only as a /96 (§2.1), and never a multicast prefix. Checked in that order.
 */
export function checkRfc6052Prefix(p: Prefix6): Rfc6052Problem | null {
  const { addr, len } = p;
  if (!isRfc6052Length(len))
    return {
      code: 'length',
      message: `prefix length /${len} is not one RFC 6052 §2.2 allows (32, 40, 48, 56, 64 or 96)`,
    };
  if (addr[8] !== 0)
    return {
      code: 'u-octet',
      message: 'bits 64-71 (the "u" octet) of the prefix must be zero (RFC 6052 §2.2)',
    };
  if (hostBitsSet6(p))
    return {
      code: 'host-bits',
      message: `the address has bits set beyond /${len}; write the prefix with no bits set after its length`,
    };
  if (len !== 96 && prefixMatch6(WKP.addr, 96, addr, 0))
    return {
      code: 'wkp-length',
      message: 'the Well-Known Prefix 64:ff9b::/96 is only valid with length 96 (RFC 6052 §2.1)',
    };
  if (addr[0] === 0xff)
    return { code: 'multicast', message: 'a multicast prefix (ff00::/8) cannot be a NAT64 prefix' };
  return null;
}

/** "PREFIX/LEN" as a NAT64 prefix, strictly by checkRfc6052Prefix; throws with the reason. */
export function parsePref64(text: string): Pref64 {
  const p = parsePrefix6(text);
  const problem = checkRfc6052Prefix(p);
  if (problem) throw new Error(`${text}: ${problem.message}`);
  return p as Pref64;
}

export function isWellKnownPrefix(p: Prefix6): boolean {
  return p.len === 96 && prefixMatch6(WKP.addr, 96, p.addr, 0);
}

/**
 * RFC 6052 §2.2: the IPv4-embedded address of the 4 bytes v4 under p, written to
 * out[off..off+16): prefix bits, the octets at their positions, u-octet and suffix zero.
 */
export function embedIPv4(
  p: Prefix6,
  v4: Uint8Array,
  out: Uint8Array = new Uint8Array(16),
  off = 0,
): Uint8Array {
  if (!isRfc6052Length(p.len)) throw new Error(`no RFC 6052 mapping for /${p.len}`);
  const n = p.len >> 3;
  for (let i = 0; i < n; i++) out[off + i] = p.addr[i];
  for (let i = n; i < 16; i++) out[off + i] = 0;
  const pos = POSITIONS[p.len];
  for (let i = 0; i < 4; i++) out[off + pos[i]] = v4[i];
  return out;
}

/** RFC 6052 §2.3: the 4 IPv4 bytes embedded in v6[off..off+16), or null outside p. */
export function extractIPv4(p: Pref64, v6: Uint8Array, off = 0): Uint8Array | null {
  if (!inPrefix6(p, v6, off)) return null;
  const pos = POSITIONS[p.len];
  return Uint8Array.of(v6[off + pos[0]], v6[off + pos[1]], v6[off + pos[2]], v6[off + pos[3]]);
}

/**
 * RFC 7050 §2.2 / RFC 8880 §7: the two well-known addresses of ipv4only.arpa, which DNS64s
 * synthesize with any prefix (the WKP included) so that clients can discover it.
 */
export const IPV4ONLY_ADDRESSES = ['192.0.0.170', '192.0.0.171'] as const;
const IPV4ONLY = new Set([0xc00000aa, 0xc00000ab]);

/** RFC 6052 §3.1 applied to synthesis: may this IPv4 address be represented with this prefix? */
export function maySynthesize(p: Prefix6, v4: Uint8Array): boolean {
  if (!isWellKnownPrefix(p)) return true;
  const n = ipv4FromBytes(v4);
  return IPV4ONLY.has(n) || isGlobal4(n);
}

/** An RFC 6052 prefix: IPv4 octets go at fixed byte positions, skipping the u-octet (byte 8). */
export class Pool6 {
  readonly prefix: Uint8Array;
  readonly len: number;
  /** RFC 6052 §3.1: the Well-Known Prefix never carries non-global IPv4 addresses. */
  readonly wellKnown: boolean;
  private readonly pos: number[];

  constructor(p: Prefix6) {
    // Only the structural rules: a general SIIT takes whatever prefix it is configured with
    // (the policy ones are for the CLAT's own checks, clat/plan.ts).
    const problem = checkRfc6052Prefix(p);
    if (problem && (problem.code === 'length' || problem.code === 'u-octet'))
      throw new Error(problem.message);
    this.prefix = p.addr;
    this.len = p.len;
    this.wellKnown = isWellKnownPrefix(p);
    this.pos = [...POSITIONS[p.len as Rfc6052Length]];
  }

  /** Writes the IPv4-embedded address of `v4` at out[off]; false if RFC 6052 §3.1 forbids it. */
  embed(v4: number, out: Uint8Array, off: number): boolean {
    if (this.wellKnown && !isGlobal4(v4)) return false;
    const p = this.prefix;
    const n = this.len >> 3;
    for (let i = 0; i < n; i++) out[off + i] = p[i];
    for (let i = n; i < 16; i++) out[off + i] = 0;
    const pos = this.pos;
    out[off + pos[0]] = v4 >>> 24;
    out[off + pos[1]] = (v4 >>> 16) & 255;
    out[off + pos[2]] = (v4 >>> 8) & 255;
    out[off + pos[3]] = v4 & 255;
    return true;
  }

  /** The IPv4 address (int32) embedded in b[off..off+16), or -1 when outside the prefix or forbidden. */
  extract(b: Uint8Array, off: number): number {
    if (!prefixMatch6(this.prefix, this.len, b, off)) return -1;
    const pos = this.pos;
    // The u-octet and the suffix are ignored on the way in (RFC 6052 §2.2 only constrains senders).
    const v4 = (b[off + pos[0]] << 24) | (b[off + pos[1]] << 16) | (b[off + pos[2]] << 8) | b[off + pos[3]];
    if (this.wellKnown && !isGlobal4(v4)) return -1;
    return v4;
  }
}
