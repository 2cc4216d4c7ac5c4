// RFC 7915 §5: IPv6 -> IPv4. Extension headers before the upper layer are skipped, the IPv4
// header is written right in front of the upper-layer header, so translation is in place.
import { copy, finish, fold, pseudo6, sum16, sumAddr4, sumAddr6 } from './checksum.js';
import { isIllegalSource6 } from '../ip/address.js';
import {
  ICMP4_DEST_UNREACH,
  ICMP4_FRAG_NEEDED,
  ICMP4_PARAM_PROBLEM,
  ICMP4_TIME_EXCEEDED,
  ICMP6_ADMIN_PROHIBITED,
  ICMP6_DEST_UNREACH,
  ICMP6_ERRONEOUS_HEADER,
  ICMP6_HOP_LIMIT_EXCEEDED,
  ICMP6_INFO_MIN,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROBLEM,
  ICMP6_TIME_EXCEEDED,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../ip/numbers.js';
import { R } from './counters.js';
import { sendIcmp6Error } from './errors.js';
import { error6to4, hasLength6, info6to4, mtu6to4, pointer6to4, quotedDatagramLength } from './icmp.js';
import { translate46 } from './ipv4-to-ipv6.js';
import { fragment64 } from './fragment.js';
import { writeIcmpHeader, writeIpv4 } from './headers.js';
import { fixEcho, fixTcp, fixUdp } from './transport.js';
import { FLAG } from './flags.js';
import type { Translator, Verdict } from './translator.js';
import { HELD, firstFragment, lastFragment } from './icmp-frag.js';

const r16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const r32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** RFC 7757 §3.3: EAM first, then pool6; -1 when neither maps the address. */
function map6to4(t: Translator, b: Uint8Array, off: number): number {
  const v = t.cfg.eamt.map6to4(b, off);
  if (v !== -1) return v;
  return t.cfg.pool6 === null ? -1 : t.cfg.pool6.extract(b, off);
}

/** Extension headers RFC 7915 §5.1 skips (Hop-by-Hop, Routing, Destination Options) and Fragment. */
function isExtHeader(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_DSTOPTS || nh === IPPROTO_FRAGMENT
  );
}

