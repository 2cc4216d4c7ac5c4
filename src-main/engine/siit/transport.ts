// Transport checksum fix-ups (RFC 7915 §4.5 and §5.5), shared by the outer packet and the packet
// quoted in an ICMP error (§4.3, §5.3): the pseudo-header's addresses change, so TCP and UDP
// checksums are updated incrementally (RFC 1624), and ICMP Echo changes type and gains (4->6)
// or loses (6->4) the ICMPv6 pseudo-header. Incremental updates keep a bad checksum bad: the
// translator never launders a corrupt segment into a valid one. Length checks and the zero UDP
// checksum rules differ between outer and inner packets and stay with the callers.
import { adjust, adjustPartial } from './checksum.js';
import { info4to6, info6to4 } from './icmp.js';
import { IPPROTO_ICMPV6 } from '../ip/numbers.js';

/** The TCP checksum at b[l4+16] after the pseudo-header's addresses summed oldSum and now newSum. */
export function fixTcp(b: Uint8Array, l4: number, oldSum: number, newSum: number, partial: boolean): void {
  const c = (b[l4 + 16] << 8) | b[l4 + 17];
  const n = partial ? adjustPartial(c, oldSum, newSum) : adjust(c, oldSum, newSum);
  b[l4 + 16] = n >> 8;
  b[l4 + 17] = n & 255;
}

/**
 * The UDP checksum `c` (read by the caller, which has dealt with a zero field) updated and
 * written at b[l4+6]. RFC 768: a computed zero is sent as all ones, except in a
 * CHECKSUM_PARTIAL field, which holds the pseudo-header sum rather than a checksum.
 */
export function fixUdp(
  b: Uint8Array,
  l4: number,
  c: number,
  oldSum: number,
  newSum: number,
  partial: boolean,
): void {
  let n = partial ? adjustPartial(c, oldSum, newSum) : adjust(c, oldSum, newSum);
  if (n === 0 && !partial) n = 0xffff;
  b[l4 + 6] = n >> 8;
  b[l4 + 7] = n & 255;
}

/**
 * RFC 7915 §4.2 and §5.2: an ICMP Echo (or Echo Reply) at b[l4] changes type to the other family's,
 * and its checksum gains (to6) or loses the ICMPv6 pseudo-header: addresses summing to addrSum6
 * and a message of icmpLen bytes. Callers pass to6 as a literal, so each call site keeps one
 * branch-free path once V8 inlines it.
 */
export function fixEcho(b: Uint8Array, l4: number, addrSum6: number, icmpLen: number, to6: boolean): void {
  const type = b[l4];
  const code = b[l4 + 1];
  const ntype = to6 ? info4to6(type) : info6to4(type);
  const pseudo = addrSum6 + (icmpLen >>> 16) + (icmpLen & 0xffff) + IPPROTO_ICMPV6;
  const was = (type << 8) | code;
  const now = (ntype << 8) | code;
  const c = (b[l4 + 2] << 8) | b[l4 + 3];
  const n = to6 ? adjust(c, was, now + pseudo) : adjust(c, was + pseudo, now);
  b[l4] = ntype;
  b[l4 + 2] = n >> 8;
  b[l4 + 3] = n & 255;
}
