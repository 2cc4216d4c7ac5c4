// Fragmentation by the translator. RFC 7915 §4.1: IPv4 packets with DF clear that would exceed
// lowest-ipv6-mtu (or the IPv6 next hop) are sent as IPv6 fragments, each with a Fragment Header
// carrying the IPv4 Identification. RFC 7915 §5.1: translated IPv4 packets of up to 1260 bytes
// have DF clear, so when the IPv4 next hop is smaller still, the translator fragments them as any
// IPv4 router would (RFC 791 §3.2).
import { copy } from './checksum.js';
import { writeAddrs6, writeFragmentHeader, writeIpv4, writeIpv6 } from './headers.js';
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
  // Payload length and the offset word are set per fragment below.
  writeIpv6(o, 0, tos, 0, nh, hop);
  writeFragmentHeader(o, 0, nh, 0, id);
  writeAddrs6(o, 0, t.a6s, t.a6d);
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
