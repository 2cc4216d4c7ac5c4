// IPv4/IPv6 address text <-> bytes, and the RFC 6052 address mapping, for configuration code
// (bring-up, checks, tests). The per-packet path never parses text; it uses the translator's
// own byte-level code.
import { isIPv4, isIPv6 } from 'node:net';

/** 4 bytes from dotted-quad text; throws on anything else. */
export function parseIPv4(text: string): Uint8Array {
  if (!isIPv4(text)) throw new Error(`'${text}' is not an IPv4 address`);
  return Uint8Array.from(text.split('.').map(Number));
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** 16 bytes from any RFC 4291 §2.2 text form (including an embedded dotted quad). */
export function parseIPv6(text: string): Uint8Array {
  const clean = text.split('%')[0];
  if (!isIPv6(clean)) throw new Error(`'${text}' is not an IPv6 address`);
  let s = clean;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const dot = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseIPv4(s.slice(dot + 1));
    s = `${s.slice(0, dot + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** RFC 5952 canonical text: lower case, longest run of two or more zero groups as '::'. */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2] << 8) | b[i * 2 + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface Prefix6 {
  bytes: Uint8Array;
  len: number;
}

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
  for (let bit = 0; bit < len; bit += 8) {
    const n = Math.min(8, len - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((a[bit >> 3] & mask) !== (b[bit >> 3] & mask)) return false;
  }
  return true;
}

/** The RFC 6052 §2.2 lengths a NAT64 prefix may have. */
export const RFC6052_LENGTHS = [32, 40, 48, 56, 64, 96] as const;

/**
 * Why a NAT64 prefix is not usable, or null when it is. RFC 6052 §2.2: only the lengths
 * above, and bits 64..71 (the "u" octet) must be zero. §3.1: the Well-Known Prefix is /96 only.
 */
export function rfc6052Problem(p: Prefix6): string | null {
  if (!(RFC6052_LENGTHS as readonly number[]).includes(p.len))
    return `prefix length /${p.len} is not one RFC 6052 §2.2 allows (32, 40, 48, 56, 64 or 96)`;
  if (p.len > 64 && p.bytes[8] !== 0)
    return 'bits 64-71 (the "u" octet) of the prefix must be zero (RFC 6052 §2.2)';
  for (let bit = p.len; bit < 128; bit++) {
    if (bit >= 64 && bit < 72) continue;
    if (p.bytes[bit >> 3] & (0x80 >> (bit & 7)))
      return `the address has bits set beyond /${p.len}; write the prefix with zero host bits`;
  }
  const wkp = parseIPv6('64:ff9b::');
  if (samePrefix(p.bytes, wkp, 96) && p.len !== 96)
    return 'the Well-Known Prefix 64:ff9b::/96 is only valid with length 96 (RFC 6052 §2.1)';
  if (p.bytes[0] === 0xff) return 'a multicast prefix (ff00::/8) cannot be a NAT64 prefix';
  return null;
}

/** The IPv4-embedded IPv6 address of v4 under prefix (RFC 6052 §2.2 figure 1). */
export function embedIPv4(p: Prefix6, v4: Uint8Array): Uint8Array {
  const out = p.bytes.slice();
  // The byte positions the four IPv4 octets take for each length, skipping octet 8 ("u").
  const positions: Record<number, number[]> = {
    32: [4, 5, 6, 7],
    40: [5, 6, 7, 9],
    48: [6, 7, 9, 10],
    56: [7, 9, 10, 11],
    64: [9, 10, 11, 12],
    96: [12, 13, 14, 15],
  };
  const pos = positions[p.len];
  if (!pos) throw new Error(`no RFC 6052 mapping for /${p.len}`);
  out[8] = 0;
  pos.forEach((at, i) => (out[at] = v4[i]));
  return out;
}
