// Minimal classic pcap (libpcap 2.4) reading and writing, for offline translation and tests.
// Reads either byte order, micro- or nanosecond timestamps, and the link types below; writes
// LINKTYPE_RAW with microsecond timestamps.

export const LINKTYPE = {
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
// Linux cooked captures (SLL, SLL2) are what `tcpdump -i any` writes: the most common capture.
const SUPPORTED: number[] = [
  LINKTYPE.ETHERNET,
  LINKTYPE.RAW,
  LINKTYPE.LINUX_SLL,
  LINKTYPE.IPV4,
  LINKTYPE.IPV6,
  LINKTYPE.LINUX_SLL2,
];

export interface PcapPacket {
  /** Seconds since the epoch (fractional). */
  time: number;
  /** The IP packet (link header removed); a view into the file's bytes. */
  data: Uint8Array;
  /** Length on the wire, when the capture truncated the packet (snaplen). */
  origLen: number;
  /** Captured with fewer bytes than the packet had (the capture's snap length). */
  cut?: boolean;
}

export class PcapError extends Error {}

/**
 * Parses a pcap file. Ethernet frames are reduced to their IP payload (802.1Q/802.1ad tags
 * skipped); frames that carry something else come back with an empty `data`.
 */
export function readPcap(file: Uint8Array): { linktype: number; packets: PcapPacket[]; cutShort?: string } {
  if (file.length < 24) throw new PcapError('not a pcap file: shorter than its 24-byte header');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicLE = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = dv.getUint32(0, false);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) {
      throw new PcapError(
        'not a pcap file (bad magic number; pcapng is not supported: convert with `editcap -F pcap`)',
      );
    }
    le = false;
    nano = magicBE === 0xa1b23c4d;
  }
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  if (!SUPPORTED.includes(linktype)) {
    throw new PcapError(
      `unsupported link type ${linktype} (supported: 1 Ethernet, 101 raw IP, 113/276 Linux cooked as from tcpdump -i any, 228 IPv4, 229 IPv6)`,
    );
  }
  const packets: PcapPacket[] = [];
  let o = 24;
  while (o + 16 <= file.length) {
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const orig = dv.getUint32(o + 12, le);
    // A capture cut short (tcpdump killed, disk full) ends in half a record: keep what is whole
    // and say so, as tcpdump -r and Wireshark do, instead of refusing the whole file.
    if (o + 16 + incl > file.length) {
      if (incl > 0x40000)
        throw new PcapError(`record at byte ${o} claims ${incl} bytes: not a sane pcap record`);
      return { linktype, packets, cutShort: `the last record (at byte ${o}) is cut short; it was left out` };
    }
    let data = file.subarray(o + 16, o + 16 + incl);
    if (linktype === LINKTYPE.ETHERNET) data = ethernetPayload(data);
    else if (linktype === LINKTYPE.LINUX_SLL) data = cookedPayload(data, 14, 16);
    else if (linktype === LINKTYPE.LINUX_SLL2) data = cookedPayload(data, 0, 20);
    packets.push({ time: sec + frac / (nano ? 1e9 : 1e6), data, origLen: orig, cut: incl < orig });
    o += 16 + incl;
  }
  if (o !== file.length)
    return {
      linktype,
      packets,
      cutShort: `the file ends in half a record header (at byte ${o}); it was left out`,
    };
  return { linktype, packets };
}

/** Linux cooked capture: the EtherType at `typeAt`, the IP packet after `hdr` bytes. */
function cookedPayload(f: Uint8Array, typeAt: number, hdr: number): Uint8Array {
  if (f.length < hdr) return f.subarray(0, 0);
  const type = (f[typeAt] << 8) | f[typeAt + 1];
  return type === 0x0800 || type === 0x86dd ? f.subarray(hdr) : f.subarray(0, 0);
}

function ethernetPayload(f: Uint8Array): Uint8Array {
  let p = 12;
  for (;;) {
    if (p + 2 > f.length) return f.subarray(0, 0);
    const type = (f[p] << 8) | f[p + 1];
    if (type === 0x8100 || type === 0x88a8) {
      p += 4;
      continue;
    }
    if (type === 0x0800 || type === 0x86dd) return f.subarray(p + 2);
    return f.subarray(0, 0);
  }
}

/** Builds a LINKTYPE_RAW pcap file (little-endian, microseconds) from raw IP packets. */
export function writePcap(packets: { data: Uint8Array; time?: number }[]): Uint8Array {
  let size = 24;
  for (const p of packets) size += 16 + p.data.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, LINKTYPE.RAW, true);
  let o = 24;
  for (const p of packets) {
    const t = p.time ?? 0;
    const sec = Math.floor(t);
    dv.setUint32(o, sec, true);
    dv.setUint32(o + 4, Math.round((t - sec) * 1e6) % 1e6, true);
    dv.setUint32(o + 8, p.data.length, true);
    dv.setUint32(o + 12, p.data.length, true);
    out.set(p.data, o + 16);
    o += 16 + p.data.length;
  }
  return out;
}
