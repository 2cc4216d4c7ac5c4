// TunDevice: the engine's view of a TUN interface, platform-neutral. Linux is the only back end
// today (native/src/tun_linux.cc); macOS utun and Windows Wintun would implement the same native
// shape (docs/native.md), so nothing here mentions ioctls.
//
// Data path contract, designed for in-place translation (src-main/engine/siit):
// - `device.buffer` is one reusable ring of slots. A slot is [headroom][vnet hdr][packet]; the
//   packet starts at a fixed offset in its slot with at least `headroom` (64+) free bytes in front
//   of the vnet header, so an IPv4 packet can become IPv6 (+20, +28 with a fragment header) by
//   writing the new header in front of it and moving the 10-byte vnet header (vnet.ts).
// - onPackets delivers a batch: `offsets[i]`/`lengths[i]` for i < count locate packet i in
//   `buffer`. The batch and its arrays are reused: they are valid until the callback returns,
//   unless the callback calls `batch.hold()` and later `release()` on what that returns.
// - writeBatch takes the same shape (buffer, offsets, lengths, count), so a translated packet is
//   written from where it sits. `offsets` may be edited in place before writing.
import {
  loadNative,
  nativeFeature,
  netnsPath,
  isSysError,
  type NativeTun,
  type SysError,
  type TunStats,
} from './native.js';
import { VNET_HDR_LEN } from './vnet.js';

export type { SysError, TunStats } from './native.js';

export const OFFLOAD_NAMES = ['csum', 'tso4', 'tso6', 'tsoEcn', 'uso4', 'uso6'] as const;
export type OffloadName = (typeof OFFLOAD_NAMES)[number];
export type OffloadSet = Record<OffloadName, boolean>;

export interface TunOpenOptions {
  /** Interface name; empty or with `%d` lets the kernel pick. An existing device is attached to. */
  name?: string;
  /** IFF_VNET_HDR: every packet carries a virtio-net header (needed for offloads). */
  vnetHdr?: boolean;
  /**
   * TUNSETOFFLOAD wishes; `'all'` asks for every one. The kernel may refuse some (USO needs
   * Linux 6.2); `device.offloads` says what was accepted. USO4 and USO6 only come as a pair,
   * and any of them brings `csum` along (the kernel ignores the others without it).
   * Implies vnetHdr.
   */
  offloads?: readonly OffloadName[] | 'all';
  /** IFF_MULTI_QUEUE: open again with the same name to attach another queue. */
  multiQueue?: boolean;
  /** Create/attach inside this network namespace (`ip netns` name or path); the process stays put. */
  netns?: string;
  mtu?: number;
  /** Bring the link up (true) or down (false) after opening; left alone when undefined. */
  up?: boolean;
  /** Packets per onPackets call at most (default 64). */
  batchSize?: number;
  /** Ring slots (default 128). Held batches keep slots; with none free, reading stops. */
  slots?: number;
  /** Free bytes wanted in front of each packet's vnet header (default 64). */
  headroom?: number;
  /** Largest packet a slot holds (default 65600: a 64 KiB GSO super-packet). */
  maxPacket?: number;
  /** Bytes of packets kept for retry after EAGAIN before writeBatch refuses more (default 8 MiB). */
  writeQueueBytes?: number;
  /**
   * TUNSETSNDBUF: bytes of written packets the kernel may hold before write() says EAGAIN
   * (kernel default: unlimited).
   */
  sndbuf?: number;
  /**
   * Read coalescing (interrupt moderation): when packets arrive less than this many microseconds
   * apart and a read empties the queue, the next read waits this long instead of waking per
   * packet, so a flood of small packets comes in batches (cheaper reads, mergeable writes). Sparse
   * traffic is never delayed: the first packet after a pause is read at once, and a batch with a
   * TCP segment in it is never held back (TCP has its own batching, and its ACK clock suffers).
   * 0 (default) = off.
   */
  rxCoalesceUs?: number;
  /**
   * Read each wake-up's packets with one io_uring_enter (a batch of nowait reads) instead of one
   * read() per packet: the TUN has no recvmmsg, and where system calls are dear (this VM under
   * load: ~1.8 us each) the reads are most of the data path's CPU. Where io_uring is refused
   * (old kernel, kernel.io_uring_disabled, seccomp) or fails, read() as before: see `rxUring`.
   */
  rxUring?: boolean;
  /**
   * Testing only: every Nth write fails with EAGAIN, since the Linux TUN driver practically never
   * says EAGAIN itself, and the retry queue must still be exercised.
   */
  faultEagainEvery?: number;
}

