// RFC 6052 IPv4-embedded IPv6 addresses, as the DNS64 needs them: parse a Pref64::/n, embed an
// IPv4 address into it (synthesis, RFC 6147 §5.1.7), extract it again (PTR, RFC 6147 §5.3.1).
//
// TODO(lead): fold into src-main/engine/siit/addr.ts, the translator's RFC 6052 mapping, once
// both exist; this copy keeps the DNS64 independent of that work in the meantime.
import { isIPv4, isIPv6 } from 'node:net';

/** The prefix lengths RFC 6052 §2.2 allows. */
export const PREFIX_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
export type PrefixLength = (typeof PREFIX_LENGTHS)[number];

export interface Pref64 {
  /** 16 bytes; only the first `length` bits are meaningful, the rest are zero. */
  bytes: Buffer;
  length: PrefixLength;
  /** Canonical text, e.g. "64:ff9b::/96". */
  text: string;
}

/** RFC 6052 §2.1: the Well-Known Prefix. */
export const WKP_TEXT = '64:ff9b::/96';

/**
 * Where the 4 IPv4 bytes go for each prefix length (RFC 6052 §2.2, figure 1): bits 64-71 ("u")
 * are always skipped, so the address straddles them for /40 to /56.
 */
const POSITIONS: Record<PrefixLength, readonly number[]> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

/** Parses IPv6 text (with an optional embedded dotted quad) into 16 bytes; null if invalid. */
export function parseIPv6(text: string): Buffer | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIPv4(last);
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const h = parse(halves[0]);
  const r = halves.length === 2 ? parse(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - h.length - r.length : 0;
  if (fill < 0) return null;
  const groups = [...h, ...new Array<number>(fill).fill(0), ...r];
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return null;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** RFC 5952 text of 16 bytes (lowercase, longest zero run compressed). */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function parseIPv4(text: string): Buffer | null {
  if (!isIPv4(text)) return null;
  return Buffer.from(text.split('.').map(Number));
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * Parses "PREFIX/LEN" strictly: LEN one of 32/40/48/56/64/96 (RFC 6052 §2.2), no bits set past
 * LEN, and bits 64-71 zero (RFC 6052 §2.2: "MUST be set to zero"). Throws with the reason.
 */
export function parsePref64(text: string): Pref64 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not an IPv6 prefix like 64:ff9b::/96`);
  const bytes = parseIPv6(m[1]);
  if (!bytes) throw new Error(`'${m[1]}' is not an IPv6 address`);
  const length = Number(m[2]);
  if (!(PREFIX_LENGTHS as readonly number[]).includes(length)) {
    throw new Error(`prefix length /${length} is not one RFC 6052 allows (32, 40, 48, 56, 64 or 96)`);
  }
  for (let bit = length; bit < 128; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) {
      throw new Error(`${text} has bits set after /${length}`);
    }
  }
  if (bytes[8] !== 0) throw new Error(`${text}: bits 64-71 must be zero (RFC 6052 §2.2)`);
  return { bytes, length: length as PrefixLength, text: `${formatIPv6(bytes)}/${length}` };
}

/** RFC 6052 §2.2: the IPv4-embedded IPv6 address of v4 (4 bytes) under prefix; suffix zero. */
export function embed(prefix: Pref64, v4: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  prefix.bytes.copy(out, 0, 0, prefix.length >> 3);
  const pos = POSITIONS[prefix.length];
  for (let i = 0; i < 4; i++) out[pos[i]] = v4[i];
  return out;
}

/** Whether the 16-byte address lies in the prefix (first `length` bits equal). */
export function inPrefix(prefix: Pref64, v6: Uint8Array): boolean {
  const n = prefix.length >> 3;
  for (let i = 0; i < n; i++) if (v6[i] !== prefix.bytes[i]) return false;
  return true;
}

/** RFC 6052 §2.3: the embedded IPv4 address, or null when v6 is not under the prefix. */
export function extract(prefix: Pref64, v6: Uint8Array): Buffer | null {
  if (!inPrefix(prefix, v6)) return null;
  const pos = POSITIONS[prefix.length];
  return Buffer.from([v6[pos[0]], v6[pos[1]], v6[pos[2]], v6[pos[3]]]);
}

export function isWellKnownPrefix(prefix: Pref64): boolean {
  return prefix.text === WKP_TEXT;
}

/**
 * IPv4 ranges that are not globally reachable (RFC 6890 / the IANA special-purpose registry,
 * plus multicast and the RFC 5735 §3 list RFC 6052 §3.1 cites). The WKP must not represent
 * these (RFC 6052 §3.1).
 */
const NON_GLOBAL_V4: Array<[number, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
].map(([a, len]) => {
  const n = (a as string).split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return [n >>> 0, len as number];
});

/** Global IPv4 exceptions inside the ranges above (IANA registry: 192.0.0.9, 192.0.0.10). */
const GLOBAL_EXCEPTIONS = new Set([0xc0000009, 0xc000000a]);

/**
 * RFC 7050 §2.2 / RFC 8880 §7: the two well-known addresses of ipv4only.arpa, which DNS64s
 * synthesize with any prefix (the WKP included) so that clients can discover it.
 */
export const IPV4ONLY_ADDRESSES = ['192.0.0.170', '192.0.0.171'] as const;
const IPV4ONLY = new Set([0xc00000aa, 0xc00000ab]);

export function isGlobalIPv4(v4: Uint8Array): boolean {
  const n = ((v4[0] << 24) | (v4[1] << 16) | (v4[2] << 8) | v4[3]) >>> 0;
  if (GLOBAL_EXCEPTIONS.has(n)) return true;
  for (const [net, len] of NON_GLOBAL_V4) {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    if ((n & mask) >>> 0 === net) return false;
  }
  return true;
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
  const full = range.length >> 3;
  for (let i = 0; i < full; i++) if (v6[i] !== range.bytes[i]) return false;
  const rem = range.length & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (v6[full] & mask) === (range.bytes[full] & mask);
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
