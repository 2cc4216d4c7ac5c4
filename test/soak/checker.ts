// The soak's independent checker of what the translator emits. It imports nothing from
// src-main/engine/siit/ (nor from engine/ip/): it parses both packets with its own code and
// says what is wrong, or null. Three kinds of checks:
// - every emitted packet on its own: version, header and payload lengths, IPv4 header checksum,
//   hop limit, extension headers, transport lengths, ICMP error checksums;
// - a translation against its input (RFC 7915 with RFC 6052 and one EAM entry): addresses,
//   hop limit, protocol, every transport byte but the checksum equal, the checksum valid exactly
//   when the input's was, fragment fields and reassembled payloads, ICMP errors' inner packets
//   translated and quoting no byte that was not in the input;
// - an ICMP error the translator generated: sent back to the packet's source, quoting it
//   verbatim.
// The driver poisons every emitted byte after it is checked, so a byte of an earlier packet that
// leaks into a later one shows up as a difference from the input.
import { addrSum4, addrSum6, complement, eqBytes, get16, get32, sum, v4, v6 } from './inet.js';
import { CLAT4, CLAT6, embed, type FuzzConfig } from './packets.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;

/** An IP packet as the checker sees it (all offsets into `b`). */
interface Ip {
  family: 4 | 6;
  b: Uint8Array;
  off: number;
  len: number;
  src: Uint8Array;
  dst: Uint8Array;
  hop: number;
  /** Upper-layer protocol (after extension headers); ICMPv6 is 58. */
  proto: number;
  l4: number;
  l4len: number;
  frag: { offset: number; more: boolean; id: number } | null;
}

const bytes4 = (b: Uint8Array, o: number) => b.subarray(o, o + 4);

/** Parses a packet strictly; a string says why it is not well formed. `truncatedOk`: a quoted inner packet. */
function parse(b: Uint8Array, off: number, len: number, truncatedOk = false, walk = true): Ip | string {
  if (len < 1) return 'empty';
  const ver = b[off] >> 4;
  if (ver === 4) {
    if (len < 20) return `IPv4 packet of ${len} bytes`;
    const ihl = (b[off] & 0xf) * 4;
    if (ihl < 20 || ihl > len) return `IPv4 IHL ${ihl} with ${len} bytes`;
    const total = get16(b, off + 2);
    if (truncatedOk ? total < len : total !== len) return `IPv4 total length ${total}, ${len} bytes there`;
    if (complement(sum(b, off, ihl)) !== 0) return 'IPv4 header checksum wrong';
    const fo = get16(b, off + 6);
    const frag =
      fo & 0x3fff ? { offset: (fo & 0x1fff) * 8, more: (fo & 0x2000) !== 0, id: get16(b, off + 4) } : null;
    return {
      family: 4,
      b,
      off,
      len,
      src: bytes4(b, off + 12),
      dst: bytes4(b, off + 16),
      hop: b[off + 8],
      proto: b[off + 9],
      l4: off + ihl,
      l4len: len - ihl,
      frag,
    };
  }
  if (ver === 6) {
    if (len < 40) return `IPv6 packet of ${len} bytes`;
    const plen = get16(b, off + 4);
    if (truncatedOk ? plen + 40 < len : plen + 40 !== len)
      return `IPv6 payload length ${plen}, ${len - 40} bytes there`;
    let next = b[off + 6];
    let p = off + 40;
    let frag: Ip['frag'] = null;
    for (let n = 0; walk && n < 8 && (next === 0 || next === 43 || next === 60 || next === 44); n++) {
      if (p + 8 > off + len) return 'IPv6 extension header cut short';
      if (next === 44) {
        const fo = get16(b, p + 2);
        frag = { offset: fo & 0xfff8, more: (fo & 1) !== 0, id: get32(b, p + 4) };
        next = b[p];
        p += 8;
      } else {
        const elen = (b[p + 1] + 1) * 8;
        if (p + elen > off + len) return 'IPv6 extension header longer than the packet';
        next = b[p];
        p += elen;
      }
    }
    return {
      family: 6,
      b,
      off,
      len,
      src: b.subarray(off + 8, off + 24),
      dst: b.subarray(off + 24, off + 40),
      hop: b[off + 7],
      proto: next,
      l4: p,
      l4len: off + len - p,
      frag,
    };
  }
  return `IP version ${ver}`;
}

