// Structure-aware packets for the translator fuzz stage: valid packets of every kind a CLAT's
// translator handles (TCP, UDP, UDP with a zero checksum, ICMP echo, ICMP errors quoting an
// inner packet, IPv4 options and fragments, IPv6 extension headers and fragments, packets that
// need an ICMP error or fragmentation), then, for part of them, mutations of exactly the fields
// a translator parses (lengths, header fields, options, extension headers, fragment fields, the
// inner packet of an error). Everything comes from one Prng, so a seed reproduces a packet.
import { Prng, addrSum4, addrSum6, complement, put16, put32, sum, v4, v6 } from './inet.js';

/** The translator configurations the fuzz stage runs (a CLAT's, and one with other sizes). */
export const FUZZ_CONFIGS = [
  {
    pool6: '2001:db8:64::/96',
    eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
    rfc6791v4: '203.0.113.99',
    icmpSourceV4: '192.0.0.2',
    icmpSourceV6: '2001:db8:1:2::1',
    icmpErrorRate: 0,
  },
  {
    pool6: '2001:db8:100::/64',
    eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
    rfc6791v4: '203.0.113.99',
    icmpSourceV4: '192.0.0.2',
    icmpSourceV6: '2001:db8:1:2::1',
    lowestIpv6Mtu: 1400,
    ipv4Mtu: 1300,
    ipv6Mtu: 1400,
    amendUdpChecksumZero: true,
    icmpErrorRate: 0,
  },
] as const;
export type FuzzConfig = (typeof FUZZ_CONFIGS)[number];

/** The CLAT's own IPv4 and IPv6 address (the EAM entry) in every configuration. */
export const CLAT4 = v4('192.0.0.1');
export const CLAT6 = v6('2001:db8:1:2::c1a7');
/** IPv4 hosts "on the Internet" (documentation ranges), reached through pool6. */
const REMOTE4 = ['203.0.113.10', '198.51.100.7', '203.0.113.200', '192.0.2.33'].map(v4);
/** IPv6 routers that send errors (not in pool6: their source becomes rfc6791v4). */
const ROUTERS6 = ['2001:db8:1::1', '2001:db8:ffff::9'].map(v6);