export function translate64(
  t: Translator,
  buf: Uint8Array,
  off: number,
  len: number,
  flags: number,
): Verdict {
  const cfg = t.cfg;
  if (len < 40) return t.drop(R.truncated);
  if (buf[off] >> 4 !== 6) return t.drop(R.notIp);
  const plen = r16(buf, off + 4);
  // A zero Payload Length means a jumbogram (RFC 2675), which has no IPv4 form.
  if (plen === 0 && buf[off + 6] === 0) return t.drop(R.badIpv6Header);
  if (40 + plen > len) return t.drop(R.truncated);
  const end = off + 40 + plen;
  const hlim = buf[off + 7];
  const tos = ((buf[off] & 15) << 4) | (buf[off + 1] >> 4);

  // RFC 7915 §5.1 Protocol: walk Hop-by-Hop, Routing and Destination Options headers (every step
  // advances by at least 8 bytes, so a hostile chain cannot loop).
  let nh = buf[off + 6];
  let p = off + 40;
  let frag = -1;
  while (isExtHeader(nh)) {
    if (p + 8 > end) return t.drop(R.extHeaderChain);
    if (nh === IPPROTO_FRAGMENT) {
      if (frag >= 0) return afterFragment(t, buf, off, end - off);
      frag = p;
      nh = buf[p];
      p += 8;
      // RFC 7915 §5.1 Total Length: an extension header after the Fragment Header means the
      // packet SHOULD be dropped (Jool answers with the §5.4 default error).
      if (isExtHeader(nh) || nh === IPPROTO_AH) return afterFragment(t, buf, off, end - off);
      continue;
    }
    const hlen = (buf[p + 1] + 1) << 3;
    if (p + hlen > end) return t.drop(R.extHeaderChain);
    if (nh === IPPROTO_ROUTING && buf[p + 3] !== 0) {
      // RFC 7915 §5.1: a Routing header with Segments Left != 0 must not be translated;
      // Parameter Problem pointing at Segments Left.
      const pointer = p + 3 - off;
      return sendIcmp6Error(
        t,
        buf,
        off,
        end - off,
        ICMP6_PARAM_PROBLEM,
        ICMP6_ERRONEOUS_HEADER,
        pointer,
        R.routingHeader,
      );
    }
    nh = buf[p];
    p += hlen;
  }
  const l4 = p;
  const l4len = end - p;
  let fragOff = 0;
  let mf = false;
  let fid = 0;
  if (frag >= 0) {
    const fw = r16(buf, frag + 2);
    fragOff = fw & 0xfff8;
    mf = (fw & 1) !== 0;
    fid = r16(buf, frag + 6);
  }
  const isFrag = mf || fragOff !== 0;
  const icmpErr = nh === IPPROTO_ICMPV6 && fragOff === 0 && l4len > 0 && buf[l4] < ICMP6_INFO_MIN;
  const hairpin = (flags & FLAG.hairpin) !== 0;

  // RFC 7915 §5.1 Source Address: illegal sources (::, ::1, multicast) are silently dropped.
  if (!icmpErr && isIllegalSource6(buf, off + 8)) return t.drop(R.illegalSource);
  let dst4 = cfg.eamt.map6to4(buf, off + 24);
  let dstViaPool6 = false;
  if (dst4 === -1 && cfg.pool6 !== null) {
    dst4 = cfg.pool6.extract(buf, off + 24);
    dstViaPool6 = dst4 !== -1;
  }
  if (dst4 === -1) {
    return icmpErr
      ? t.drop(R.dstUntranslatable)
      : sendIcmp6Error(
          t,
          buf,
          off,
          end - off,
          ICMP6_DEST_UNREACH,
          ICMP6_ADMIN_PROHIBITED,
          0,
          R.dstUntranslatable,
        );
  }
  let src4 = map6to4(t, buf, off + 8);
  if (src4 === -1) {
    if (!icmpErr)
      return sendIcmp6Error(
        t,
        buf,
        off,
        end - off,
        ICMP6_DEST_UNREACH,
        ICMP6_ADMIN_PROHIBITED,
        0,
        R.srcUntranslatable,
      );
    // RFC 7915 §5.1 / RFC 6791: errors from untranslatable addresses get a pool address.
    src4 = cfg.rfc6791v4 !== -1 ? cfg.rfc6791v4 : cfg.icmpSourceV4;
    if (src4 === -1) return t.drop(R.srcUntranslatable);
  }

  // RFC 7915 §5.1 TTL: Hop Limit minus one; the translator is a router (RFC 8200 §3).
  let ttl = hlim;
  if (!hairpin) {
    if (hlim <= 1)
      return icmpErr
        ? t.drop(R.ttlExpired)
        : sendIcmp6Error(
            t,
            buf,
            off,
            end - off,
            ICMP6_TIME_EXCEEDED,
            ICMP6_HOP_LIMIT_EXCEEDED,
            0,
            R.ttlExpired,
          );
    ttl = hlim - 1;
  }

  // Length of the ICMPv6 message for its pseudo-header: the whole message, which for a first
  // fragment only its last fragment tells (icmp-frag.ts).
  let icmpLen = l4len;
  if (nh === IPPROTO_ICMPV6 && isFrag) {
    // RFC 7915 §1.2: a fragmented ICMPv6 error cannot be translated (its quote must be whole).
    if (icmpErr) return t.drop(R.icmpFragmented);
    t.icmpFrags.key6(buf, off, frag);
    if (fragOff === 0) {
      if (l4len < 8) return t.drop(R.transportTruncated);
      if (info6to4(buf[l4]) < 0) return t.drop(R.icmpUntranslatable);
      icmpLen = firstFragment(t, buf, off, end - off, flags);
      if (icmpLen < 0) return icmpLen === HELD ? 0 : t.drop(R.icmpFragmented);
    } else if (!mf) lastFragment(t, fragOff + l4len);
  } else if (nh === IPPROTO_ICMPV6) {
    if (icmpErr)
      return translateIcmp6Error(
        t,
        buf,
        off,
        l4,
        l4len,
        src4,
        dst4,
        ttl,
        tos,
        frag >= 0 ? fid : -1,
        dstViaPool6,
        hairpin,
      );
    if (l4len < 8) return t.drop(R.transportTruncated);
    if (info6to4(buf[l4]) < 0) return t.drop(R.icmpUntranslatable);
  }

  const gso = (flags & FLAG.gso) !== 0;
  const total = 20 + l4len;
  const hairpinning = dstViaPool6 && cfg.eamt.has4(dst4);
  // Too big for the IPv4 next hop. RFC 7915 §5.1: up to 1260 bytes the IPv4 packet has DF clear,
  // so the translator, as an IPv4 router, fragments it; bigger ones (DF set) and IPv6 fragments
  // get Packet Too Big with the IPv4 MTU plus the header difference (as Jool).
  let fragment4 = false;
  if (!gso && !hairpinning && total > cfg.ipv4Mtu) {
    if (frag >= 0 || total > 1260) {
      const mtu = Math.max(1280, cfg.ipv4Mtu + 20);
      return sendIcmp6Error(t, buf, off, end - off, ICMP6_PACKET_TOO_BIG, 0, mtu, R.tooBig);
    }
    fragment4 = true;
  }

  // RFC 7915 §5.5: transport checksums, first fragment or whole packet only.
  if (fragOff === 0) {
    const partial = (flags & FLAG.csumPartial) !== 0;
    const oldSum = sumAddr6(buf, off + 8) + sumAddr6(buf, off + 24);
    const newSum = sumAddr4(src4) + sumAddr4(dst4);
    if (nh === IPPROTO_TCP) {
      if (l4len < 18) return t.drop(R.transportTruncated);
      fixTcp(buf, l4, oldSum, newSum, partial);
    } else if (nh === IPPROTO_UDP) {
      if (l4len < 8) return t.drop(R.transportTruncated);
      let c = r16(buf, l4 + 6);
      // RFC 8200 §8.1: a zero UDP checksum is invalid in IPv6. But 0x0000 is also one's
      // complement "negative zero" (RFC 1624 §3): translators that update checksums
      // incrementally (TAYGA as the network's NAT64 does, about one datagram in 65536) send it
      // for a datagram whose checksum is 0xffff. A whole datagram can tell the two apart: it
      // sums to 0xffff with the field as it is. Fragments cannot, and stay dropped.
      if (c === 0 && !partial) {
        if (
          isFrag ||
          finish(sum16(buf, l4, l4len, pseudo6(buf, off + 8, off + 24, l4len, IPPROTO_UDP))) !== 0
        )
          return t.drop(R.udpChecksumZero);
        c = 0xffff;
      }
      fixUdp(buf, l4, c, oldSum, newSum, partial);
    } else if (nh === IPPROTO_ICMPV6) {
      // RFC 7915 §5.2: Echo type change, ICMPv6 pseudo-header removed.
      fixEcho(buf, l4, oldSum, icmpLen, false);
    }
  }

  // RFC 7915 §5.1 / §5.1.1: with a Fragment Header, ID and MF come from it and DF is clear;
  // without one, DF is set above 1260 bytes (the IPv4 size of a 1280-byte IPv6 packet) and the
  // Identification is generated.
  let id: number;
  let flagsOff: number;
  if (frag >= 0) {
    id = fid;
    flagsOff = (fragOff >> 3) | (mf ? 0x2000 : 0);
  } else if (total > 1260) {
    id = 0;
    flagsOff = 0x4000;
  } else {
    id = t.nextIpId();
    flagsOff = 0;
  }
  const proto = nh === IPPROTO_ICMPV6 ? IPPROTO_ICMP : nh;
  if (fragment4) return fragment64(t, buf, l4, l4len, tos, id, ttl, proto, src4, dst4, cfg.ipv4Mtu);
  const o = l4 - 20;
  writeIpv4(buf, o, tos, total, id, flagsOff, ttl, proto, src4, dst4);
  t.l4Off = l4;
  return finish64(t, buf, o, total, dst4, dstViaPool6, hairpin, flags);
}