export interface PacketBatch {
  /** The device's whole ring; packets are views into it by offset. */
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  count: number;
  /**
   * Keep this batch's slots after the callback returns; call release() when done with them. Each
   * hold is released on its own; the slots go back after the last.
   */
  hold(): HeldBatch;
}

export interface HeldBatch {
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly count: number;
  release(): void;
}

export class TunDevice {
  readonly name: string;
  readonly ifindex: number;
  /** 10 with IFF_VNET_HDR, else 0: bytes of virtio-net header in front of every packet. */
  readonly vnetHdrLen: number;
  readonly offloads: Readonly<OffloadSet>;
  readonly multiQueue: boolean;
  readonly buffer: Uint8Array;
  /** Free bytes in every slot in front of the vnet header (or of the packet without one). */
  readonly headroom: number;
  readonly slotSize: number;
  readonly batchSize: number;
  /** Whether reads go through io_uring (TunOpenOptions.rxUring, and the kernel allowed it). */
  readonly rxUring: boolean;

  private readonly native: NativeTun;
  private readonly batch: PacketBatch;
  private packetCb: ((batch: PacketBatch) => void) | undefined;
  private drainCbs: (() => void)[] = [];
  private errorCbs: ((err: SysError) => void)[] = [];
  private scratch: Uint8Array | undefined;
  private readonly one = { off: new Uint32Array(1), len: new Uint32Array(1) };
  private isClosed = false;
  /** The holds of the batch being delivered (see PacketBatch.hold). */
  private heldNow: { slots: Uint32Array; refs: number } | undefined;

  static open(opts: TunOpenOptions = {}): TunDevice {
    return new TunDevice(opts);
  }

