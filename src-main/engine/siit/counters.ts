// Why a packet was not translated. One counter per reason; the names are what `verdicts` files,
// logs and the diagnostics window show. Index 0 is "no reason" (translated).

/** Numeric codes of the reasons, for the hot path (R.truncated === 2, ...). */
export const R = {
  none: 0,
  notIp: 1,
  truncated: 2,
  badIpv4Header: 3,
  badIpv4Checksum: 4,
  badIpv6Header: 5,
  extHeaderChain: 6,
  transportTruncated: 7,
  illegalSource: 8,
  srcUntranslatable: 9,
  dstUntranslatable: 10,
  ttlExpired: 11,
  tooBig: 12,
  sourceRoute: 13,
  routingHeader: 14,
  extHeaderAfterFragment: 15,
  udpChecksumZero: 16,
  udpChecksumZeroFragment: 17,
  icmpFragmented: 18,
  icmpUntranslatable: 19,
  icmpChecksum: 20,
  icmpInnerInvalid: 21,
  icmpInnerUntranslatable: 22,
  icmpErrorNested: 23,
  hairpinLoop: 24,
  /**
   * Not a reason a packet is dropped but one an ICMP error was not sent: the packet is counted
   * under its own reason (ttl-expired, ...) and here as well. RFC 7915 §4.4/§5.4, RFC 1812
   * §4.3.2.8, RFC 4443 §2.4(f): the translator's own errors are rate limited.
   */
  icmpRateLimited: 25,
  /**
   * An ICMP echo first fragment that waited for its last fragment (whose end gives the length
   * the ICMPv6 pseudo-header needs) and never saw it in time, or found no free slot.
   */
  icmpFragmentExpired: 26,
} as const;

/** Reason names (kebab-case) indexed by code. */
export const REASONS = (Object.keys(R) as (keyof typeof R)[]).map((k) =>
  k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
);

export type DropReason = string;

/** Per-reason drop counters plus totals; a Float64Array so increments never allocate. */
export class Counters {
  readonly drops = new Float64Array(REASONS.length);
  translated46 = 0;
  translated64 = 0;
  /**
   * Bytes of the packets taken in and translated, per direction: IPv4 packets (whole GSO
   * super-packets included) that became IPv6, IPv6 packets that became IPv4. What was dropped
   * or answered with an ICMP error is not counted. One add per translated packet.
   */
  bytes46 = 0;
  bytes64 = 0;
  icmpErrorsSent = 0;
  fragmentsEmitted = 0;

  snapshot(): {
    translated46: number;
    translated64: number;
    bytes46: number;
    bytes64: number;
    icmpErrorsSent: number;
    fragmentsEmitted: number;
    drops: Record<string, number>;
  } {
    const drops: Record<string, number> = {};
    for (let i = 1; i < REASONS.length; i++) if (this.drops[i]) drops[REASONS[i]] = this.drops[i];
    return {
      translated46: this.translated46,
      translated64: this.translated64,
      bytes46: this.bytes46,
      bytes64: this.bytes64,
      icmpErrorsSent: this.icmpErrorsSent,
      fragmentsEmitted: this.fragmentsEmitted,
      drops,
    };
  }

  reset(): void {
    this.drops.fill(0);
    this.translated46 = this.translated64 = this.icmpErrorsSent = this.fragmentsEmitted = 0;
    this.bytes46 = this.bytes64 = 0;
  }
}