/** RFC 6052 embedding of an IPv4 address into the config's pool6 (/96 or /64 only here). */
export function embed(cfg: FuzzConfig, a: number): Uint8Array {
  const [text, len] = cfg.pool6.split('/');
  const out = v6(text);
  if (len === '96') put32(out, 12, a);
  else {
    out[8] = 0; // u-octet
    out[9] = a >>> 24;
    out[10] = (a >>> 16) & 0xff;
    out[11] = (a >>> 8) & 0xff;
    out[12] = a & 0xff;
  }
  return out;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;

/** Writes a transport segment at b[o..] and returns its length; checksum filled in by the caller. */
function segment(
  r: Prng,
  b: Uint8Array,
  o: number,
  proto: number,
  v6family: boolean,
  payload: number,
): number {
  if (proto === TCP) {
    const opts = r.chance(0.3) ? 4 * (1 + r.int(10)) : 0;
    r.fill(b, o, 20 + opts);
    b[o + 12] = ((20 + opts) / 4) << 4;
    b[o + 13] = r.pick([0x02, 0x10, 0x18, 0x11, 0x04, 0x12]);
    r.fill(b, o + 20 + opts, payload);
    return 20 + opts + payload;
  }
  if (proto === UDP) {
    r.fill(b, o, 8 + payload);
    put16(b, o + 4, 8 + payload);
    return 8 + payload;
  }
  // ICMP / ICMPv6 echo request or reply
  r.fill(b, o, 8 + payload);
  b[o] = v6family ? r.pick([128, 129]) : r.pick([8, 0]);
  b[o + 1] = 0;
  return 8 + payload;
}

/** Fills in the transport checksum of a whole (unfragmented) segment. */
function checksum(b: Uint8Array, ipOff: number, l4: number, len: number, proto: number, family: 4 | 6): void {
  const at = proto === TCP ? 16 : proto === UDP ? 6 : 2;
  put16(b, l4 + at, 0);
  let init = 0;
  if (family === 4 && proto !== ICMP) init = addrSum4(b, ipOff + 12) + proto + len;
  if (family === 6) init = addrSum6(b, ipOff + 8) + proto + len;
  let c = complement(sum(b, l4, len, init));
  if (proto === UDP && c === 0) c = 0xffff;
  put16(b, l4 + at, c);
}

function ipv4Header(
  b: Uint8Array,
  o: number,
  ihl: number,
  total: number,
  proto: number,
  src: number,
  dst: number,
  r: Prng,
): void {
  b[o] = 0x40 | (ihl / 4);
  b[o + 1] = r.chance(0.2) ? r.int(256) : 0;
  put16(b, o + 2, total);
  put16(b, o + 4, r.int(0x10000));
  put16(b, o + 6, 0x4000); // DF by default; callers change it
  b[o + 8] = 2 + r.int(63);
  b[o + 9] = proto;
  put16(b, o + 10, 0);
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  // Options: NOPs, a record-route, an unknown option, then end-of-list padding.
  for (let i = 20; i < ihl; i++) b[o + i] = 1;
  if (ihl >= 28 && r.chance(0.5)) {
    b[o + 20] = 7;
    b[o + 21] = 7;
    b[o + 22] = 4;
    b[o + 27] = 0;
  }
  if (ihl > 20) b[o + ihl - 1] = 0;
}

function ipv4HeaderChecksum(b: Uint8Array, o: number): void {
  const ihl = (b[o] & 0xf) * 4;
  put16(b, o + 10, 0);
  put16(b, o + 10, complement(sum(b, o, ihl)));
}

function ipv6Header(
  b: Uint8Array,
  o: number,
  plen: number,
  next: number,
  src: Uint8Array,
  dst: Uint8Array,
  r: Prng,
): void {
  b[o] = 0x60 | (r.chance(0.2) ? r.int(16) : 0);
  b[o + 1] = r.chance(0.2) ? r.int(256) : 0;
  put16(b, o + 2, r.chance(0.2) ? r.int(0x10000) : 0);
  put16(b, o + 4, plen);
  b[o + 6] = next;
  b[o + 7] = 2 + r.int(63);
  b.set(src, o + 8);
  b.set(dst, o + 24);
}

function payloadSize(r: Prng, big: number): number {
  const k = r.int(10);
  if (k < 5) return r.int(64);
  if (k < 8) return r.int(1200);
  return r.int(big);
}

/** A whole IPv4 packet from src to dst at b[o..]; returns its length. */
function ipv4Packet(
  r: Prng,
  b: Uint8Array,
  o: number,
  src: number,
  dst: number,
  proto: number,
  big: number,
): number {
  const ihl = r.chance(0.15) ? 20 + 4 * (1 + r.int(10)) : 20;
  const l4 = o + ihl;
  const len = segment(r, b, l4, proto, false, payloadSize(r, big));
  ipv4Header(b, o, ihl, ihl + len, proto, src, dst, r);
  checksum(b, o, l4, len, proto, 4);
  if (proto === UDP && r.chance(0.05)) put16(b, l4 + 6, 0); // zero UDP checksum (RFC 7915 §4.5)
  ipv4HeaderChecksum(b, o);
  return ihl + len;
}

/** A whole IPv6 packet, optionally with extension headers before the transport; returns its length. */
function ipv6Packet(
  r: Prng,
  b: Uint8Array,
  o: number,
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  big: number,
  exts: boolean,
): number {
  let p = o + 40;
  const chain: number[] = [];
  if (exts && r.chance(0.3)) {
    for (let n = 1 + r.int(3); n > 0; n--) chain.push(r.pick([0, 60, 43]));
    if (chain.lastIndexOf(0) > 0) chain.splice(0, chain.length, ...chain.filter((x) => x !== 0)); // HBH first only
  }
  const starts: number[] = [];
  for (const t of chain) {
    starts.push(p);
    const elen = 8 * (1 + (r.chance(0.3) ? r.int(3) : 0));
    b.fill(0, p, p + elen);
    b[p + 1] = elen / 8 - 1;
    if (t === 43) {
      b[p + 2] = r.pick([0, 4]); // routing type
      b[p + 3] = 0; // segments left: 0, so it is processed as done
    } else {
      b[p + 2] = 1; // PadN covering the rest
      b[p + 3] = elen - 4;
    }
    p += elen;
  }
  const len = segment(r, b, p, proto, true, payloadSize(r, big));
  for (let i = 0; i < chain.length; i++) b[starts[i]] = i + 1 < chain.length ? chain[i + 1] : proto;
  ipv6Header(b, o, p - o - 40 + len, chain.length ? chain[0] : proto, src, dst, r);
  // Transport checksum with the final destination (no routing header with segments left).
  const at = proto === TCP ? 16 : proto === UDP ? 6 : 2;
  put16(b, p + at, 0);
  let c = complement(sum(b, p, len, addrSum6(b, o + 8) + proto + len));
  if (proto === UDP && c === 0) c = 0xffff;
  put16(b, p + at, c);
  return p - o + len;
}

/** Splits the IPv6 packet at b[o..o+len) (no ext headers) into a fragment: keeps [start, start+n) of its payload. */
function ipv6Fragment(r: Prng, b: Uint8Array, o: number, len: number): number {
  const payload = len - 40;
  const next = b[o + 6];
  const start = payload > 16 && r.chance(0.5) ? 8 * r.int(Math.floor(payload / 8)) : 0;
  const rest = payload - start;
  const n = rest > 16 && r.chance(0.6) ? 8 * (1 + r.int(Math.floor(rest / 8))) : rest;
  const more = start + n < payload;
  b.copyWithin(o + 48, o + 40 + start, o + 40 + start + Math.min(n, rest));
  const flen = Math.min(n, rest);
  b[o + 40] = next;
  b[o + 41] = 0;
  put16(b, o + 42, start | (more ? 1 : 0));
  put32(b, o + 44, r.u32());
  b[o + 6] = 44;
  put16(b, o + 4, 8 + flen);
  return 48 + flen;
}

/** Cuts the IPv4 packet at b[o..o+len) into one fragment of its payload. */
function ipv4Fragment(r: Prng, b: Uint8Array, o: number, len: number): number {
  const ihl = (b[o] & 0xf) * 4;
  const payload = len - ihl;
  const start = payload > 16 && r.chance(0.5) ? 8 * r.int(Math.floor(payload / 8)) : 0;
  const rest = payload - start;
  const n = rest > 16 && r.chance(0.6) ? 8 * (1 + r.int(Math.floor(rest / 8))) : rest;
  const more = start + n < payload;
  b.copyWithin(o + ihl, o + ihl + start, o + ihl + start + n);
  put16(b, o + 2, ihl + n);
  put16(b, o + 6, (more ? 0x2000 : 0) | (start / 8));
  ipv4HeaderChecksum(b, o);
  return ihl + n;
}

export type Family = 4 | 6;

/**
 * One valid packet at b[o..]: the kind is chosen by r. Returns its length. IPv4 packets go
 * from the CLAT to a remote host (4->6), IPv6 packets from a remote host to the CLAT (6->4),
 * as on a laptop; ICMP errors come from the other side and quote a packet of ours.
 */
export function validPacket(r: Prng, b: Uint8Array, o: number, cfg: FuzzConfig): number {
  const remote = r.pick(REMOTE4);
  const ipv4Mtu = 'ipv4Mtu' in cfg ? cfg.ipv4Mtu : 1500;
  const big = r.chance(0.05) ? 9000 : ipv4Mtu + 200;
  const kind = r.int(14);
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      const len = ipv4Packet(r, b, o, CLAT4, remote, r.pick([TCP, UDP, ICMP]), big);
      if (r.chance(0.3)) put16(b, o + 6, 0); // DF clear: may be fragmented by the translator
      if (r.chance(0.05)) b[o + 8] = r.int(2); // TTL 0 or 1: Time Exceeded
      ipv4HeaderChecksum(b, o);
      return len;
    }
    case 3: {
      // An IPv4 fragment (ours).
      const len = ipv4Packet(r, b, o, CLAT4, remote, r.pick([TCP, UDP, ICMP]), big);
      return ipv4Fragment(r, b, o, len);
    }
    case 4:
    case 5: {
      // An ICMPv4 error we send about a packet the remote host sent us (inner: remote -> CLAT).
      const inner = o + 28;
      let ilen = ipv4Packet(r, b, inner, remote, CLAT4, r.pick([TCP, UDP, ICMP]), 1500);
      ilen = Math.min(ilen, r.chance(0.5) ? 28 + r.int(40) : 548);
      const [type, code] = r.pick([
        [3, 3],
        [3, 1],
        [3, 4],
        [3, 13],
        [3, 2],
        [11, 0],
        [12, 0],
      ] as const);
      b[inner - 8] = type;
      b[inner - 7] = code;
      put16(b, inner - 6, 0);
      put32(
        b,
        inner - 4,
        type === 3 && code === 4 ? r.pick([576, 1280, 1400, 1500, 0]) : type === 12 ? r.int(40) << 24 : 0,
      );
      put16(b, inner - 6, complement(sum(b, inner - 8, 8 + ilen)));
      ipv4Header(b, o, 20, 28 + ilen, ICMP, CLAT4, remote, r);
      ipv4HeaderChecksum(b, o);
      return 28 + ilen;
    }
    case 6:
    case 7:
    case 8: {
      const len = ipv6Packet(r, b, o, embed(cfg, remote), CLAT6, r.pick([TCP, UDP, ICMP6]), big, true);
      if (r.chance(0.05)) b[o + 7] = r.int(2); // hop limit 0 or 1
      return len;
    }
    case 9: {
      const len = ipv6Packet(r, b, o, embed(cfg, remote), CLAT6, r.pick([TCP, UDP, ICMP6]), big, false);
      return ipv6Fragment(r, b, o, len);
    }
    case 10:
    case 11:
    case 12: {
      // An ICMPv6 error to the CLAT about a packet it sent (inner: CLAT -> remote), from the
      // remote host itself or from a router on the way.
      const from = r.chance(0.5) ? embed(cfg, remote) : r.pick(ROUTERS6);
      const inner = o + 48;
      let ilen = ipv6Packet(r, b, inner, CLAT6, embed(cfg, remote), r.pick([TCP, UDP, ICMP6]), 1500, true);
      ilen = Math.min(ilen, r.chance(0.5) ? 48 + r.int(40) : 1184);
      const [type, code] = r.pick([
        [1, 0],
        [1, 1],
        [1, 3],
        [1, 4],
        [2, 0],
        [3, 0],
        [3, 1],
        [4, 0],
        [4, 1],
      ] as const);
      b[inner - 8] = type;
      b[inner - 7] = code;
      put16(b, inner - 6, 0);
      put32(b, inner - 4, type === 2 ? r.pick([1280, 1400, 1500, 9000, 100]) : type === 4 ? r.int(48) : 0);
      ipv6Header(b, o, 8 + ilen, ICMP6, from, CLAT6, r);
      put16(b, inner - 6, complement(sum(b, inner - 8, 8 + ilen, addrSum6(b, o + 8) + ICMP6 + 8 + ilen)));
      return 48 + ilen;
    }
    default: {
      // Something the translator must drop: a protocol it cannot translate, or an address it
      // has no mapping for.
      if (r.chance(0.5)) {
        const len = ipv4Packet(r, b, o, r.pick([CLAT4, v4('10.1.2.3')]), remote, r.pick([TCP, 253, 2]), 300);
        return len;
      }
      return ipv6Packet(
        r,
        b,
        o,
        r.pick(ROUTERS6),
        r.pick([CLAT6, ROUTERS6[0]]),
        r.pick([UDP, ICMP6]),
        300,
        true,
      );
    }
  }
}

