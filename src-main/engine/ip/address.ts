// IP addresses and prefixes: text <-> bytes, prefix matching, and the address classes the
// translator and the CLAT checks need. The project's one implementation (the translator, the
// CLAT, discovery and the DNS64 all import it); RFC 6052's IPv4-embedded addresses are in
// rfc6052.ts beside it.
//
// One type per idea:
// - an IPv4 address is a number (uint32 from parseIPv4; the data path keeps it as int32, `| 0`,
//   which V8 holds unboxed, and -1 = 255.255.255.255, never translatable, stands for "none");
//   ipv4Bytes/ipv4FromBytes convert where 4 bytes are needed (DNS rdata, checksums);
// - an IPv6 address is 16 bytes (at an offset of some buffer on the data path);
// - a prefix is { addr, len }: Prefix4 and Prefix6.
//
// Parsers throw an Error saying what was expected; validators that want a yes/no wrap them.
//
// The host-bit rule, decided once: parsing reads a prefix as written (syntax only), and
// `hostBitsSet` is the one test for bits set after the length. Whoever needs a clean prefix
// applies it (the translator's configuration, checkRfc6052Prefix for NAT64 prefixes), so every
// refusal names the rule instead of a parser silently returning nothing.
//
// engine/ip/ imports nothing, so that the translator (engine/siit), which may import only ip/
// and shared/, can use it.

export interface Prefix4 {
  addr: number;
  len: number;
}
export interface Prefix6 {
  addr: Uint8Array;
  len: number;
}

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Dotted-quad text, no leading zeros. Accepts what node:net's isIPv4 accepts. */
function ipv4OrNull(s: string): number | null {
  const m = IPV4_TEXT.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i].length > 1 && m[i][0] === '0')) return null;
    n = n * 256 + o;
  }
  return n;
}

/** The IPv4 address (uint32) of dotted-quad text such as 192.0.2.1; throws on anything else. */
export function parseIPv4(text: string): number {
  const n = ipv4OrNull(text);
  if (n === null)
    throw new Error(`'${text}' is not an IPv4 address (want dotted-quad text such as 192.0.2.1)`);
  return n;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The 4 bytes (network order) of an IPv4 address. */
export function ipv4Bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** The IPv4 address (uint32) in the 4 bytes at b[off]. */
export function ipv4FromBytes(b: Uint8Array, off = 0): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

function ipv6OrNull(s: string): Uint8Array | null {
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
        const v4 = ipv4OrNull(g);
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

/**
 * 16 bytes from RFC 4291 §2.2 text (a dotted-quad tail included); throws on anything else. No
 * zone index ("%eth0"): callers that accept one strip it first.
 */
export function parseIPv6(text: string): Uint8Array {
  const b = ipv6OrNull(text);
  if (!b) throw new Error(`'${text}' is not an IPv6 address (want RFC 4291 text such as 2001:db8::1)`);
  return b;
}

/** RFC 5952 text form (longest run of two or more zero words compressed, lower case). */
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

function splitPrefix(text: string, family: 'IPv4' | 'IPv6', example: string, max: number): [string, number] {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not an ${family} prefix (want ADDRESS/LENGTH, e.g. ${example})`);
  const len = Number(m[2]);
  if (len > max) throw new Error(`'${text}': prefix length ${len} is over ${max}`);
  return [m[1], len];
}

/** "a.b.c.d/len" as written (host bits are hostBitsSet4's business); throws on bad syntax. */
export function parsePrefix4(text: string): Prefix4 {
  const [a, len] = splitPrefix(text, 'IPv4', '192.0.2.0/24', 32);
  return { addr: parseIPv4(a), len };
}

/** "x::/len" as written (host bits are hostBitsSet6's business); throws on bad syntax. */
export function parsePrefix6(text: string): Prefix6 {
  const [a, len] = splitPrefix(text, 'IPv6', '64:ff9b::/96', 128);
  return { addr: parseIPv6(a), len };
}

export function formatPrefix6(p: Prefix6): string {
  return `${formatIPv6(p.addr)}/${p.len}`;
}

/** The host-bit rule (see the file comment): does the prefix have bits set after its length? */
export function hostBitsSet4(p: Prefix4): boolean {
  return p.len < 32 && p.addr % 2 ** (32 - p.len) !== 0;
}

/** The host-bit rule (see the file comment) for IPv6. */
export function hostBitsSet6(p: Prefix6): boolean {
  for (let bit = p.len; bit < 128; bit++) if (p.addr[bit >> 3] & (0x80 >> (bit & 7))) return true;
  return false;
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

/** Whether the 16 bytes at v6[off] lie in the prefix. */
export function inPrefix6(p: Prefix6, v6: Uint8Array, off = 0): boolean {
  return prefixMatch6(p.addr, p.len, v6, off);
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
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
].map(parsePrefix4);

const NG_ADDR = Int32Array.from(NON_GLOBAL4, (p) => p.addr | 0);
const NG_MASK = Int32Array.from(NON_GLOBAL4, (p) => mask4(p.len) | 0);

/** Whether the IPv4 address (uint32 or int32) is globally reachable (RFC 6890). */
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
