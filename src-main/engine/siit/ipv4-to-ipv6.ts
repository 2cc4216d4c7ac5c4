// RFC 7915 §4: IPv4 -> IPv6. The payload stays where it is; the IPv6 header (and Fragment Header)
// is written into the headroom in front of it, so the common case is translated in place.
import { copy, finish, fold, pseudo6, sum16, sumAddr4, sumAddr6 } from './checksum.js';
import { isIllegalSource4 } from '../ip/address.js';
import {
  ICMP4_ADMIN_PROHIBITED,
  ICMP4_DEST_UNREACH,
  ICMP4_FRAG_NEEDED,
  ICMP4_SOURCE_ROUTE_FAILED,
  ICMP4_TIME_EXCEEDED,
  ICMP4_TTL_EXCEEDED,
  ICMP6_DEST_UNREACH,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROBLEM,
  ICMP6_TIME_EXCEEDED,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../ip/numbers.js';
import { R } from './counters.js';
import { sendIcmp4Error } from './errors.js';
import { fragment46 } from './fragment.js';
import { writeAddrs6, writeFragmentHeader, writeIcmpHeader, writeIpv6 } from './headers.js';
import {
  error4to6,
  hasLength4,
  info4to6,
  isIcmp4Error,
  mtu4to6,
  pointer4to6,
  quotedDatagramLength,
} from './icmp.js';
import { fixEcho, fixTcp, fixUdp } from './transport.js';
import { FLAG } from './flags.js';
import type { Translator, Verdict } from './translator.js';
import { HELD, firstFragment, lastFragment } from './icmp-frag.js';

const r16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const r32 = (b: Uint8Array, o: number) => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

/**
 * RFC 7757 §3.3 / RFC 6052: EAM first, then pool6. Hairpinned packets (RFC 7757 §4.2) map the
 * address that came from the IPv6 side's pool6 view with pool6 first.
 */
export function map4to6(
  t: Translator,
  v4: number,
  out: Uint8Array,
  off: number,
  pool6First: boolean,
): boolean {
  const cfg = t.cfg;
  if (!pool6First && cfg.eamt.map4to6(v4, out, off)) return true;
  if (cfg.pool6 !== null && cfg.pool6.embed(v4, out, off)) return true;
  return pool6First && cfg.eamt.map4to6(v4, out, off);
}

/**
 * RFC 7915 §4.1 Options: not translated, except that an unexpired Loose or Strict Source Route
 * option means the packet must be dropped with ICMP "Source Route Failed". Returns 1 for an
 * unexpired source route, -1 for malformed options, 0 otherwise.
 */
function sourceRoute(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const type = b[p];
    if (type === 0) return 0; // End of Option List
    if (type === 1) {
      p++;
      continue;
    }
    if (p + 2 > end) return -1;
    const len = b[p + 1];
    if (len < 2 || p + len > end) return -1;
    if ((type === 131 || type === 137) && len >= 3 && b[p + 2] <= len) return 1;
    p += len;
  }
  return 0;
}