  private constructor(opts: TunOpenOptions) {
    const Tun = nativeFeature('Tun');
    // A back end without virtio-net headers (utun, Wintun) has no offload flags: every wish
    // is then refused and every offload reads false (docs/native.md).
    const flags: Partial<Record<OffloadName, number>> = loadNative().offloadFlags ?? {};
    const wanted = opts.offloads === 'all' ? OFFLOAD_NAMES : (opts.offloads ?? []);
    let mask = 0;
    for (const o of wanted) mask |= flags[o] ?? 0;
    this.native = new Tun({
      name: opts.name ?? '',
      vnetHdr: Boolean(opts.vnetHdr) || mask !== 0,
      vnetHdrSize: VNET_HDR_LEN,
      offloads: mask,
      multiQueue: Boolean(opts.multiQueue),
      netns: netnsPath(opts.netns),
      slots: opts.slots,
      batch: opts.batchSize,
      headroom: opts.headroom,
      maxPacket: opts.maxPacket,
      writeQueueBytes: opts.writeQueueBytes,
      sndbuf: opts.sndbuf,
      rxCoalesceUs: opts.rxCoalesceUs,
      rxUring: Boolean(opts.rxUring),
      faultEagainEvery: opts.faultEagainEvery,
      onPackets: (count) => this.deliver(count),
      onDrain: () => {
        // A copy: a listener may remove itself (or others) while being called.
        for (const cb of [...this.drainCbs]) cb();
      },
      onError: (err) => this.emitError(err),
    });
    const info = this.native.info();
    this.name = info.name;
    this.ifindex = info.ifindex;
    this.vnetHdrLen = info.vnetHdrLen;
    this.multiQueue = info.multiQueue;
    this.offloads = Object.fromEntries(
      OFFLOAD_NAMES.map((o) => [o, (info.offloads & (flags[o] ?? 0)) !== 0]),
    ) as OffloadSet;
    this.buffer = new Uint8Array(info.ring);
    this.headroom = info.packetOffset - info.vnetHdrLen;
    this.slotSize = info.slotSize;
    this.batchSize = info.batch;
    this.rxUring = info.rxUring === true;
    const offsets = new Uint32Array(info.desc, 0, info.batch);
    const lengths = new Uint32Array(info.desc, info.batch * 4, info.batch);
    const native = this.native;
    const buffer = this.buffer;
    this.batch = {
      buffer,
      offsets,
      lengths,
      count: 0,
      hold: (): HeldBatch => {
        // Every hold of one delivery shares the slots: they go back when the last is released,
        // so one consumer's release cannot hand slots another still reads to the next batch.
        const count = this.batch.count;
        let shared = this.heldNow;
        if (!shared) {
          native.hold();
          shared = { slots: offsets.slice(0, count), refs: 0 };
          this.heldNow = shared;
        }
        const s = shared;
        s.refs++;
        let released = false;
        return {
          buffer,
          offsets: offsets.slice(0, count),
          lengths: lengths.slice(0, count),
          count,
          release() {
            if (released) return;
            released = true;
            if (--s.refs === 0) native.release(s.slots, s.slots.length);
          },
        };
      },
    };
    try {
      if (opts.mtu !== undefined) this.setMtu(opts.mtu);
      if (opts.up !== undefined) this.setUp(opts.up);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private deliver(count: number): void {
    this.batch.count = count;
    this.heldNow = undefined;
    this.packetCb?.(this.batch);
    this.heldNow = undefined;
  }

  private emitError(err: SysError): void {
    if (this.errorCbs.length === 0) throw err;
    for (const cb of [...this.errorCbs]) cb(err);
  }

  /** Starts (or resumes) reading; `cb` gets one call per batch. Replaces an earlier callback. */
  onPackets(cb: (batch: PacketBatch) => void): void {
    this.packetCb = cb;
    this.native.start();
  }

  /**
   * Called when packets queued after EAGAIN have all been written. Returns a function that
   * removes the listener: a caller that waits for one drain at a time must call it, or every
   * wait leaves a listener behind.
   */
  onDrain(cb: () => void): () => void {
    this.drainCbs.push(cb);
    return () => {
      this.drainCbs = this.drainCbs.filter((f) => f !== cb);
    };
  }

  /**
   * Read errors, write errors of queued packets, packets rejected by writeBatch, and the device
   * going away. Without a listener these are thrown (as uncaught exceptions from the event loop).
   */
  onError(cb: (err: SysError) => void): () => void {
    this.errorCbs.push(cb);
    return () => {
      this.errorCbs = this.errorCbs.filter((f) => f !== cb);
    };
  }

  /** Stops reading (the kernel queues, then drops); writes go on. */
  pause(): void {
    this.native.pause();
  }

  resume(): void {
    this.native.resume();
  }

  /**
   * Writes packets `start .. start+count-1` of (buf, offsets, lengths); with a vnet header the
   * `vnetHdrLen` bytes in front of each packet must hold it. Returns how many packets were taken:
   * all of them unless the retry queue (for EAGAIN) is full, in which case wait for onDrain.
   * A packet the kernel rejects goes to onError (with `index`) and the rest are still written;
   * without an error listener the error is thrown and the rest are not.
   */
  writeBatch(
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count = offsets.length,
    start = 0,
  ): number {
    let taken = 0;
    for (;;) {
      try {
        return taken + this.native.writeBatch(buf, offsets, lengths, start, count);
      } catch (e) {
        if (!isSysError(e) || e.index === undefined || this.errorCbs.length === 0) throw e;
        const skipped = e.index - start + 1;
        taken += skipped;
        start += skipped;
        count -= skipped;
        this.emitError(e);
        // The listener may have closed the device (it went away): the rest is not taken.
        if (count === 0 || this.isClosed) return taken;
      }
    }
  }

  /**
   * Writes one packet (copied; for control traffic and tests, not the data path). `vnet` is the
   * virtio-net header to send with it (all zero when omitted). Returns false if the retry queue
   * is full.
   */
  write(packet: Uint8Array, vnet?: Uint8Array): boolean {
    const need = packet.length + this.vnetHdrLen;
    if (!this.scratch || this.scratch.length < need) this.scratch = new Uint8Array(Math.max(need, 2048));
    this.scratch.fill(0, 0, this.vnetHdrLen);
    if (vnet && this.vnetHdrLen) this.scratch.set(vnet.subarray(0, this.vnetHdrLen), 0);
    this.scratch.set(packet, this.vnetHdrLen);
    this.one.off[0] = this.vnetHdrLen;
    this.one.len[0] = packet.length;
    return this.writeBatch(this.scratch, this.one.off, this.one.len, 1) === 1;
  }

  setMtu(mtu: number): void {
    this.native.setMtu(mtu);
  }

  get mtu(): number {
    return this.native.getMtu();
  }

  setUp(up: boolean): void {
    this.native.setUp(up);
  }

  get isUp(): boolean {
    return this.native.isUp();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  stats(): TunStats {
    return this.native.stats();
  }

  /**
   * Stops reading, drops queued writes and closes the fd (a non-persistent device then
   * disappears). Safe from inside any callback of this device, and more than once. Returns how
   * many queued packets were dropped. Held batches stay readable (the ring is ordinary memory).
   * Like a socket, an open device is never garbage-collected: close it.
   */
  close(): number {
    if (this.isClosed) return 0;
    this.isClosed = true;
    this.packetCb = undefined;
    return this.native.close();
  }
}
