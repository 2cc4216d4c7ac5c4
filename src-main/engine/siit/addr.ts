// Address mapping: RFC 6052 (IPv4-embedded IPv6 addresses), RFC 7757 (Explicit Address Mappings)
// and the RFC 6791 source for ICMP errors whose source cannot be translated.
//
// This is the project's one implementation of address text <-> bytes and of RFC 6052 prefixes:
// net/addr.ts (bring-up) and dns64/rfc6052.ts (synthesis) are thin adapters over it. It lives
// here rather than in a neutral net/ip.ts because the translator may import nothing but shared/
// (docs/architecture.md): everyone else can import siit/addr.ts, which itself imports nothing.
// IPv4 addresses are numbers; IPv6 addresses are 16 bytes at an offset of some buffer. On the data
// path IPv4 addresses are int32 (`| 0`): V8 keeps those unboxed, where uint32 values above 2^31
// passed between functions would each allocate a heap number. -1 (255.255.255.255, never
// translatable) stands for "no address".

export interface Prefix4 {
  addr: number;
  len: number;
}
export interface Prefix6 {
  addr: Uint8Array;
  len: number;
}

export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i].length > 1 && m[i][0] === '0')) return null;
    n = n * 256 + o;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The 4 bytes of dotted-quad text (no leading zeros, as parseIPv4), or null. */
export function parseIPv4Bytes(s: string): Uint8Array | null {
  const n = parseIPv4(s);
  return n === null ? null : Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** Dotted-quad text of the 4 bytes at b[off]. */
export function formatIPv4Bytes(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * 16 bytes from RFC 4291 §2.2 text (a dotted-quad tail included), or null. No zone index ("%eth0"):
 * callers that accept one strip it first.
 */
export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return null;
  const out = new Uint8Array(16);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  // RFC 4291 §2.2 form 3: a dotted quad may only stand for the last 32 bits of the address.
  const words = (part: string, last: boolean): number[] | null => {
    if (part === '') return [];
    const res: number[] = [];
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (last && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (v4 === null) return null;
        res.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        res.push(parseInt(g, 16));
      }
    }
    return res;
  };
  const head = words(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? words(halves[1], true) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 255;
  }
  return out;
}

/** RFC 5952 text form (longest run of zero words compressed, lower case). */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