/**
 * An IPv4 or IPv6 fragment of an ICMP message, read leniently (a mutated length may hide it
 * from parse(), not from the translator).
 */
function isIcmpFragment(b: Uint8Array): boolean {
  if (b.length >= 20 && b[0] >> 4 === 4) return b[9] === ICMP && (get16(b, 6) & 0x3fff) !== 0;
  return b.length >= 48 && b[0] >> 4 === 6 && b[6] === 44 && b[40] === ICMP6;
}

/** IPv6 extension header numbers: an IPv4 packet with one of them as its protocol is copied as is (RFC 7915 §4.1). */
const EXT6 = [0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254];

const whole = (ip: Ip) => ip.frag === null || (ip.frag.offset === 0 && !ip.frag.more);
const isIcmp = (ip: Ip) => ip.proto === (ip.family === 4 ? ICMP : ICMP6);
const isError = (ip: Ip) =>
  isIcmp(ip) &&
  ip.l4len >= 1 &&
  (ip.family === 4 ? [3, 4, 5, 11, 12].includes(ip.b[ip.l4]) : ip.b[ip.l4] < 128);

/** The transport checksum of a whole segment is right (UDP over IPv4 with 0: "no checksum", also right). */
function transportOk(ip: Ip, seg: Uint8Array, segOff: number, len: number): boolean {
  if (ip.proto === ICMP) return complement(sum(seg, segOff, len)) === 0;
  if (ip.proto !== TCP && ip.proto !== UDP && ip.proto !== ICMP6) return true; // no checksum the translator knows
  const init = (ip.family === 4 ? addrSum4(ip.b, ip.off + 12) : addrSum6(ip.b, ip.off + 8)) + ip.proto + len;
  if (ip.proto === UDP && len >= 8 && get16(seg, segOff + 6) === 0) return ip.family === 4;
  return complement(sum(seg, segOff, len, init)) === 0;
}

/** Checks one emitted packet's IP layer on its own. */
function standalone(ip: Ip): string | null {
  if (ip.family === 4 && ip.l4 - ip.off !== 20) return 'IPv4 options in an emitted packet';
  if (ip.hop === 0) return 'emitted with hop limit 0';
  if (ip.family === 6 && ip.b[ip.off + 6] !== 44 && ip.b[ip.off + 6] !== ip.proto)
    return 'unexpected IPv6 extension header';
  return null;
}

/**
 * The transport header's own lengths (UDP length, TCP data offset, ICMP size) and an ICMP
 * error's checksum. A translator passes a UDP length through as it came, so for a translation
 * this is asked of the output only where the input passed it too.
 */
function transportShape(ip: Ip): string | null {
  if (!whole(ip)) return null;
  if (ip.proto === UDP) {
    if (ip.l4len < 8 || get16(ip.b, ip.l4 + 4) !== ip.l4len)
      return `UDP length ${get16(ip.b, ip.l4 + 4)} in ${ip.l4len} bytes`;
  } else if (ip.proto === TCP) {
    const doff = (ip.b[ip.l4 + 12] >> 4) * 4;
    if (ip.l4len < 20 || doff < 20 || doff > ip.l4len) return `TCP data offset ${doff} in ${ip.l4len} bytes`;
  } else if (isIcmp(ip)) {
    if (ip.l4len < 8) return `ICMP message of ${ip.l4len} bytes`;
    if (isError(ip) && !transportOk(ip, ip.b, ip.l4, ip.l4len)) return 'ICMP error checksum wrong';
  }
  return null;
}