/** Emits a translated IPv4 packet, or hairpins it (RFC 7757 §4.2) when it is bound back to IPv6. */
function finish64(
  t: Translator,
  buf: Uint8Array,
  o: number,
  total: number,
  dst4: number,
  dstViaPool6: boolean,
  hairpin: boolean,
  flags: number,
): Verdict {
  if (dstViaPool6 && t.cfg.eamt.has4(dst4)) {
    if (hairpin) return t.drop(R.hairpinLoop);
    t.inHairpin = true;
    try {
      return translate46(t, buf, o, total, flags | FLAG.hairpin);
    } finally {
      t.inHairpin = false;
    }
  }
  t.counters.translated64++;
  t.out(buf, o, total);
  return 0;
}

function afterFragment(t: Translator, buf: Uint8Array, off: number, len: number): Verdict {
  return sendIcmp6Error(
    t,
    buf,
    off,
    len,
    ICMP6_DEST_UNREACH,
    ICMP6_ADMIN_PROHIBITED,
    0,
    R.extHeaderAfterFragment,
  );
}

/**
 * RFC 7915 §5.3: translates the IPv6 packet quoted in an ICMPv6 error into o[p...] (hop limit
 * kept, extension headers dropped, Fragment Header folded into the IPv4 header). Returns the
 * translated length, or minus a drop reason.
 */