export function translate46(
  t: Translator,
  buf: Uint8Array,
  off: number,
  len: number,
  flags: number,
): Verdict {
  const cfg = t.cfg;
  if (len < 20) return t.drop(R.truncated);
  const vihl = buf[off];
  if (vihl >> 4 !== 4) return t.drop(R.notIp);
  const ihl = (vihl & 15) << 2;
  if (ihl < 20) return t.drop(R.badIpv4Header);
  if (ihl > len) return t.drop(R.truncated);
  const total = r16(buf, off + 2);
  if (total < ihl) return t.drop(R.badIpv4Header);
  if (total > len) return t.drop(R.truncated);
  if (fold(sum16(buf, off, ihl, 0)) !== 0xffff) return t.drop(R.badIpv4Checksum);

  const tos = buf[off + 1];
  const id = r16(buf, off + 4);
  const fo = r16(buf, off + 6);
  const df = (fo & 0x4000) !== 0;
  const mf = (fo & 0x2000) !== 0;
  const fragOff = (fo & 0x1fff) << 3;
  const isFrag = mf || fragOff !== 0;
  const ttl = buf[off + 8];
  const proto = buf[off + 9];
  const src = r32(buf, off + 12);
  const dst = r32(buf, off + 16);
  const l4 = off + ihl;
  const l4len = total - ihl;
  const hairpin = (flags & FLAG.hairpin) !== 0;
  const icmpErr = proto === IPPROTO_ICMP && fragOff === 0 && l4len > 0 && isIcmp4Error(buf[l4]);

  // RFC 7915 §4.1 Source Address: illegal sources are dropped silently, except the source of an
  // ICMPv4 error, which is translated "for the purpose of trouble shooting".
  if (!icmpErr && isIllegalSource4(src)) return t.drop(R.illegalSource);
  // RFC 6052 has no mapping for multicast or broadcast destinations.
  if (dst >>> 28 === 14 || dst === -1) return t.drop(R.dstUntranslatable);
  if (ihl > 20) {
    const sr = sourceRoute(buf, off + 20, off + ihl);
    if (sr < 0) return t.drop(R.badIpv4Header);
    if (sr > 0)
      return icmpErr
        ? t.drop(R.sourceRoute)
        : sendIcmp4Error(t, buf, off, total, ICMP4_DEST_UNREACH, ICMP4_SOURCE_ROUTE_FAILED, 0, R.sourceRoute);
  }

  const a6s = t.a6s;
  const a6d = t.a6d;
  if (!map4to6(t, dst, a6d, 0, false)) {
    return icmpErr
      ? t.drop(R.dstUntranslatable)
      : sendIcmp4Error(
          t,
          buf,
          off,
          total,
          ICMP4_DEST_UNREACH,
          ICMP4_ADMIN_PROHIBITED,
          0,
          R.dstUntranslatable,
        );
  }
  if (!map4to6(t, src, a6s, 0, hairpin)) {
    if (!icmpErr)
      return sendIcmp4Error(
        t,
        buf,
        off,
        total,
        ICMP4_DEST_UNREACH,
        ICMP4_ADMIN_PROHIBITED,
        0,
        R.srcUntranslatable,
      );
    // RFC 7915 §4.2 / RFC 6791: an error from an address with no IPv6 form gets a pool address.
    const fallback = cfg.rfc6791v6 ?? cfg.icmpSourceV6;
    if (fallback === null) return t.drop(R.srcUntranslatable);
    a6s.set(fallback);
  }

  // RFC 7915 §4.1 Hop Limit: the translator is a router (RFC 1812 §5.3.1). A hairpinned packet
  // was already decremented on its way in.
  let hop = ttl;
  if (!hairpin) {
    if (ttl <= 1)
      return icmpErr
        ? t.drop(R.ttlExpired)
        : sendIcmp4Error(t, buf, off, total, ICMP4_TIME_EXCEEDED, ICMP4_TTL_EXCEEDED, 0, R.ttlExpired);
    hop = ttl - 1;
  }

  // Length of the ICMP message for the ICMPv6 pseudo-header: the whole message, which for a
  // first fragment only its last fragment tells (icmp-frag.ts).
  let icmpLen = l4len;
  if (proto === IPPROTO_ICMP) {
    if (isFrag) {
      // RFC 7915 §1.2: a fragmented ICMP error cannot be translated (its quote must be whole).
      if (icmpErr) return t.drop(R.icmpFragmented);
      t.icmpFrags.key4(buf, off);
      if (fragOff === 0) {
        if (l4len < 8) return t.drop(R.transportTruncated);
        if (info4to6(buf[l4]) < 0) return t.drop(R.icmpUntranslatable);
        icmpLen = firstFragment(t, buf, off, total, flags);
        if (icmpLen < 0) return icmpLen === HELD ? 0 : t.drop(R.icmpFragmented);
      } else if (!mf) lastFragment(t, fragOff + l4len);
    } else {
      if (icmpErr) return translateIcmp4Error(t, buf, off, total, ihl, hop, tos);
      if (l4len < 8) return t.drop(R.transportTruncated);
      if (info4to6(buf[l4]) < 0) return t.drop(R.icmpUntranslatable);
    }
  }

  const gso = (flags & FLAG.gso) !== 0;
  const hdr = isFrag ? 48 : 40;
  const outLen = hdr + l4len;
  // RFC 7915 §4.1: DF set and too big for the IPv6 next hop -> Fragmentation Needed. The MTU
  // reported is the IPv6 MTU minus 20 (as Jool does; see docs/siit-conformance.md).
  if (df && !gso && outLen > cfg.ipv6Mtu) {
    const mtu = Math.min(0xffff, cfg.ipv6Mtu - 20);
    return sendIcmp4Error(t, buf, off, total, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED, mtu, R.tooBig);
  }

  // RFC 7915 §4.5: transport checksums. Only the first fragment (or a whole packet) has a header.
  if (fragOff === 0) {
    const partial = (flags & FLAG.csumPartial) !== 0;
    const oldSum = sumAddr4(src) + sumAddr4(dst);
    const newSum = sumAddr6(a6s, 0) + sumAddr6(a6d, 0);
    if (proto === IPPROTO_TCP) {
      if (l4len < 18) return t.drop(R.transportTruncated);
      fixTcp(buf, l4, oldSum, newSum, partial);
    } else if (proto === IPPROTO_UDP) {
      if (l4len < 8) return t.drop(R.transportTruncated);
      const c = r16(buf, l4 + 6);
      if (c === 0 && !partial) {
        // RFC 7915 §4.5: zero-checksum UDP is dropped unless configured to be amended; a
        // fragment's checksum cannot be computed statelessly, so fragments are always dropped.
        const unreach = ICMP4_DEST_UNREACH;
        const prohibited = ICMP4_ADMIN_PROHIBITED;
        if (isFrag)
          return sendIcmp4Error(t, buf, off, total, unreach, prohibited, 0, R.udpChecksumZeroFragment);
        if (!cfg.amendUdpChecksumZero)
          return sendIcmp4Error(t, buf, off, total, unreach, prohibited, 0, R.udpChecksumZero);
        const pseudo = newSum + (l4len >>> 16) + (l4len & 0xffff) + IPPROTO_UDP;
        const n = finish(sum16(buf, l4, l4len, pseudo)) || 0xffff; // RFC 768: zero is sent as all ones
        buf[l4 + 6] = n >> 8;
        buf[l4 + 7] = n & 255;
      } else fixUdp(buf, l4, c, oldSum, newSum, partial);
    } else if (proto === IPPROTO_ICMP) {
      // RFC 7915 §4.2: Echo type change plus the ICMPv6 pseudo-header.
      fixEcho(buf, l4, newSum, icmpLen, true);
    }
  }

  const nh = proto === IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
  // RFC 7915 §4.1: DF clear and bigger than lowest-ipv6-mtu (or the next hop) -> IPv6 fragments.
  const fragMtu = cfg.lowestIpv6Mtu < cfg.ipv6Mtu ? cfg.lowestIpv6Mtu : cfg.ipv6Mtu;
  if (!df && !gso && outLen > fragMtu) {
    return fragment46(t, buf, l4, l4len, tos, hop, nh, id, fragOff, mf, fragMtu);
  }

  let ob = buf;
  let o = l4 - hdr;
  if (o < 0) {
    // Not enough headroom: the (preallocated) scratch area takes the packet instead.
    ob = t.s46;
    copy(ob, hdr, buf, l4, l4len);
    o = 0;
  }
  // RFC 7915 §4.1: a Fragment Header only when the IPv4 packet already was a fragment.
  writeIpv6(ob, o, tos, outLen - 40, nh, hop);
  if (isFrag) writeFragmentHeader(ob, o, nh, fragOff | (mf ? 1 : 0), id);
  writeAddrs6(ob, o, a6s, a6d);
  t.l4Off = o + hdr;
  t.counters.translated46++;
  t.out(ob, o, outLen);
  return 0;
}

