// RFC 7915 §5: IPv6 -> IPv4. Extension headers before the upper layer are skipped, the IPv4
// header is written right in front of the upper-layer header, so translation is in place.
import { adjust, adjustPartial, copy, finish, fold, pseudo6, sum16, sumAddr4, sumAddr6 } from './checksum.js';
import { isIllegalSource6 } from '../ip/address.js';
import { R } from './counters.js';
import { sendIcmp6Error } from './errors.js';
import { error6to4, hasLength6, info6to4, mtu6to4, pointer6to4 } from './icmp.js';
import { translate46 } from './ipv4-to-ipv6.js';
import { fragment64, writeIpv4 } from './fragment.js';
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
  return nh === 0 || nh === 43 || nh === 60 || nh === 44;
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
    if (nh === 44) {
      if (frag >= 0) return afterFragment(t, buf, off, end - off);
      frag = p;
      nh = buf[p];
      p += 8;
      // RFC 7915 §5.1 Total Length: an extension header after the Fragment Header means the
      // packet SHOULD be dropped (Jool answers with the §5.4 default error).
      if (isExtHeader(nh) || nh === 51) return afterFragment(t, buf, off, end - off);
      continue;
    }
    const hlen = (buf[p + 1] + 1) << 3;
    if (p + hlen > end) return t.drop(R.extHeaderChain);
    if (nh === 43 && buf[p + 3] !== 0) {
      // RFC 7915 §5.1: a Routing header with Segments Left != 0 must not be translated;
      // Parameter Problem pointing at Segments Left.
      return sendIcmp6Error(t, buf, off, end - off, 4, 0, p + 3 - off, R.routingHeader);
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
  const icmpErr = nh === 58 && fragOff === 0 && l4len > 0 && buf[l4] < 128;
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
      : sendIcmp6Error(t, buf, off, end - off, 1, 1, 0, R.dstUntranslatable);
  }
  let src4 = map6to4(t, buf, off + 8);
  if (src4 === -1) {
    if (!icmpErr) return sendIcmp6Error(t, buf, off, end - off, 1, 1, 0, R.srcUntranslatable);
    // RFC 7915 §5.1 / RFC 6791: errors from untranslatable addresses get a pool address.
    src4 = cfg.rfc6791v4 !== -1 ? cfg.rfc6791v4 : cfg.icmpSourceV4;
    if (src4 === -1) return t.drop(R.srcUntranslatable);
  }

  // RFC 7915 §5.1 TTL: Hop Limit minus one; the translator is a router (RFC 8200 §3).
  let ttl = hlim;
  if (!hairpin) {
    if (hlim <= 1)
      return icmpErr ? t.drop(R.ttlExpired) : sendIcmp6Error(t, buf, off, end - off, 3, 0, 0, R.ttlExpired);
    ttl = hlim - 1;
  }

  // Length of the ICMPv6 message for its pseudo-header: the whole message, which for a first
  // fragment only its last fragment tells (icmp-frag.ts).
  let icmpLen = l4len;
  if (nh === 58 && isFrag) {
    // RFC 7915 §1.2: a fragmented ICMPv6 error cannot be translated (its quote must be whole).
    if (icmpErr) return t.drop(R.icmpFragmented);
    t.icmpFrags.key6(buf, off, frag);
    if (fragOff === 0) {
      if (l4len < 8) return t.drop(R.transportTruncated);
      if (info6to4(buf[l4]) < 0) return t.drop(R.icmpUntranslatable);
      icmpLen = firstFragment(t, buf, off, end - off, flags);
      if (icmpLen < 0) return icmpLen === HELD ? 0 : t.drop(R.icmpFragmented);
    } else if (!mf) lastFragment(t, fragOff + l4len);
  } else if (nh === 58) {
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
      return sendIcmp6Error(t, buf, off, end - off, 2, 0, Math.max(1280, cfg.ipv4Mtu + 20), R.tooBig);
    }
    fragment4 = true;
  }

  // RFC 7915 §5.5: transport checksums, first fragment or whole packet only.
  if (fragOff === 0) {
    const partial = (flags & FLAG.csumPartial) !== 0;
    if (nh === 6) {
      if (l4len < 18) return t.drop(R.transportTruncated);
      const oldSum = sumAddr6(buf, off + 8) + sumAddr6(buf, off + 24);
      const newSum = sumAddr4(src4) + sumAddr4(dst4);
      const c = r16(buf, l4 + 16);
      const n = partial ? adjustPartial(c, oldSum, newSum) : adjust(c, oldSum, newSum);
      buf[l4 + 16] = n >> 8;
      buf[l4 + 17] = n & 255;
    } else if (nh === 17) {
      if (l4len < 8) return t.drop(R.transportTruncated);
      let c = r16(buf, l4 + 6);
      // RFC 8200 §8.1: a zero UDP checksum is invalid in IPv6. But 0x0000 is also one's
      // complement "negative zero" (RFC 1624 §3): translators that update checksums
      // incrementally (TAYGA as the network's NAT64 does, about one datagram in 65536) send it
      // for a datagram whose checksum is 0xffff. A whole datagram can tell the two apart: it
      // sums to 0xffff with the field as it is. Fragments cannot, and stay dropped.
      if (c === 0 && !partial) {
        if (isFrag || finish(sum16(buf, l4, l4len, pseudo6(buf, off + 8, off + 24, l4len, 17))) !== 0)
          return t.drop(R.udpChecksumZero);
        c = 0xffff;
      }
      const oldSum = sumAddr6(buf, off + 8) + sumAddr6(buf, off + 24);
      const newSum = sumAddr4(src4) + sumAddr4(dst4);
      let n = partial ? adjustPartial(c, oldSum, newSum) : adjust(c, oldSum, newSum);
      if (n === 0 && !partial) n = 0xffff;
      buf[l4 + 6] = n >> 8;
      buf[l4 + 7] = n & 255;
    } else if (nh === 58) {
      // RFC 7915 §5.2: Echo type change, ICMPv6 pseudo-header removed, incrementally.
      const type = buf[l4];
      const code = buf[l4 + 1];
      const ntype = info6to4(type);
      const oldSum = ((type << 8) | code) + pseudo6(buf, off + 8, off + 24, icmpLen, 58);
      const n = adjust(r16(buf, l4 + 2), oldSum, (ntype << 8) | code);
      buf[l4] = ntype;
      buf[l4 + 2] = n >> 8;
      buf[l4 + 3] = n & 255;
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
  if (fragment4)
    return fragment64(t, buf, l4, l4len, tos, id, ttl, nh === 58 ? 1 : nh, src4, dst4, cfg.ipv4Mtu);
  const o = l4 - 20;
  writeIpv4(buf, o, tos, total, id, flagsOff, ttl, nh === 58 ? 1 : nh, src4, dst4);
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
  return sendIcmp6Error(t, buf, off, len, 1, 1, 0, R.extHeaderAfterFragment);
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
    if (nh === 44) {
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
  writeIpv4(o, p, tos, itotal & 0xffff, id, flagsOff, b[ip + 7], nh === 58 ? 1 : nh, src4, dst4);
  const l4n = iend - q;
  const d = p + 20;
  copy(o, d, b, q, iend - q);
  if (fragOff === 0) {
    const oldSum = sumAddr6(b, ip + 8) + sumAddr6(b, ip + 24);
    const newSum = sumAddr4(src4) + sumAddr4(dst4);
    if (nh === 6 && l4n >= 18) {
      const n = adjust(r16(o, d + 16), oldSum, newSum);
      o[d + 16] = n >> 8;
      o[d + 17] = n & 255;
    } else if (nh === 17 && l4n >= 8) {
      const c = r16(o, d + 6);
      if (c !== 0) {
        let n = adjust(c, oldSum, newSum);
        if (n === 0) n = 0xffff;
        o[d + 6] = n >> 8;
        o[d + 7] = n & 255;
      }
    } else if (nh === 58 && l4n >= 4) {
      const type = o[d];
      if (type < 128) return -R.icmpErrorNested;
      const ntype = info6to4(type);
      if (ntype < 0) return -R.icmpInnerInvalid;
      const code = o[d + 1];
      const mlen = iplen - ext;
      const n = adjust(
        r16(o, d + 2),
        ((type << 8) | code) + oldSum + (mlen >>> 16) + (mlen & 0xffff) + 58,
        (ntype << 8) | code,
      );
      o[d] = ntype;
      o[d + 2] = n >> 8;
      o[d + 3] = n & 255;
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
  if (fold(sum16(buf, l4, l4len, pseudo6(buf, off + 8, off + 24, l4len, 58))) !== 0xffff)
    return t.drop(R.icmpChecksum);
  const type = buf[l4];
  const code = buf[l4 + 1];
  const tc = error6to4(type, code);
  if (tc < 0) return t.drop(R.icmpUntranslatable);
  const ntype = tc >> 8;
  const ncode = tc & 255;
  const inner = l4 + 8;
  let innerLen = l4len - 8;
  let extLen = 0;
  // RFC 4884 §4.1: a non-zero length (64-bit words) marks where the extension structure starts.
  if (hasLength6(type) && buf[l4 + 4] !== 0) {
    const ol = buf[l4 + 4] * 8;
    if (ol < innerLen) {
      extLen = innerLen - ol;
      innerLen = ol;
    }
  }
  let rest = 0;
  if (ntype === 12) {
    const ptr = r32(buf, l4 + 4);
    const p4 = ptr > 39 ? -1 : pointer6to4(ptr);
    if (p4 < 0) return t.drop(R.icmpUntranslatable);
    rest = p4 << 24;
  }
  const o = t.s64;
  const n = inner64(t, buf, inner, innerLen, o, 28);
  if (n < 0) return t.drop(-n);
  if (ntype === 3 && ncode === 4) {
    // RFC 7915 §5.2: "taking into account whether or not the packet in error includes a Fragment
    // Header": without it the IPv4 packet is 20 bytes smaller, with it 28.
    rest = mtu6to4(r32(buf, l4 + 4) - (t.innerFragHeader ? 8 : 0), cfg.ipv4Mtu, cfg.ipv6Mtu);
  }
  const lay = t.layout.compute(n, extLen, 28, 576, 4);
  for (let i = 28 + lay.inner; i < 28 + lay.padded; i++) o[i] = 0;
  if (lay.ext > 0) copy(o, 28 + lay.padded, buf, inner + innerLen, lay.ext);
  if (lay.lengthField > 0 && (ntype === 3 || ntype === 11)) rest = (rest & 0xffff) | (lay.lengthField << 16);
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
    1,
    src4,
    dst4,
  );
  o[20] = ntype;
  o[21] = ncode;
  o[22] = 0;
  o[23] = 0;
  o[24] = (rest >>> 24) & 255;
  o[25] = (rest >>> 16) & 255;
  o[26] = (rest >>> 8) & 255;
  o[27] = rest & 255;
  const c = finish(sum16(o, 20, total - 20, 0));
  o[22] = c >> 8;
  o[23] = c & 255;
  t.l4Off = 20;
  return finish64(t, o, 0, total, dst4, dstViaPool6, hairpin, 0);
}
