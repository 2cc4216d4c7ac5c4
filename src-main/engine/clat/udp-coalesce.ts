// UDP coalescing on the way back into the kernel ("GRO in userspace", as wireguard-go does for
// its TUN): consecutive translated IPv6 UDP datagrams of one flow, all of one size (the last may
// be shorter), become one UDP_L4 GSO super-packet. The kernel then forwards one packet instead
// of up to 64 and segments it only at the far end, so an app sending small datagrams one by one
// costs one kernel traversal per batch rather than per datagram.
//
// Only datagrams whose checksum is still partial (VIRTIO_NET_HDR_F_NEEDS_CSUM: made by this
// host's stack) are merged: the merged packet's checksum is partial again and the kernel
// completes each segment's, so nothing that arrived with a wrong checksum is ever made right.
import { GsoType, VnetFlag, VNET_HDR_LEN } from '../native/vnet.js';

/** Linux caps a UDP GSO packet at 64 segments (UDP_MAX_SEGMENTS in older kernels). */
const MAX_SEGMENTS = 64;
const MAX_PAYLOAD = 65535 - 8;
const GROUP_ROOM = VNET_HDR_LEN + 40 + 8 + MAX_PAYLOAD + 2;
const GROUPS = 4;

/** A byte loop: for the short copies here it beats set(subarray()), which allocates a view. */
function copy(from: Uint8Array, at: number, to: Uint8Array, dst: number, n: number): void {
  for (let i = 0; i < n; i++) to[dst + i] = from[at + i];
}

export type OutFn = (buf: Uint8Array, off: number, len: number) => void;

export class UdpCoalescer {
  readonly arena = new Uint8Array(GROUPS * GROUP_ROOM);
  private nextGroup = 0;
  /** The open group: its first packet (still in the ring) until a second one joins. */
  private firstBuf: Uint8Array | null = null;
  private firstOff = 0;
  private firstLen = 0;
  private count = 0;
  private seg = 0;
  /** Where the open group is being built in the arena (packet offset), and its length so far. */
  private gOff = -1;
  private gLen = 0;
  merged = 0;
  superPackets = 0;

  constructor(
    private readonly out: OutFn,
    /** Called before the arena is reused, so pending writes from it go out first. */
    private readonly flushWrites: () => void,
  ) {}

  /** Whether pkt (with its vnet header in front) may be merged at all. */
  static eligible(buf: Uint8Array, off: number, len: number): boolean {
    const h = off - VNET_HDR_LEN;
    return (
      len > 48 &&
      buf[off] >> 4 === 6 &&
      buf[off + 6] === 17 &&
      buf[h + 1] === GsoType.NONE &&
      (buf[h] & VnetFlag.NEEDS_CSUM) !== 0 &&
      ((buf[off + 4] << 8) | buf[off + 5]) + 40 === len
    );
  }

  /** Offers one packet; it is either merged or passed on (after the open group, keeping order). */
  push(buf: Uint8Array, off: number, len: number): void {
    if (!UdpCoalescer.eligible(buf, off, len)) {
      this.close();
      this.out(buf, off, len);
      return;
    }
    const seg = len - 48;
    if (this.count > 0 && this.joins(buf, off, seg)) {
      this.append(buf, off, seg);
      return;
    }
    this.close();
    this.firstBuf = buf;
    this.firstOff = off;
    this.firstLen = len;
    this.count = 1;
    this.seg = seg;
    this.gOff = -1;
  }

  private joins(buf: Uint8Array, off: number, seg: number): boolean {
    if (this.count >= MAX_SEGMENTS) return false;
    // After a shorter segment nothing may follow; a longer one cannot join at all.
    if (seg > this.seg) return false;
    const lastLen = this.gOff < 0 ? this.firstLen - 48 : this.lastSeg;
    if (lastLen < this.seg) return false;
    if (this.totalPayload() + seg > MAX_PAYLOAD - 40) return false;
    const f = this.gOff < 0 ? this.firstBuf! : this.arena;
    const fo = this.gOff < 0 ? this.firstOff : this.gOff;
    // Same version/class/flow label (0..3), next header and hop limit (6, 7), addresses (8..39),
    // and ports (40..43).
    for (let i = 0; i < 4; i++) if (f[fo + i] !== buf[off + i]) return false;
    if (f[fo + 7] !== buf[off + 7]) return false;
    for (let i = 8; i < 44; i++) if (f[fo + i] !== buf[off + i]) return false;
    return true;
  }

  private lastSeg = 0;

  private totalPayload(): number {
    return this.gOff < 0 ? this.firstLen - 48 : this.gLen - 48;
  }

  private append(buf: Uint8Array, off: number, seg: number): void {
    if (this.gOff < 0) {
      if (this.nextGroup === GROUPS) {
        this.flushWrites();
        this.nextGroup = 0;
      }
      this.gOff = this.nextGroup * GROUP_ROOM + VNET_HDR_LEN;
      this.nextGroup++;
      copy(this.firstBuf!, this.firstOff, this.arena, this.gOff, this.firstLen);
      this.gLen = this.firstLen;
      this.lastSeg = this.firstLen - 48;
    }
    copy(buf, off + 48, this.arena, this.gOff + this.gLen, seg);
    this.gLen += seg;
    this.lastSeg = seg;
    this.count++;
    this.merged++;
  }

  /** Ends the open group and passes it on. */
  close(): void {
    if (this.count === 0) return;
    if (this.gOff < 0) {
      this.out(this.firstBuf!, this.firstOff, this.firstLen);
    } else {
      const a = this.arena;
      const o = this.gOff;
      const plen = this.gLen - 40;
      a[o + 4] = plen >> 8;
      a[o + 5] = plen & 255;
      a[o + 44] = plen >> 8;
      a[o + 45] = plen & 255;
      // Partial checksum: the folded pseudo-header sum with the new length (RFC 8200 §8.1);
      // the kernel completes it per segment, adjusting for each segment's length.
      let s = plen + 17;
      for (let i = 8; i < 40; i += 2) s += (a[o + i] << 8) | a[o + i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      a[o + 46] = s >> 8;
      a[o + 47] = s & 255;
      const h = o - VNET_HDR_LEN;
      a[h] = VnetFlag.NEEDS_CSUM;
      a[h + 1] = GsoType.UDP_L4;
      a[h + 2] = 48; // hdr_len
      a[h + 3] = 0;
      a[h + 4] = this.seg & 255; // gso_size (little-endian)
      a[h + 5] = this.seg >> 8;
      a[h + 6] = 40; // csum_start
      a[h + 7] = 0;
      a[h + 8] = 6; // csum_offset
      a[h + 9] = 0;
      this.superPackets++;
      this.out(a, o, this.gLen);
    }
    this.count = 0;
    this.firstBuf = null;
    this.gOff = -1;
  }

  /** After a batch's writes went out, the arena may be reused from the start. */
  reset(): void {
    this.nextGroup = 0;
  }
}