/**
 * RFC 7915 §4.3: translates the packet quoted in an ICMPv4 error into o[p...]. The inner TTL is
 * not decremented; inner transport checksums are updated incrementally (they may cover bytes the
 * quote does not have). Returns the translated length, or minus a drop reason.
 */
function inner46(t: Translator, b: Uint8Array, ip: number, ilen: number, o: Uint8Array, p: number): number {
  if (ilen < 20 || b[ip] >> 4 !== 4) return -R.icmpInnerInvalid;
  const ihl = (b[ip] & 15) << 2;
  if (ihl < 20 || ihl > ilen) return -R.icmpInnerInvalid;
  const itotal = r16(b, ip + 2);
  if (itotal < ihl) return -R.icmpInnerInvalid;
  const tos = b[ip + 1];
  const fo = r16(b, ip + 6);
  const mf = (fo & 0x2000) !== 0;
  const fragOff = (fo & 0x1fff) << 3;
  const isFrag = mf || fragOff !== 0;
  const proto = b[ip + 9];
  const src = r32(b, ip + 12);
  const dst = r32(b, ip + 16);
  // The quoted packet travelled the other way: its source is the IPv6 side's host and its
  // destination the one that now reports the error. When hairpinning, the destination is the
  // IPv6 host seen through pool6.
  if (!map4to6(t, src, o, p + 8, false)) return -R.icmpInnerUntranslatable;
  if (!map4to6(t, dst, o, p + 24, t.inHairpin)) return -R.icmpInnerUntranslatable;
  const plen = itotal - ihl + (isFrag ? 8 : 0);
  const nh = proto === IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
  // The inner hop limit is the quoted TTL, not decremented.
  writeIpv6(o, p, tos, plen, nh, b[ip + 8]);
  const hdr = isFrag ? writeFragmentHeader(o, p, nh, fragOff | (mf ? 1 : 0), r16(b, ip + 4)) : 40;
  const l4n = ilen - ihl;
  const q = p + hdr;
  copy(o, q, b, ip + ihl, ilen - ihl);
  if (fragOff === 0) {
    const oldSum = sumAddr4(src) + sumAddr4(dst);
    const newSum = sumAddr6(o, p + 8) + sumAddr6(o, p + 24);
    // The quote may be cut short: only fields it holds are fixed; a zero UDP checksum stays zero.
    if (proto === IPPROTO_TCP && l4n >= 18) {
      fixTcp(o, q, oldSum, newSum, false);
    } else if (proto === IPPROTO_UDP && l4n >= 8) {
      const c = r16(o, q + 6);
      if (c !== 0) fixUdp(o, q, c, oldSum, newSum, false);
    } else if (proto === IPPROTO_ICMP && l4n >= 4) {
      const type = o[q];
      if (isIcmp4Error(type)) return -R.icmpErrorNested;
      if (info4to6(type) < 0) return -R.icmpInnerInvalid;
      fixEcho(o, q, newSum, itotal - ihl, true);
    }
  }
  return hdr + l4n;
}