function inner64(t: Translator, b: Uint8Array, ip: number, ilen: number, o: Uint8Array, p: number): number {
  if (ilen < 40 || b[ip] >> 4 !== 6) return -R.icmpInnerInvalid;
  const iplen = r16(b, ip + 4);
  const iend = ip + ilen;
  let nh = b[ip + 6];
  let q = ip + 40;
  let frag = -1;
  while (isExtHeader(nh)) {
    if (q + 8 > iend) return -R.icmpInnerInvalid;
    if (nh === IPPROTO_FRAGMENT) {
      if (frag >= 0) return -R.icmpInnerInvalid;
      frag = q;
      nh = b[q];
      q += 8;
      continue;
    }
    const hlen = (b[q + 1] + 1) << 3;
    if (q + hlen > iend) return -R.icmpInnerInvalid;
    nh = b[q];
    q += hlen;
  }
  const ext = q - ip - 40;
  if (iplen < ext) return -R.icmpInnerInvalid;
  const src4 = map6to4(t, b, ip + 8);
  const dst4 = map6to4(t, b, ip + 24);
  if (src4 === -1 || dst4 === -1) return -R.icmpInnerUntranslatable;
  const itotal = 20 + iplen - ext;
  let fragOff = 0;
  let id = 0;
  let flagsOff = itotal > 1260 ? 0x4000 : 0;
  t.innerFragHeader = frag >= 0;
  if (frag >= 0) {
    const fw = r16(b, frag + 2);
    fragOff = fw & 0xfff8;
    id = r16(b, frag + 6);
    flagsOff = (fragOff >> 3) | (fw & 1 ? 0x2000 : 0);
  }
  const tos = ((b[ip] & 15) << 4) | (b[ip + 1] >> 4);
  const proto = nh === IPPROTO_ICMPV6 ? IPPROTO_ICMP : nh;
  writeIpv4(o, p, tos, itotal & 0xffff, id, flagsOff, b[ip + 7], proto, src4, dst4);
  const l4n = iend - q;
  const d = p + 20;
  copy(o, d, b, q, iend - q);
  if (fragOff === 0) {
    const oldSum = sumAddr6(b, ip + 8) + sumAddr6(b, ip + 24);
    const newSum = sumAddr4(src4) + sumAddr4(dst4);
    // The quote may be cut short: only fields it holds are fixed; a zero UDP checksum stays zero.
    if (nh === IPPROTO_TCP && l4n >= 18) {
      fixTcp(o, d, oldSum, newSum, false);
    } else if (nh === IPPROTO_UDP && l4n >= 8) {
      const c = r16(o, d + 6);
      if (c !== 0) fixUdp(o, d, c, oldSum, newSum, false);
    } else if (nh === IPPROTO_ICMPV6 && l4n >= 4) {
      const type = o[d];
      if (type < ICMP6_INFO_MIN) return -R.icmpErrorNested;
      if (info6to4(type) < 0) return -R.icmpInnerInvalid;
      fixEcho(o, d, oldSum, iplen - ext, false);
    }
  }
  return 20 + l4n;
}

