// virtio-net header helpers. With IFF_VNET_HDR every packet read from or written to the TUN fd
// is preceded by a struct virtio_net_hdr (10 bytes; 12 with num_buffers) that describes GSO
// super-packets and partial checksums. TunDevice keeps it directly in front of the packet, so
// every helper here takes the packet's offset and reads the header just before it.
// Layout (include/uapi/linux/virtio_net.h; little-endian, TunDevice sets TUNSETVNETLE):
//   0 flags u8 | 1 gso_type u8 | 2 hdr_len u16 | 4 gso_size u16 | 6 csum_start u16 | 8 csum_offset u16

export const VNET_HDR_LEN = 10;

export const VnetFlag = {
  /** csum_start/csum_offset say where the L4 checksum still has to be completed. */
  NEEDS_CSUM: 1,
  /** The checksum was verified already (receive side). */
  DATA_VALID: 2,
} as const;

export const GsoType = {
  NONE: 0,
  TCPV4: 1,
  /** Legacy UFO (IPv4 fragmentation offload); not produced by current kernels. */
  UDP: 3,
  TCPV6: 4,
  /** USO: UDP segmentation, both IPv4 and IPv6 (TUN_F_USO4/6). */
  UDP_L4: 5,
  /** Flag OR-ed into gso_type: TCP with ECN (CWR set in the first segment). */
  ECN: 0x80,
} as const;

export interface VnetHeader {
  flags: number;
  gsoType: number;
  /** Length of the L3+L4 headers (a hint to the kernel; for TUN counted from the IP header). */
  hdrLen: number;
  /** Payload bytes per segment when gsoType != NONE. */
  gsoSize: number;
  /** Offset from the IP header at which checksumming starts (the L4 header). */
  csumStart: number;
  /** Where in the L4 header the checksum field is, counted from csumStart (TCP 16, UDP 6). */
  csumOffset: number;
}

function u16(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8);
}
function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
}

/** Reads the header in front of the packet at `packetOffset`; pass `out` to avoid allocating. */
export function readVnet(buf: Uint8Array, packetOffset: number, out?: VnetHeader): VnetHeader {
  const h = packetOffset - VNET_HDR_LEN;
  const r = out ?? { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
  r.flags = buf[h];
  r.gsoType = buf[h + 1];
  r.hdrLen = u16(buf, h + 2);
  r.gsoSize = u16(buf, h + 4);
  r.csumStart = u16(buf, h + 6);
  r.csumOffset = u16(buf, h + 8);
  return r;
}

export function writeVnet(buf: Uint8Array, packetOffset: number, v: VnetHeader): void {
  const h = packetOffset - VNET_HDR_LEN;
  buf[h] = v.flags;
  buf[h + 1] = v.gsoType;
  put16(buf, h + 2, v.hdrLen);
  put16(buf, h + 4, v.gsoSize);
  put16(buf, h + 6, v.csumStart);
  put16(buf, h + 8, v.csumOffset);
}

/** A plain packet: no GSO, checksums complete. What to put in front of a packet we built. */
export function clearVnet(buf: Uint8Array, packetOffset: number): void {
  buf.fill(0, packetOffset - VNET_HDR_LEN, packetOffset);
}

/** gso_type without the ECN flag, read without allocating. */
export function vnetGsoType(buf: Uint8Array, packetOffset: number): number {
  return buf[packetOffset - VNET_HDR_LEN + 1] & ~GsoType.ECN;
}

export function vnetGsoSize(buf: Uint8Array, packetOffset: number): number {
  return u16(buf, packetOffset - VNET_HDR_LEN + 4);
}

/**
 * Moves the header from in front of `from` to in front of `to` (the packet's new start after the
 * translator grew or shrank its IP header in the headroom) and shifts hdr_len and csum_start by
 * `l3Delta`, the change in IP header length (IPv4 -> IPv6: +20, +28 with a fragment header).
 * gso_type (TCPV4 <-> TCPV6) is the translator's to set, since only it knows the new family.
 * The two places overlap the IP headers: call it before writing a longer new header (which
 * covers the old vnet header) and after reading a longer old one (which the new vnet header
 * covers), or save the 10 bytes first and pass from === to (docs/native.md).
 */
export function relocateVnet(buf: Uint8Array, from: number, to: number, l3Delta: number): void {
  if (from !== to) buf.copyWithin(to - VNET_HDR_LEN, from - VNET_HDR_LEN, from);
  const h = to - VNET_HDR_LEN;
  if (buf[h] & VnetFlag.NEEDS_CSUM) put16(buf, h + 6, u16(buf, h + 6) + l3Delta);
  const hdrLen = u16(buf, h + 2);
  if (hdrLen !== 0) put16(buf, h + 2, hdrLen + l3Delta);
}
