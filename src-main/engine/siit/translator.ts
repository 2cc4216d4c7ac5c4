// The stateless IP/ICMP translator (RFC 7915) as one object built from a TranslatorConfig. A CLAT
// is one configuration of it: pool6 = the NAT64 prefix, one EAM entry 192.0.0.1/32 <-> the CLAT's
// IPv6 /128.
//
// Data-path contract (zero allocations per packet in steady state):
// - Give the translator a buffer with the packet at [off, off+len) and at least HEADROOM bytes
//   free in front of it (IPv6's header is 20 bytes longer than IPv4's; a Fragment Header 8 more).
//   Without the headroom it still works, through a preallocated scratch area (one copy).
// - Every packet the translator sends goes through `emit(buf, off, len)`, synchronously, before
//   translate*() returns: the translated packet (in place, inside the caller's buffer), IPv6
//   fragments, hairpinned packets, or ICMP errors the translator generates itself. The IP version
//   of the emitted packet says which side it goes to (4: the IPv4 side, 6: the IPv6 side). Bytes
//   handed to emit are only valid during the call (scratch areas are reused): write or copy them.
// - The return value is a Verdict; on a drop `reason` holds the code (REASONS[reason] its name)
//   and the per-reason counter has been incremented.
// - GSO hook: with FLAG.gso a TCP/UDP super-packet from a virtio-net header (IFF_VNET_HDR) is
//   translated as one: no fragmentation, no Packet Too Big / Fragmentation Needed, DF per the
//   usual rule. With FLAG.csumPartial the transport checksum field holds the pseudo-header sum
//   (VIRTIO_NET_HDR_F_NEEDS_CSUM) and is adjusted as such. After a translation, `l4Off` is the
//   offset of the transport header in the emitted packet's buffer, so the caller can rewrite
//   csum_start and the gso_type (TCPV4 <-> TCPV6, UDP_L4 stays) of the vnet header.
import {
  compileConfig,
  parseTranslatorConfig,
  type CompiledConfig,
  type TranslatorConfig,
  type TranslatorConfigInput,
} from './config.js';
import { Counters, R, REASONS } from './counters.js';
import { FLAG } from './flags.js';
import { ErrorLayout } from './icmp.js';
import { IcmpFragTable } from './icmp-frag.js';
import { translate46 } from './ipv4-to-ipv6.js';
import { translate64 } from './ipv6-to-ipv4.js';

/** What happened to one input packet. */
export const VERDICT = {
  /** Translated: one or more packets were emitted (fragments, or hairpinned back to IPv6). */
  translated: 0,
  /** Dropped; see `reason`. Nothing was emitted. */
  dropped: 1,
  /** Dropped, and the translator emitted an ICMP error back to the sender; see `reason`. */
  icmpError: 2,
} as const;
export type Verdict = 0 | 1 | 2;
export const VERDICT_NAMES = ['translated', 'dropped', 'icmp-error'] as const;

export { FLAG };

/** Bytes to leave in front of each packet so that IPv4 -> IPv6 translates in place. */
export const HEADROOM = 28;

export type EmitFn = (buf: Uint8Array, off: number, len: number) => void;

const SCRATCH = 65536 + 256;

export class Translator {
  readonly config: TranslatorConfig;
  readonly cfg: CompiledConfig;
  readonly counters = new Counters();
  /** Where emitted packets go; replaceable (e.g. per batch). */
  emit: EmitFn;
  /** Drop reason of the last call (0 when translated). */
  reason = 0;
  /** Packets emitted by the last call. */
  emitted = 0;
  /** Offset of the transport header in the last emitted translation's buffer. */
  l4Off = -1;

  /** @internal scratch areas: ICMP errors translated 4->6 and 6->4, generated errors, fragments. */
  readonly s46 = new Uint8Array(SCRATCH);
  readonly s64 = new Uint8Array(SCRATCH);
  readonly sErr = new Uint8Array(2048);
  readonly sFrag = new Uint8Array(SCRATCH);
  /** @internal translated IPv6 source and destination of the packet being translated. */
  readonly a6s = new Uint8Array(16);
  readonly a6d = new Uint8Array(16);
  /** @internal */
  readonly layout = new ErrorLayout();
  /** @internal true during the second (IPv4 -> IPv6) pass of a hairpinned packet. */
  inHairpin = false;
  /** @internal whether the packet quoted in the ICMPv6 error being translated had a Fragment Header. */
  innerFragHeader = false;
  private ipId: number;
  /** @internal first fragments of ICMP echo waiting for their length (icmp-frag.ts). */
  readonly icmpFrags = new IcmpFragTable();
  /** @internal the ICMP message length while a held first fragment is translated; -1 otherwise. */
  fragTotal = -1;
  /** @internal slot of a held first fragment to translate after the current packet; -1: none. */
  replaySlot = -1;
  /**
   * Clock for the ICMP error rate limit, in milliseconds (monotonic). Replaceable: `clatbar
   * translate` runs on the capture's timestamps, tests on a fake clock.
   */
  now: () => number = () => performance.now();
  /** @internal token bucket of generated ICMP errors (RFC 4443 §2.4(f)); NaN until first use. */
  private icmpTokens = Number.NaN;
  private icmpRefilledAt = 0;

