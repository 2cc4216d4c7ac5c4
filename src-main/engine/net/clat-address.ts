// The CLAT's own IPv6 address: a dedicated address in the uplink's /64 with a random interface
// identifier (RFC 6877 §6.3 asks for a dedicated address; RFC 7136 lets the IID be anything),
// optionally adjusted to be checksum-neutral the way Android's clatd does, and probed for
// duplicates (RFC 4862 §5.4 DAD) before it is answered for by proxy-ND.
import { randomBytes } from 'node:crypto';
import {
  parseIPv4,
  formatIPv4,
  parseIPv6,
  formatIPv6,
  prefixMatch6,
  ipv4Bytes,
  ipv4FromBytes,
  type Prefix6,
} from '../ip/address.js';

function sumWords(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/**
 * Whether checksum neutrality is possible with this prefix: the IPv4 address must sit on a
 * 16-bit boundary inside the IPv6 address (RFC 6052 /32 and /96), or the sum of its words
 * changes with the byte swap and no IID choice can cancel it for every destination.
 */
export function neutralityPossible(prefix: Prefix6): boolean {
  return prefix.len === 32 || prefix.len === 96;
}

/**
 * A random address in subnet64, made checksum-neutral when the prefix allows: the one's
 * complement sum of (CLAT IPv6 + NAT64 prefix) equals that of the CLAT IPv4 address. The IPv4
 * destination's words reappear unchanged inside the IPv6 destination, so every TCP/UDP/ICMP
 * pseudo-header sum is then the same in both families and the translator's checksum update is
 * a no-op (RFC 6052 §4.1 recommends this; RFC 7915 §4.5 relies on it).
 */
export function generateClatIpv6(
  subnet64: string,
  clatIpv4: string,
  prefix: Prefix6,
  avoid: readonly string[] = [],
): { address: string; neutral: boolean } {
  const base = parseIPv6(subnet64.split('/')[0]);
  const taken = new Set(avoid.map((a) => formatIPv6(parseIPv6(a))));
  for (;;) {
    const a = base.slice();
    a.set(randomBytes(8), 8);
    let neutral = false;
    if (neutralityPossible(prefix)) {
      // Choose the last word w so that fold(rest + w) == fold(sum(v4) - sum(prefix)).
      a[14] = 0;
      a[15] = 0;
      const want = fold(sumWords(ipv4Bytes(parseIPv4(clatIpv4))) + (~fold(sumWords(prefix.addr)) & 0xffff));
      const rest = fold(sumWords(a));
      const w = fold(want + (~rest & 0xffff));
      a[14] = w >> 8;
      a[15] = w & 0xff;
      neutral = true;
    }
    // RFC 5453 reserved IIDs: the subnet-router anycast (all zero) and fdff:ffff:ffff:ff80/121.
    const iidZero = a.subarray(8).every((x) => x === 0);
    const reserved =
      a[8] === 0xfd && a[9] === 0xff && a.subarray(10, 15).every((x) => x === 0xff) && a[15] >= 0x80;
    const text = formatIPv6(a);
    if (iidZero || reserved || taken.has(text)) continue;
    return { address: text, neutral };
  }
}

/** True when the CLAT address's pseudo-header sum equals the IPv4 one's (for the unit test and logs). */
export function isChecksumNeutral(clatIpv6: string, clatIpv4: string, prefix: Prefix6): boolean {
  const v6 = fold(sumWords(parseIPv6(clatIpv6)) + sumWords(prefix.addr));
  const v4 = fold(sumWords(ipv4Bytes(parseIPv4(clatIpv4))));
  // 0x0000 and 0xffff are the same number in one's complement.
  return v6 % 0xffff === v4 % 0xffff;
}

/** True when addr lies inside the /64 subnet64. */
export function inSubnet64(addr: string, subnet64: string): boolean {
  return prefixMatch6(parseIPv6(subnet64.split('/')[0]), 64, parseIPv6(addr));
}

/**
 * Why `addr` cannot be the CLAT's IPv4 address, or null when it can. RFC 7335 sets 192.0.0.0/29
 * aside for it; .0 and .7 are that /29's network and broadcast addresses (the route is a /29),
 * and any address outside would collide with a real network (and defeat the other-CLAT check,
 * which looks for 192.0.0.0/29). The translator's own ICMPv4 errors come from another host
 * address of the /29 (`clatIcmpSource`).
 */
export function clatIpv4Problem(addr: string): string | null {
  let b: Uint8Array;
  try {
    b = ipv4Bytes(parseIPv4(addr));
  } catch {
    return `'${addr}' is not an IPv4 address`;
  }
  if (b[0] !== 192 || b[1] !== 0 || b[2] !== 0 || b[3] > 7)
    return `${addr} is outside 192.0.0.0/29, the range RFC 7335 sets aside for CLATs`;
  if (b[3] === 0 || b[3] === 7) return `${addr} is the network or broadcast address of 192.0.0.0/29`;
  return null;
}

/**
 * A source for the ICMPv4 errors the translator makes itself: a host address of 192.0.0.0/29
 * other than the CLAT's (the kernel drops packets from its own address as martians), never the
 * /29's network (.0) or broadcast (.7) address. .4 -> .5, as before; .6 -> .5, .1 -> .2.
 */
export function clatIcmpSource(clatIpv4: string): string {
  const b = ipv4Bytes(parseIPv4(clatIpv4));
  const last = b[3] ^ 1;
  b[3] = last === 0 || last === 7 ? (b[3] === 1 ? 2 : 5) : last;
  return formatIPv4(ipv4FromBytes(b));
}
