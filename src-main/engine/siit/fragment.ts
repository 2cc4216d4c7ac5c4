// RFC 7915 §4.1: IPv4 packets with DF clear that would exceed lowest-ipv6-mtu (or the IPv6 next
// hop) are sent as IPv6 fragments, each with a Fragment Header carrying the IPv4 Identification.
// (The IPv6 -> IPv4 direction never fragments: RFC 7915 §5.1.1 copies fragment fields one to one.)
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
    o.set(buf.subarray(l4 + done, l4 + done + n), 48);
    t.counters.fragmentsEmitted++;
    t.out(o, 0, 48 + n);
  }
  t.l4Off = 48;
  t.counters.translated46++;
  return 0;
}