  /** Takes the JSON form (validated; throws ConfigError naming the key) or a parsed config. */
  constructor(config: TranslatorConfigInput | TranslatorConfig, emit: EmitFn = () => {}) {
    this.config = parseTranslatorConfig(config);
    this.cfg = compileConfig(this.config);
    this.emit = emit;
    this.ipId = (Math.random() * 0xffff) | 0;
  }

  /** Translates one IP packet of either version. */
  translate(buf: Uint8Array, off: number, len: number, flags = 0): Verdict {
    const v = len > 0 ? buf[off] >> 4 : 0;
    if (v === 4) return this.translate4to6(buf, off, len, flags);
    if (v === 6) return this.translate6to4(buf, off, len, flags);
    this.begin();
    return this.drop(len > 0 ? R.notIp : R.truncated);
  }

  /** RFC 7915 §4: an IPv4 packet bound for the IPv6 side. */
  translate4to6(buf: Uint8Array, off: number, len: number, flags = 0): Verdict {
    this.begin();
    const v = translate46(this, buf, off, len, flags & ~FLAG.hairpin);
    if (v === 0) this.counters.bytes46 += len;
    if (this.replaySlot >= 0) this.replay(4);
    return v;
  }

  /** RFC 7915 §5: an IPv6 packet bound for the IPv4 side. */
  translate6to4(buf: Uint8Array, off: number, len: number, flags = 0): Verdict {
    this.begin();
    const v = translate64(this, buf, off, len, flags & ~FLAG.hairpin);
    if (v === 0) this.counters.bytes64 += len;
    if (this.replaySlot >= 0) this.replay(6);
    return v;
  }

  /** Name of the last drop reason ("none" after a translation). */
  get reasonName(): string {
    return REASONS[this.reason];
  }

  /**
   * The last fragment of an ICMP echo just went through and its first fragment was held: now
   * that the message length is known, translate the first fragment too (icmp-frag.ts). The
   * verdict, reason and l4Off stay those of the packet the caller gave.
   */
  private replay(family: 4 | 6): void {
    const tab = this.icmpFrags;
    const s = this.replaySlot;
    this.replaySlot = -1;
    const at = s * IcmpFragTable.stride + IcmpFragTable.room;
    const len = tab.heldLen[s];
    const flags = tab.heldFlags[s];
    this.fragTotal = tab.total[s];
    tab.release(s);
    const { reason, l4Off } = this;
    if (family === 4) translate46(this, tab.buf, at, len, flags);
    else translate64(this, tab.buf, at, len, flags);
    this.fragTotal = -1;
    this.reason = reason;
    this.l4Off = l4Off;
  }

  private begin(): void {
    this.replaySlot = -1;
    this.fragTotal = -1;
    this.reason = 0;
    this.emitted = 0;
    this.l4Off = -1;
    this.inHairpin = false;
  }

  /** @internal */
  drop(reason: number): Verdict {
    this.reason = reason;
    this.counters.drops[reason]++;
    return 1;
  }

  /** @internal */
  out(buf: Uint8Array, off: number, len: number): void {
    this.emitted++;
    this.emit(buf, off, len);
  }

  /**
   * @internal Takes one token for an ICMP error the translator is about to generate; false when
   * the bucket is empty (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f): rate limited; the caller drops the
   * packet without an error and it is counted as icmp-rate-limited as well as its own reason).
   */
  takeIcmpToken(): boolean {
    const rate = this.cfg.icmpErrorRatePerMs;
    if (rate === 0) return true;
    const burst = this.cfg.icmpErrorBurst;
    const now = this.now();
    if (Number.isNaN(this.icmpTokens)) {
      this.icmpTokens = burst;
    } else if (now > this.icmpRefilledAt) {
      this.icmpTokens = Math.min(burst, this.icmpTokens + (now - this.icmpRefilledAt) * rate);
    }
    // A clock that goes backwards (a capture out of order) refills nothing and is followed from there.
    this.icmpRefilledAt = now;
    if (this.icmpTokens < 1) {
      this.counters.drops[R.icmpRateLimited]++;
      return false;
    }
    this.icmpTokens -= 1;
    return true;
  }

  /**
   * @internal IPv4 Identification for packets without a Fragment Header (RFC 7915 §5.1, RFC 6864):
   * never zero for DF-clear packets, and not a simple +1 sequence.
   */
  nextIpId(): number {
    // 16-bit Galois LFSR (taps 0xB400): period 65535 over the non-zero values.
    let x = this.ipId || 1;
    x = (x >>> 1) ^ (-(x & 1) & 0xb400);
    this.ipId = x & 0xffff;
    return this.ipId || 1;
  }
}
