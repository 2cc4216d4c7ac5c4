// RFC 6052 IPv4-embedded IPv6 addresses, as the DNS64 needs them: parse a Pref64::/n, embed an
// IPv4 address into it (synthesis, RFC 6147 §5.1.7), extract it again (PTR, RFC 6147 §5.3.1).
// Text parsing, the prefix rules and the embedding itself are the translator's
// (siit/addr.ts); this module keeps the DNS64's Buffer-based names over them.
import {
  POOL6_LENGTHS,
  checkRfc6052Prefix,
  embedIPv4Bytes,
  extractIPv4Bytes,
  formatIPv4Bytes,
  isGlobal4,
  formatIPv6 as formatIPv6At,
  parseIPv4Bytes,
  parseIPv6 as parseIPv6Bytes,
  prefixMatch6,
  type Rfc6052Length,
} from '../siit/addr.js';

/** The prefix lengths RFC 6052 §2.2 allows. */
export const PREFIX_LENGTHS = POOL6_LENGTHS;
export type PrefixLength = Rfc6052Length;

export interface Pref64 {
  /** 16 bytes; only the first `length` bits are meaningful, the rest are zero. */
  bytes: Buffer;
  length: PrefixLength;
  /** Canonical text, e.g. "64:ff9b::/96". */
  text: string;
}

/** RFC 6052 §2.1: the Well-Known Prefix. */
export const WKP_TEXT = '64:ff9b::/96';

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Parses IPv6 text (with an optional embedded dotted quad) into 16 bytes; null if invalid. */
export function parseIPv6(text: string): Buffer | null {
  const b = parseIPv6Bytes(text);
  return b ? toBuffer(b) : null;
}

/** RFC 5952 text of 16 bytes (lowercase, longest zero run compressed). */
export function formatIPv6(b: Uint8Array): string {
  return formatIPv6At(b, 0);
}

export function parseIPv4(text: string): Buffer | null {
  const b = parseIPv4Bytes(text);
  return b ? toBuffer(b) : null;
}

export function formatIPv4(b: Uint8Array): string {
  return formatIPv4Bytes(b, 0);
}

/**
 * Parses "PREFIX/LEN" strictly, by RFC 6052's rules (siit/addr.ts checkRfc6052Prefix: the §2.2
 * lengths, bits 64-71 zero, nothing set past LEN, the WKP only as /96). Throws with the reason.
 */
export function parsePref64(text: string): Pref64 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not an IPv6 prefix like 64:ff9b::/96`);
  const bytes = parseIPv6(m[1]);
  if (!bytes) throw new Error(`'${m[1]}' is not an IPv6 address`);
  const length = Number(m[2]);
  const problem = checkRfc6052Prefix(bytes, length);
  if (problem) throw new Error(`${text}: ${problem.message}`);
  return { bytes, length: length as PrefixLength, text: `${formatIPv6(bytes)}/${length}` };
}

/** RFC 6052 §2.2: the IPv4-embedded IPv6 address of v4 (4 bytes) under prefix; suffix zero. */
export function embed(prefix: Pref64, v4: Uint8Array): Buffer {
  return toBuffer(embedIPv4Bytes(prefix.bytes, prefix.length, v4));
}

/** Whether the 16-byte address lies in the prefix (first `length` bits equal). */
export function inPrefix(prefix: Pref64, v6: Uint8Array): boolean {
  return prefixMatch6(prefix.bytes, prefix.length, v6, 0);
}

/** RFC 6052 §2.3: the embedded IPv4 address, or null when v6 is not under the prefix. */
export function extract(prefix: Pref64, v6: Uint8Array): Buffer | null {
  const b = extractIPv4Bytes(prefix.bytes, prefix.length, v6, 0);
  return b ? toBuffer(b) : null;
}

export function isWellKnownPrefix(prefix: Pref64): boolean {
  return prefix.text === WKP_TEXT;
}

/**
 * RFC 7050 §2.2 / RFC 8880 §7: the two well-known addresses of ipv4only.arpa, which DNS64s
 * synthesize with any prefix (the WKP included) so that clients can discover it.
 */
export const IPV4ONLY_ADDRESSES = ['192.0.0.170', '192.0.0.171'] as const;
const IPV4ONLY = new Set([0xc00000aa, 0xc00000ab]);

/**
 * Whether v4 is globally reachable, which RFC 6052 §3.1 requires of addresses under the WKP
 * (the translator's list, siit/addr.ts isGlobal4).
 */
export function isGlobalIPv4(v4: Uint8Array): boolean {
  return isGlobal4((v4[0] << 24) | (v4[1] << 16) | (v4[2] << 8) | v4[3]);
}

/** RFC 6052 §3.1 applied to synthesis: may this IPv4 address be represented with this prefix? */
export function maySynthesize(prefix: Pref64, v4: Uint8Array): boolean {
  if (!isWellKnownPrefix(prefix)) return true;
  const n = ((v4[0] << 24) | (v4[1] << 16) | (v4[2] << 8) | v4[3]) >>> 0;
  return IPV4ONLY.has(n) || isGlobalIPv4(v4);
}

/** An IPv6 prefix of any length (for the exclusion set, RFC 6147 §5.1.4). */
export interface V6Range {
  bytes: Buffer;
  length: number;
  text: string;
}

export function parseV6Range(text: string): V6Range {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const bytes = m ? parseIPv6(m[1]) : null;
  const length = m ? Number(m[2]) : NaN;
  if (!m || !bytes || !(length >= 0 && length <= 128)) throw new Error(`'${text}' is not an IPv6 prefix`);
  return { bytes, length, text: `${formatIPv6(bytes)}/${length}` };
}

export function inRange(range: V6Range, v6: Uint8Array): boolean {
  return prefixMatch6(range.bytes, range.length, v6, 0);
}

/** The ip6.arpa name of a 16-byte address (RFC 3596 §2.5), without the trailing dot. */
export function ip6ArpaName(v6: Uint8Array): string {
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((v6[i] & 0xf).toString(16), (v6[i] >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** The 16 bytes named by a full 32-nibble ip6.arpa name, or null for anything else. */
export function parseIp6Arpa(name: string): Buffer | null {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length !== 34 || labels[32] !== 'ip6' || labels[33] !== 'arpa') return null;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 32; i++) {
    const l = labels[i];
    if (!/^[0-9a-f]$/.test(l)) return null;
    const v = parseInt(l, 16);
    const byte = 15 - (i >> 1);
    out[byte] |= i & 1 ? v << 4 : v;
  }
  return out;
}

/** The in-addr.arpa name of an IPv4 address (RFC 1035 §3.5), without the trailing dot. */
export function inAddrArpaName(v4: Uint8Array): string {
  return `${v4[3]}.${v4[2]}.${v4[1]}.${v4[0]}.in-addr.arpa`;
}
