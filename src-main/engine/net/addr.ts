// IPv4/IPv6 address text <-> bytes, and the RFC 6052 address mapping, for configuration code
// (bring-up, checks, tests): the throwing, byte-array names over the translator's own
// implementation (siit/addr.ts), which the per-packet path uses directly.
import {
  POOL6_LENGTHS,
  checkRfc6052Prefix,
  embedIPv4Bytes,
  formatIPv4Bytes,
  formatIPv6 as formatIPv6At,
  isRfc6052Length,
  parseIPv4Bytes,
  parseIPv6 as parseIPv6Bytes,
  prefixMatch6,
} from '../siit/addr.js';

/** 4 bytes from dotted-quad text; throws on anything else. */
export function parseIPv4(text: string): Uint8Array {
  const b = parseIPv4Bytes(text);
  if (!b) throw new Error(`'${text}' is not an IPv4 address`);
  return b;
}

export function formatIPv4(b: Uint8Array): string {
  return formatIPv4Bytes(b, 0);
}

/** 16 bytes from any RFC 4291 §2.2 text form (including an embedded dotted quad); a zone is ignored. */
export function parseIPv6(text: string): Uint8Array {
  const b = parseIPv6Bytes(text.split('%')[0]);
  if (!b) throw new Error(`'${text}' is not an IPv6 address`);
  return b;
}

/** RFC 5952 canonical text: lower case, longest run of two or more zero groups as '::'. */
export function formatIPv6(b: Uint8Array): string {
  return formatIPv6At(b, 0);
}

export interface Prefix6 {
  bytes: Uint8Array;
  len: number;
}

/** ADDRESS/LENGTH; host bits are allowed here (rfc6052Problem reports them). */
export function parsePrefix6(text: string): Prefix6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not an IPv6 prefix (want ADDRESS/LENGTH, e.g. 64:ff9b::/96)`);
  const len = Number(m[2]);
  if (len > 128) throw new Error(`'${text}': prefix length ${len} is over 128`);
  return { bytes: parseIPv6(m[1]), len };
}

export function formatPrefix6(p: Prefix6): string {
  return `${formatIPv6(p.bytes)}/${p.len}`;
}

/** True when the first len bits of a and b agree. */
export function samePrefix(a: Uint8Array, b: Uint8Array, len: number): boolean {
  return prefixMatch6(a, len, b, 0);
}

/** The RFC 6052 §2.2 lengths a NAT64 prefix may have. */
export const RFC6052_LENGTHS = POOL6_LENGTHS;

/** Why a NAT64 prefix is not usable (RFC 6052 §2.1, §2.2; siit/addr.ts), or null when it is. */
export function rfc6052Problem(p: Prefix6): string | null {
  return checkRfc6052Prefix(p.bytes, p.len)?.message ?? null;
}

/** The IPv4-embedded IPv6 address of v4 under prefix (RFC 6052 §2.2 figure 1). */
export function embedIPv4(p: Prefix6, v4: Uint8Array): Uint8Array {
  if (!isRfc6052Length(p.len)) throw new Error(`no RFC 6052 mapping for /${p.len}`);
  return embedIPv4Bytes(p.bytes, p.len, v4);
}
