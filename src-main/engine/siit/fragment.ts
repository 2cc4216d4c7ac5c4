// Fragmentation by the translator. RFC 7915 §4.1: IPv4 packets with DF clear that would exceed
// lowest-ipv6-mtu (or the IPv6 next hop) are sent as IPv6 fragments, each with a Fragment Header
// carrying the IPv4 Identification. RFC 7915 §5.1: translated IPv4 packets of up to 1260 bytes
// have DF clear, so when the IPv4 next hop is smaller still, the translator fragments them as any
// IPv4 router would (RFC 791 §3.2).
import { copy } from './checksum.js';
import type { Translator, Verdict } from './translator.js';

/**
 * Emits the already translated transport payload buf[l4, l4+l4len) as IPv6 fragments no larger
 * than `mtu`. `fragOff`/`mf` are those of the IPv4 packet (which may itself be a fragment), so the
 * offsets and the last More Fragments flag stay consistent with the sender's other fragments.
 */
export function fragment46(
  t: Translator,
  buf: Uint8Array,
  l4: number,
  l4len: number,
  tos: number,
  hop: number,
  nh: number,
  id: number,
  fragOff: number,
  mf: boolean,
  mtu: number,
): Verdict {
  // Every fragment but the last carries a multiple of 8 bytes (RFC 8200 §4.5).
  const chunk = ((mtu - 48) >> 3) << 3;
  const o = t.sFrag;
  o[0] = 0x60 | (tos >> 4);
  o[1] = (tos & 15) << 4;
  o[2] = 0;
  o[3] = 0;
  o[6] = 44;
  o[7] = hop;
  o.set(t.a6s, 8);
  o.set(t.a6d, 24);
  o[40] = nh;
  o[41] = 0;
  o[44] = 0;
  o[45] = 0;
  o[46] = id >> 8;
  o[47] = id & 255;
  for (let done = 0; done < l4len; done += chunk) {
    const n = Math.min(chunk, l4len - done);
    const last = done + n >= l4len;
    const plen = 8 + n;
    o[4] = plen >> 8;
    o[5] = plen & 255;
    const fw = (fragOff + done) | (last && !mf ? 0 : 1);
    o[42] = fw >> 8;
    o[43] = fw & 255;
    copy(o, 48, buf, l4 + done, n);
    t.counters.fragmentsEmitted++;
    t.out(o, 0, 48 + n);
  }
  t.l4Off = 48;
  t.counters.translated46++;
  return 0;
}

/** Writes a 20-byte IPv4 header (no options) with its checksum at o[p]. */
export function writeIpv4(
  o: Uint8Array,
  p: number,
  tos: number,
  total: number,
  id: number,
  flagsOff: number,
  ttl: number,
  proto: number,
  src: number,
  dst: number,
): void {
  o[p] = 0x45;
  o[p + 1] = tos;
  o[p + 2] = total >> 8;
  o[p + 3] = total & 255;
  o[p + 4] = id >> 8;
  o[p + 5] = id & 255;
  o[p + 6] = flagsOff >> 8;
  o[p + 7] = flagsOff & 255;
  o[p + 8] = ttl;
  o[p + 9] = proto;
  o[p + 12] = src >>> 24;
  o[p + 13] = (src >>> 16) & 255;
  o[p + 14] = (src >>> 8) & 255;
  o[p + 15] = src & 255;
  o[p + 16] = dst >>> 24;
  o[p + 17] = (dst >>> 16) & 255;
  o[p + 18] = (dst >>> 8) & 255;
  o[p + 19] = dst & 255;
  // The header checksum, unrolled: ten words plus the fold.
  let s =
    ((o[p] << 8) | o[p + 1]) +
    ((o[p + 2] << 8) | o[p + 3]) +
    ((o[p + 4] << 8) | o[p + 5]) +
    ((o[p + 6] << 8) | o[p + 7]) +
    ((o[p + 8] << 8) | o[p + 9]) +
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  o[p + 10] = c >> 8;
  o[p + 11] = c & 255;
}

/**
 * RFC 791 fragmentation of a translated DF-clear packet whose transport payload is
 * buf[l4, l4+l4len), for an IPv4 next hop of `mtu` bytes.
 */
export function fragment64(
  t: Translator,
  buf: Uint8Array,
  l4: number,
  l4len: number,
  tos: number,
  id: number,
  ttl: number,
  proto: number,
  src: number,
  dst: number,
  mtu: number,
): Verdict {
  const chunk = ((mtu - 20) >> 3) << 3;
  const o = t.sFrag;
  for (let done = 0; done < l4len; done += chunk) {
    const n = Math.min(chunk, l4len - done);
    const last = done + n >= l4len;
    writeIpv4(o, 0, tos, 20 + n, id, (done >> 3) | (last ? 0 : 0x2000), ttl, proto, src, dst);
    copy(o, 20, buf, l4 + done, n);
    t.counters.fragmentsEmitted++;
    t.out(o, 0, 20 + n);
  }
  t.l4Off = 20;
  t.counters.translated64++;
  return 0;
}