/** RFC 7915 §4.2 and §4.3: an ICMPv4 error becomes an ICMPv6 error with a translated inner packet. */
function translateIcmp4Error(
  t: Translator,
  buf: Uint8Array,
  off: number,
  total: number,
  ihl: number,
  hop: number,
  tos: number,
): Verdict {
  const cfg = t.cfg;
  const l4 = off + ihl;
  const l4len = total - ihl;
  if (l4len < 8) return t.drop(R.transportTruncated);
  // The ICMPv6 checksum is computed afresh, so a corrupt error must be caught here first.
  if (fold(sum16(buf, l4, l4len, 0)) !== 0xffff) return t.drop(R.icmpChecksum);
  const type = buf[l4];
  const code = buf[l4 + 1];
  const tc = error4to6(type, code);
  if (tc < 0) return t.drop(R.icmpUntranslatable);
  const ntype = tc >> 8;
  const ncode = tc & 255;

  const inner = l4 + 8;
  // RFC 4884 §4.1: the length field (byte 5, 32-bit words) marks where an extension starts.
  const innerLen = quotedDatagramLength(hasLength4(type) ? buf[l4 + 5] : 0, 4, l4len - 8);
  const extLen = l4len - 8 - innerLen;
  let rest = 0;
  if (ntype === ICMP6_PACKET_TOO_BIG) {
    const innerTotal = innerLen >= 4 ? r16(buf, inner + 2) : 0;
    rest = mtu4to6(r16(buf, l4 + 6), innerTotal, cfg.ipv6Mtu, cfg.ipv4Mtu);
  } else if (ntype === ICMP6_PARAM_PROBLEM) {
    if (ncode === 1) {
      rest = 6; // RFC 7915 §4.2: protocol unreachable points at the Next Header field
    } else {
      rest = pointer4to6(buf[l4 + 4]);
      if (rest < 0) return t.drop(R.icmpUntranslatable);
    }
  }

  const o = t.s46;
  const n = inner46(t, buf, inner, innerLen, o, 48);
  if (n < 0) return t.drop(-n);
  const lay = t.layout.compute(n, extLen, 48, 1280, 8);
  lay.fill(o, 48, buf, inner + innerLen);
  if (lay.lengthField > 0 && (ntype === ICMP6_DEST_UNREACH || ntype === ICMP6_TIME_EXCEEDED))
    rest = lay.lengthField << 24;
  const plen = 8 + lay.padded + lay.ext;
  writeIpv6(o, 0, tos, plen, IPPROTO_ICMPV6, hop);
  writeAddrs6(o, 0, t.a6s, t.a6d);
  writeIcmpHeader(o, 40, ntype, ncode, rest);
  const c = finish(sum16(o, 40, plen, pseudo6(o, 8, 24, plen, IPPROTO_ICMPV6)));
  o[42] = c >> 8;
  o[43] = c & 255;
  t.l4Off = 40;
  t.counters.translated46++;
  t.out(o, 0, 40 + plen);
  return 0;
}