/** The translator's address mapping, computed here from the config's text. */
class Mapping {
  private readonly rfc6791v4: number;
  private readonly prefix: Uint8Array;
  private readonly plen: number;
  constructor(private readonly cfg: FuzzConfig) {
    this.rfc6791v4 = v4(cfg.rfc6791v4);
    const [text, len] = cfg.pool6.split('/');
    this.prefix = v6(text);
    this.plen = Number(len) / 8;
  }
  to6(a: Uint8Array): Uint8Array {
    const x = get32(a, 0);
    return x === CLAT4 ? CLAT6 : embed(this.cfg, x);
  }
  /** null: no mapping (the translator must drop, or use rfc6791v4 for an error's source). */
  to4(a: Uint8Array, errorSource = false): Uint8Array | null {
    if (eqBytes(a, 0, CLAT6, 0, 16)) return u32(CLAT4);
    if (eqBytes(a, 0, this.prefix, 0, this.plen)) {
      const x = this.plen === 12 ? get32(a, 12) : get32(a, 9);
      return u32(x);
    }
    return errorSource ? u32(this.rfc6791v4) : null;
  }
}

function u32(x: number): Uint8Array {
  return Uint8Array.of(x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
}
const same = (a: Uint8Array | null, b: Uint8Array) =>
  a !== null && a.length === b.length && eqBytes(a, 0, b, 0, a.length);
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');

/** Bytes of a transport segment that translation must leave alone: not the checksum, not the ICMP type. */
function sameTransport(
  proto4or6: number,
  a: Uint8Array,
  ao: number,
  b: Uint8Array,
  bo: number,
  len: number,
  firstAt = 0,
): number {
  // Returns the first differing position (relative to the segment start), or -1.
  for (let i = 0; i < len; i++) {
    const at = firstAt + i;
    if (proto4or6 === TCP && (at === 16 || at === 17)) continue;
    if (proto4or6 === UDP && (at === 6 || at === 7)) continue;
    if (proto4or6 === ICMP && at < 4) continue;
    if (a[ao + i] !== b[bo + i]) return at;
  }
  return -1;
}

export interface CheckInput {
  /** A copy of the input packet, taken before the call (the translator works in place). */
  input: Uint8Array;
  /** Copies of everything emitted, in order. */
  outputs: Uint8Array[];
  /** 0 translated, 1 dropped, 2 ICMP error generated. */
  verdict: number;
  /** Whether the input was mutated: then only the checks that hold for any input apply. */
  mutated: boolean;
}

export class Checker {
  private readonly map: Mapping;
  constructor(cfg: FuzzConfig) {
    this.map = new Mapping(cfg);
  }

  /** null when all is well, else what is wrong. */
  check(c: CheckInput): string | null {
    const { input, outputs, verdict } = c;
    if (verdict === 1) return outputs.length ? `dropped, yet ${outputs.length} packet(s) emitted` : null;
    // An ICMP echo's first fragment is held until its last one says how long the message is
    // (the translator's icmp-frag table): nothing emitted now, two packets later.
    const heldFragment = isIcmpFragment(input);
    if (outputs.length === 0) return heldFragment ? null : `verdict ${verdict} with nothing emitted`;
    if (verdict === 2 && outputs.length !== 1)
      return `${outputs.length} packets for one generated ICMP error`;
    const outs: Ip[] = [];
    // RFC 7915 §4.1 copies an IPv4 protocol number into Next Header even when it names an
    // IPv6 extension header: then what follows is the IPv4 payload, not such a header.
    const copiedExt = input.length >= 20 && input[0] >> 4 === 4 && EXT6.includes(input[9]);
    for (const o of outputs) {
      const ip = parse(o, 0, o.length, false, !(copiedExt && o[0] >> 4 === 6));
      if (typeof ip === 'string') return `emitted packet malformed: ${ip}`;
      const bad = standalone(ip);
      if (bad) return `emitted packet: ${bad}`;
      outs.push(ip);
    }
    if (verdict === 2) {
      const shape = transportShape(outs[0]);
      return shape ? `generated error: ${shape}` : this.generated(input, outs[0]);
    }
    const inp = parse(input, 0, input.length);
    if (typeof inp === 'string') return null;
    // The other family's ICMP number as protocol (ICMPv6's 58 in IPv4, ICMP's 1 in IPv6) is
    // copied like any protocol (RFC 7915 §4.1, §5.1): its payload was never an ICMP message here.
    const foreignIcmp = inp.proto === (inp.family === 4 ? ICMP6 : ICMP);
    if (whole(inp) && !foreignIcmp && transportShape(inp) === null)
      for (const x of outs) {
        const shape = transportShape(x);
        if (shape) return `emitted packet: ${shape} (the input's was right)`;
      }
    if (c.mutated || heldFragment) return null;
    if (outs[0].family === inp.family) return null; // hairpinned: checked on its own above
    return this.translated(inp, outs);
  }

  /** An ICMP error the translator made about the input: back to its source, quoting it verbatim. */
  private generated(input: Uint8Array, out: Ip): string | null {
    const fam = input[0] >> 4;
    if (out.family !== fam) return `generated error is IPv${out.family} for an IPv${fam} packet`;
    if (!isError(out)) return 'generated packet is not an ICMP error';
    const src = fam === 4 ? input.subarray(12, 16) : input.subarray(8, 24);
    if (!same(out.dst, src)) return 'generated error not addressed to the packet source';
    const quoted = out.l4len - 8;
    if (quoted > input.length)
      return `generated error quotes ${quoted} bytes of a ${input.length}-byte packet`;
    if (!eqBytes(out.b, out.l4 + 8, input, 0, quoted))
      return 'generated error does not quote the packet verbatim';
    return null;
  }

  private translated(inp: Ip, outs: Ip[]): string | null {
    const want = (a: Uint8Array, error: boolean) =>
      inp.family === 4 ? this.map.to6(a) : this.map.to4(a, error);
    const inErr = isIcmp(inp) && whole(inp) && isError(inp);
    const o = outs[0];
    if (!same(want(inp.src, inErr), o.src)) return `source ${hex(inp.src)} became ${hex(o.src)}`;
    if (!same(want(inp.dst, false), o.dst)) return `destination ${hex(inp.dst)} became ${hex(o.dst)}`;
    if (o.hop !== inp.hop - 1) return `hop limit ${inp.hop} became ${o.hop}`;
    const proto = inp.proto === ICMP ? ICMP6 : inp.proto === ICMP6 ? ICMP : inp.proto;
    for (const x of outs) {
      if (x.proto !== proto) return `protocol ${inp.proto} became ${x.proto}`;
      if (!same(x.src, o.src) || !same(x.dst, o.dst)) return 'fragments with different addresses';
    }
    // An input fragment: one output fragment with the same place in the datagram.
    // An input fragment: output fragments (more than one when it was too big for the next
    // hop) covering the same place in the datagram.
    if (!whole(inp)) {
      const f = inp.frag!;
      const part = reassemble(outs, f.offset, f.more);
      if (typeof part === 'string') return part;
      if (outs.some((x) => (x.frag!.id & 0xffff) !== (f.id & 0xffff))) return `fragment ID ${f.id} not kept`;
      if (part.length !== inp.l4len) return `fragment of ${inp.l4len} bytes became ${part.length}`;
      const p4 = inp.proto === ICMP6 ? ICMP : inp.proto;
      const d =
        f.offset === 0
          ? sameTransport(p4, inp.b, inp.l4, part, 0, inp.l4len)
          : eqBytes(inp.b, inp.l4, part, 0, inp.l4len)
            ? -1
            : 0;
      return d >= 0 ? `fragment payload differs at byte ${f.offset + d}` : null;
    }
    // A whole input: the outputs, reassembled, are its transport segment.
    const seg = reassemble(outs);
    if (typeof seg === 'string') return seg;
    if (seg.length !== inp.l4len && !inErr) return `transport of ${inp.l4len} bytes became ${seg.length}`;
    if (inErr) return this.translatedError(inp, o, seg);
    const p4 = inp.proto === ICMP6 ? ICMP : inp.proto;
    const d = sameTransport(p4, inp.b, inp.l4, seg, 0, seg.length);
    if (d >= 0) return `transport byte ${d} differs (${inp.b[inp.l4 + d]} -> ${seg[d]})`;
    if (isIcmp(inp)) {
      const t = inp.b[inp.l4];
      const expect = inp.family === 4 ? (t === 8 ? 128 : 129) : t === 128 ? 8 : 0;
      if (seg[0] !== expect || seg[1] !== 0) return `ICMP ${t} became ${seg[0]}/${seg[1]}`;
    }
    const okIn = transportOk(inp, inp.b, inp.l4, inp.l4len);
    const zeroUdp4 = inp.family === 4 && inp.proto === UDP && get16(inp.b, inp.l4 + 6) === 0;
    const okOut = transportOk(o, seg, 0, seg.length);
    if (okIn && !okOut) return `${protoName(inp.proto)} checksum right in the input, wrong in the output`;
    if (!okIn && okOut && !zeroUdp4)
      return `${protoName(inp.proto)} checksum wrong in the input, right in the output`;
    if (zeroUdp4 && !okOut) return 'UDP zero checksum not amended';
    return null;
  }

  /** A translated ICMP error: its inner packet is the quoted one, translated, with no extra bytes. */
  private translatedError(inp: Ip, o: Ip, seg: Uint8Array): string | null {
    if (seg.length < 8 || !(o.family === 4 ? [3, 11, 12].includes(seg[0]) : seg[0] >= 1 && seg[0] <= 4))
      return `ICMP error became type ${seg[0]}`;
    const qi = parse(inp.b, inp.l4 + 8, inp.l4len - 8, true);
    const qo = parse(seg, 8, seg.length - 8, true);
    if (typeof qi === 'string') return null; // the input quoted something odd: nothing more to compare
    if (typeof qo === 'string') return `inner packet of the translated error: ${qo}`;
    if (qo.family !== o.family) return 'inner packet of the other family';
    if (same(inp.dst, qi.src) && !same(o.dst, qo.src))
      return "the error's destination is not its inner packet's source";
    const innerWant = (a: Uint8Array) => (inp.family === 4 ? this.map.to6(a) : this.map.to4(a));
    if (!same(innerWant(qi.src), qo.src) || !same(innerWant(qi.dst), qo.dst))
      return 'inner addresses not translated';
    if (!whole(qi) || qi.l4len <= 0) return null;
    const n = Math.min(qi.l4len, qo.l4len);
    if (qo.l4len > qi.l4len)
      return `inner transport of ${qi.l4len} bytes became ${qo.l4len}: bytes from elsewhere`;
    const p4 = qi.proto === ICMP6 ? ICMP : qi.proto;
    const d = sameTransport(p4, qi.b, qi.l4, qo.b, qo.l4, n);
    return d >= 0 ? `inner transport byte ${d} differs` : null;
  }
}

function protoName(p: number): string {
  return p === TCP
    ? 'TCP'
    : p === UDP
      ? 'UDP'
      : p === ICMP
        ? 'ICMP'
        : p === ICMP6
          ? 'ICMPv6'
          : `protocol ${p}`;
}

/**
 * The bytes carried by packets: one whole packet, or fragments of one datagram covering
 * [start, ...) with the last one's More flag `more`.
 */
function reassemble(outs: Ip[], start = 0, more = false): Uint8Array | string {
  if (start === 0 && !more && outs.length === 1 && whole(outs[0]))
    return outs[0].b.subarray(outs[0].l4, outs[0].l4 + outs[0].l4len);
  const frags = outs.map((x) => {
    if (!x.frag) return null;
    return x;
  });
  if (frags.some((x) => x === null)) return 'fragments mixed with whole packets';
  const sorted = (frags as Ip[]).slice().sort((a, b) => a.frag!.offset - b.frag!.offset);
  const id = sorted[0].frag!.id;
  let at = start;
  const parts: Uint8Array[] = [];
  for (const [i, x] of sorted.entries()) {
    if (x.frag!.id !== id) return 'fragments with different IDs';
    if (x.frag!.offset !== at) return `fragment at ${x.frag!.offset}, expected ${at}`;
    if (x.frag!.more !== (i < sorted.length - 1 || more)) return 'More Fragments flag wrong';
    if (i < sorted.length - 1 && x.l4len % 8 !== 0)
      return 'a non-last fragment whose length is not a multiple of 8';
    parts.push(x.b.subarray(x.l4, x.l4 + x.l4len));
    at += x.l4len;
  }
  return Buffer.concat(parts);
}