/** Mutates the packet at b[o..o+len) in place (may change its length); returns the new length. */
export function mutate(r: Prng, b: Uint8Array, o: number, len: number, max: number): number {
  const family = b[o] >> 4;
  const hdr = family === 4 ? Math.max(20, (b[o] & 0xf) * 4) : 40;
  for (let n = 1 + r.int(3); n > 0; n--) {
    switch (r.int(10)) {
      case 0: // lengths: IPv4 total length / IPv6 payload length, near the truth or anywhere
        if (family === 4) put16(b, o + 2, r.chance(0.5) ? len + r.int(17) - 8 : r.int(0x10000));
        else put16(b, o + 4, r.chance(0.5) ? len - 40 + r.int(17) - 8 : r.int(0x10000));
        break;
      case 1: // header fields: any byte of the IP header
        b[o + r.int(Math.min(hdr, len))] ^= 1 << r.int(8);
        break;
      case 2: // IHL / version nibble
        if (family === 4) b[o] = (b[o] & 0xf0) | r.int(16);
        else b[o] = (r.int(16) << 4) | (b[o] & 0xf);
        break;
      case 3: // fragment fields: offset, MF, DF / the fragment header's offset and M
        if (family === 4) put16(b, o + 6, r.int(0x10000));
        else if (b[o + 6] === 44 && len >= 48) put16(b, o + 42, r.int(0x10000));
        else b[o + 6] = r.pick([44, 0, 43, 60, 59, 51, 50]); // a next header the packet does not have
        break;
      case 4: // the transport / extension header bytes right after the IP header
        if (len > hdr) b[o + hdr + r.int(Math.min(16, len - hdr))] = r.int(256);
        break;
      case 5: // truncate
        len = Math.max(1, len - 1 - r.int(Math.min(len, 64)));
        break;
      case 6: // extend with garbage
        {
          const add = Math.min(r.int(64) + 1, max - len);
          r.fill(b, o + len, add);
          len += add;
        }
        break;
      case 7: // the inner packet of an ICMP error (starts 8 bytes after the outer header)
        if (len > hdr + 8 + 10) b[o + hdr + 8 + r.int(Math.min(48, len - hdr - 8))] ^= 1 << r.int(8);
        break;
      case 8: // IPv4 options / extension header length byte
        if (family === 4 && hdr > 20) b[o + 20 + r.int(hdr - 20)] = r.int(256);
        else if (family === 6 && len > 41) b[o + 41] = r.int(256);
        break;
      default: // TTL / hop limit, protocol / next header
        if (family === 4) b[o + (r.chance(0.5) ? 8 : 9)] = r.int(256);
        else b[o + (r.chance(0.5) ? 7 : 6)] = r.int(256);
    }
  }
  // Half the time the IPv4 header checksum is made right again, so mutations reach past it.
  if (family === 4 && len >= 20 && (b[o] & 0xf) >= 5 && (b[o] & 0xf) * 4 <= len && r.chance(0.5))
    ipv4HeaderChecksum(b, o);
  return len;
}