/** RFC 7915 §5.2 and §5.3: an ICMPv6 error becomes an ICMPv4 error with a translated inner packet. */
function translateIcmp6Error(
  t: Translator,
  buf: Uint8Array,
  off: number,
  l4: number,
  l4len: number,
  src4: number,
  dst4: number,
  ttl: number,
  tos: number,
  fragId: number,
  dstViaPool6: boolean,
  hairpin: boolean,
): Verdict {
  const cfg = t.cfg;
  if (l4len < 8) return t.drop(R.transportTruncated);
  // The ICMPv4 checksum is computed afresh, so a corrupt error must be caught here first.
  if (fold(sum16(buf, l4, l4len, pseudo6(buf, off + 8, off + 24, l4len, IPPROTO_ICMPV6))) !== 0xffff)
    return t.drop(R.icmpChecksum);
  const type = buf[l4];
  const code = buf[l4 + 1];
  const tc = error6to4(type, code);
  if (tc < 0) return t.drop(R.icmpUntranslatable);
  const ntype = tc >> 8;
  const ncode = tc & 255;
  const inner = l4 + 8;
  // RFC 4884 §4.1: the length field (byte 4, 64-bit words) marks where an extension starts.
  const innerLen = quotedDatagramLength(hasLength6(type) ? buf[l4 + 4] : 0, 8, l4len - 8);
  const extLen = l4len - 8 - innerLen;
  let rest = 0;
  if (ntype === ICMP4_PARAM_PROBLEM) {
    const ptr = r32(buf, l4 + 4);
    const p4 = ptr > 39 ? -1 : pointer6to4(ptr);
    if (p4 < 0) return t.drop(R.icmpUntranslatable);
    rest = p4 << 24;
  }
  const o = t.s64;
  const n = inner64(t, buf, inner, innerLen, o, 28);
  if (n < 0) return t.drop(-n);
  if (ntype === ICMP4_DEST_UNREACH && ncode === ICMP4_FRAG_NEEDED) {
    // RFC 7915 §5.2: "taking into account whether or not the packet in error includes a Fragment
    // Header": without it the IPv4 packet is 20 bytes smaller, with it 28.
    rest = mtu6to4(r32(buf, l4 + 4) - (t.innerFragHeader ? 8 : 0), cfg.ipv4Mtu, cfg.ipv6Mtu);
  }
  const lay = t.layout.compute(n, extLen, 28, 576, 4);
  lay.fill(o, 28, buf, inner + innerLen);
  if (lay.lengthField > 0 && (ntype === ICMP4_DEST_UNREACH || ntype === ICMP4_TIME_EXCEEDED))
    rest = (rest & 0xffff) | (lay.lengthField << 16);
  const total = 28 + lay.padded + lay.ext;
  // Same Identification/DF rules as any packet (RFC 7915 §5.1): an (atomic) Fragment Header
  // supplies the ID and clears DF. Errors are never fragmented, so MF and the offset are zero.
  const df = fragId < 0 && total > 1260;
  writeIpv4(
    o,
    0,
    tos,
    total,
    fragId >= 0 ? fragId : df ? 0 : t.nextIpId(),
    df ? 0x4000 : 0,
    ttl,
    IPPROTO_ICMP,
    src4,
    dst4,
  );
  writeIcmpHeader(o, 20, ntype, ncode, rest);
  const c = finish(sum16(o, 20, total - 20, 0));
  o[22] = c >> 8;
  o[23] = c & 255;
  t.l4Off = 20;
  return finish64(t, o, 0, total, dst4, dstViaPool6, hairpin, 0);
}