function splitPrefix(s: string): [string, number] | null {
  const i = s.indexOf('/');
  if (i < 0) return null;
  const lenText = s.slice(i + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  return [s.slice(0, i), Number(lenText)];
}

/** "a.b.c.d/len" with no host bits set, or null. */
export function parsePrefix4(s: string): Prefix4 | null {
  const parts = splitPrefix(s);
  if (!parts || parts[1] > 32) return null;
  const addr = parseIPv4(parts[0]);
  if (addr === null) return null;
  const len = parts[1];
  if (len < 32 && addr % 2 ** (32 - len) !== 0) return null;
  return { addr, len };
}

/** "x::/len" with no host bits set, or null. */
export function parsePrefix6(s: string): Prefix6 | null {
  const parts = splitPrefix(s);
  if (!parts || parts[1] > 128) return null;
  const addr = parseIPv6(parts[0]);
  if (!addr) return null;
  const len = parts[1];
  for (let bit = len; bit < 128; bit++) if (addr[bit >> 3] & (0x80 >> (bit & 7))) return null;
  return { addr, len };
}

/** Whether the first `len` bits of p and of b[off..off+16) agree. */
export function prefixMatch6(p: Uint8Array, len: number, b: Uint8Array, off = 0): boolean {
  const full = len >> 3;
  for (let i = 0; i < full; i++) if (p[i] !== b[off + i]) return false;
  const rem = len & 7;
  if (rem === 0) return true;
  const mask = (0xff00 >> rem) & 0xff;
  return (p[full] & mask) === (b[off + full] & mask);
}

/** The netmask of a prefix length as a uint32 (0 for /0). */
export function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * RFC 6890 "Globally Reachable = False" IPv4 blocks, plus multicast and the reserved 240/4,
 * which RFC 6052 §3.1 forbids to represent with the Well-Known Prefix 64:ff9b::/96. §3.1 cites
 * RFC 5735 §3, which also lists 192.88.99.0/24 (6to4 relay anycast, deprecated by RFC 7526).
 */
const NON_GLOBAL4: Prefix4[] = [
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
  ['224.0.0.0', 3],
].map(([a, l]) => ({ addr: parseIPv4(a as string)!, len: l as number }));

const NG_ADDR = Int32Array.from(NON_GLOBAL4, (p) => p.addr | 0);
const NG_MASK = Int32Array.from(NON_GLOBAL4, (p) => mask4(p.len) | 0);

export function isGlobal4(a: number): boolean {
  // RFC 6890 lists 192.0.0.9 and 192.0.0.10 (inside 192.0.0.0/24) as globally reachable.
  const x = a | 0;
  if (x === (0xc0000009 | 0) || x === (0xc000000a | 0)) return true;
  for (let i = 0; i < NG_ADDR.length; i++) if ((x & NG_MASK[i]) === NG_ADDR[i]) return false;
  return true;
}

/** RFC 1812 §5.3.7 / RFC 7915 §4.1: sources a router never forwards from. */
export function isIllegalSource4(a: number): boolean {
  const top = a >>> 24;
  return top === 0 || top === 127 || top >= 224;
}

/** RFC 7915 §5.1 / RFC 4291 §2.5.2-§2.7: unspecified, loopback and multicast never source a packet. */
export function isIllegalSource6(b: Uint8Array, off: number): boolean {
  if (b[off] === 0xff) return true;
  for (let i = 0; i < 15; i++) if (b[off + i] !== 0) return false;
  return b[off + 15] <= 1;
}

/** The prefix lengths RFC 6052 §2.2 allows. */
export const POOL6_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
export type Rfc6052Length = (typeof POOL6_LENGTHS)[number];
const WKP = parsePrefix6('64:ff9b::/96')!;

export function isRfc6052Length(len: number): len is Rfc6052Length {
  return (POOL6_LENGTHS as readonly number[]).includes(len);
}

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
 * Why addr/len cannot be a NAT64 prefix, or null: RFC 6052 §2.2 lengths only and bits 64-71
 * (the "u" octet) zero, no bits set after the length, the Well-Known Prefix only as a /96
 * (§2.1), and never a multicast prefix. Checked in that order.
 */
export function checkRfc6052Prefix(addr: Uint8Array, len: number): Rfc6052Problem | null {
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
  for (let bit = len; bit < 128; bit++)
    if (addr[bit >> 3] & (0x80 >> (bit & 7)))
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

/**
 * RFC 6052 §2.2: the IPv4-embedded address of the 4 bytes v4 under prefix/len, written to
 * out[off..off+16): prefix bits, the octets at their positions, u-octet and suffix zero.
 */
export function embedIPv4Bytes(
  prefix: Uint8Array,
  len: Rfc6052Length,
  v4: Uint8Array,
  out: Uint8Array = new Uint8Array(16),
  off = 0,
): Uint8Array {
  const n = len >> 3;
  for (let i = 0; i < n; i++) out[off + i] = prefix[i];
  for (let i = n; i < 16; i++) out[off + i] = 0;
  const pos = POSITIONS[len];
  for (let i = 0; i < 4; i++) out[off + pos[i]] = v4[i];
  return out;
}

/** RFC 6052 §2.3: the 4 IPv4 bytes embedded in v6[off..off+16), or null outside prefix/len. */
export function extractIPv4Bytes(
  prefix: Uint8Array,
  len: Rfc6052Length,
  v6: Uint8Array,
  off = 0,
): Uint8Array | null {
  if (!prefixMatch6(prefix, len, v6, off)) return null;
  const pos = POSITIONS[len];
  return Uint8Array.of(v6[off + pos[0]], v6[off + pos[1]], v6[off + pos[2]], v6[off + pos[3]]);
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
    // (the policy ones are for the CLAT's own checks, net/addr.ts rfc6052Problem).
    const problem = checkRfc6052Prefix(p.addr, p.len);
    if (problem && (problem.code === 'length' || problem.code === 'u-octet'))
      throw new Error(problem.message);
    this.prefix = p.addr;
    this.len = p.len;
    this.wellKnown = p.len === 96 && prefixMatch6(WKP.addr, 96, p.addr, 0);
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

export interface EamEntry {
  v4: Prefix4;
  v6: Prefix6;
}

interface Eam {
  a4: number;
  m4: number;
  len4: number;
  p6: Uint8Array;
  len6: number;
}

function matchEam6(e: Eam, b: Uint8Array, off: number): boolean {
  return prefixMatch6(e.p6, e.len6, b, off);
}

/**
 * RFC 7757 Explicit Address Mapping Table. Lookups are longest-prefix matches on either side; the
 * IPv4 suffix bits are copied to the bits right after the IPv6 prefix (§3.2), the rest are zero.
 */
export class Eamt {
  private readonly by4: Eam[];
  private readonly by6: Eam[];

  constructor(entries: EamEntry[]) {
    for (const e of entries) {
      if (128 - e.v6.len < 32 - e.v4.len) {
        throw new Error('the IPv6 suffix must be at least as long as the IPv4 suffix (RFC 7757 §3.2)');
      }
    }
    const all: Eam[] = entries.map((e) => ({
      a4: e.v4.addr | 0,
      m4: mask4(e.v4.len) | 0,
      len4: e.v4.len,
      p6: e.v6.addr,
      len6: e.v6.len,
    }));
    this.by4 = [...all].sort((a, b) => b.len4 - a.len4);
    this.by6 = [...all].sort((a, b) => b.len6 - a.len6);
  }

  get size(): number {
    return this.by4.length;
  }

  private find4(v4: number): Eam | null {
    const t = this.by4;
    const x = v4 | 0;
    for (let i = 0; i < t.length; i++) if ((x & t[i].m4) === t[i].a4) return t[i];
    return null;
  }

  has4(v4: number): boolean {
    return this.find4(v4) !== null;
  }

  /** Maps v4 into out[off..off+16); false when no entry covers it. */
  map4to6(v4: number, out: Uint8Array, off: number): boolean {
    const e = this.find4(v4);
    if (e === null) return false;
    const p = e.p6;
    for (let k = 0; k < 16; k++) out[off + k] = p[k];
    const bits = 32 - e.len4;
    for (let k = 0; k < bits; k++) {
      if ((v4 >>> (bits - 1 - k)) & 1) {
        const bit = e.len6 + k;
        out[off + (bit >> 3)] |= 0x80 >> (bit & 7);
      }
    }
    return true;
  }

  /** The IPv4 address (int32) for b[off..off+16), or -1 when no entry covers it. */
  map6to4(b: Uint8Array, off: number): number {
    const t = this.by6;
    for (let i = 0; i < t.length; i++) {
      const e = t[i];
      if (!matchEam6(e, b, off)) continue;
      const bits = 32 - e.len4;
      let suffix = 0;
      for (let k = 0; k < bits; k++) {
        const bit = e.len6 + k;
        suffix = (suffix << 1) | ((b[off + (bit >> 3)] >> (7 - (bit & 7))) & 1);
      }
      return e.a4 | suffix;
    }
    return -1;
  }
}
