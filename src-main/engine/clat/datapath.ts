// The translating data path: one TUN carries both families (the kernel routes IPv4 into it by
// the default route and forwards IPv6 for the CLAT address into it), the SIIT translator turns
// each packet into the other family in place, and the result goes back into the same TUN.
//
// Per batch: one read callback from the native ring, translate each packet where it lies (the
// ring leaves headroom so IPv4 -> IPv6 grows forwards into it), move its virtio-net header along,
// then one writeBatch for the whole batch straight from the ring. Nothing is allocated per
// packet. GSO super-packets (up to 64 KiB of TCP or UDP) stay super-packets: the translator
// rewrites their one header and we rewrite the vnet header's gso_type (TCPV4 <-> TCPV6),
// csum_start and hdr_len, so the kernel segments them after translation, not us.
import { envNumber } from '../system/env-override.js';
import { TunDevice, type PacketBatch } from '../native/tun.js';
import { GsoType, VnetFlag, VNET_HDR_LEN, relocateVnet, clearVnet } from '../native/vnet.js';
import { Translator, FLAG, HEADROOM } from '../siit/translator.js';
import { Pool6 } from '../ip/rfc6052.js';
import { hostBitsSet6, parsePrefix6 } from '../ip/address.js';
import { clatIcmpSource } from '../net/clat-address.js';
import { UdpCoalescer } from './udp-coalesce.js';
import { execOut } from '../system/exec.js';
import { writeFileSync } from 'node:fs';
import type { DataPath, DataPathFactory, DataPathParams } from './datapath-types.js';
import { say, type Say } from '../../shared/say.js';

/** RFC 7600: 192.0.0.8, the IPv4 dummy address, as the source of ICMPv6 errors from unmapped IPv6 routers. */
const IPV4_DUMMY = '192.0.0.8';

/**
 * Read coalescing (tun.ts rxCoalesceUs). Overridable by CLATBAR_RX_COALESCE_US for measurement
 * (bench/clat.ts); 0 turns it off.
 */
const RX_COALESCE_US = envNumber('CLATBAR_RX_COALESCE_US', 200, 0, 10_000);

/**
 * Read the TUN with io_uring (tun.ts rxUring): one system call per wake-up instead of one per
 * packet. CLATBAR_TUN_URING=0 reads with read() instead, for measurement (bench/udp-cost.ts).
 */
const RX_URING = envNumber('CLATBAR_TUN_URING', 1, 0, 1) === 1;

/**
 * Packets the kernel may queue on the TUN for us to read (txqueuelen); CLATBAR_TUN_QUEUE
 * overrides it for measurement. See the comment where it is set.
 */
const TUN_QUEUE = envNumber('CLATBAR_TUN_QUEUE', 1000, 16, 100_000);

/** Packets the translator emitted outside the ring (ICMP errors, fragments): copied here first. */
const STAGE_BYTES = 1 << 20;
const STAGE_SLOTS = 512;
const STAGE_SLOT_ROOM = VNET_HDR_LEN + 6;

export interface DataPathCounters {
  batches: number;
  packetsIn: number;
  packetsOut: number;
  gsoIn: number;
  writeRefused: number;
  writeErrors: number;
  stagedOverflow: number;
}

export function translatorConfigFor(p: DataPathParams) {
  return {
    pool6: p.prefix,
    eamt: [{ ipv4: `${p.clatIpv4}/32`, ipv6: `${p.clatIpv6}/128` }],
    rfc6791v4: IPV4_DUMMY,
    rfc6791v6: null,
    // The IPv6 path beyond our link is unknown: DF-clear IPv4 packets are cut to 1280 so they
    // always get through (RFC 7915 §4.1, RFC 6145's default); DF-set ones find the path MTU.
    lowestIpv6Mtu: 1280,
    amendUdpChecksumZero: true,
    ipv6Mtu: p.ipv6Mtu,
    // An IPv6 packet as big as the TUN (link) MTU shrinks by 20 bytes; the local stack takes that.
    // Not the path MTU: a reply that reached us at link size must not be cut or refused.
    ipv4Mtu: p.linkMtu - 20,
    // Another host address of the /29 (not ours, or the kernel calls it martian; never its
    // network or broadcast address, which receivers refuse as a source).
    icmpSourceV4: clatIcmpSource(p.clatIpv4),
    icmpSourceV6: p.clatIpv6,
  };
}

class TranslatingDataPath implements DataPath {
  private readonly t: Translator;
  private readonly ring: Uint8Array;
  private readonly outOff: Uint32Array;
  private readonly outLen: Uint32Array;
  private nOut = 0;
  /** The buffer the pending run of writes lives in (ring, coalescing arena or stage). */
  private outBuf: Uint8Array | null = null;
  private readonly coalescer: UdpCoalescer;
  private readonly stage = new Uint8Array(STAGE_BYTES);
  private nStage = 0;
  private stageUsed = 0;
  /** The packet being translated: where it started, and whether its in-place result was emitted. */
  private curOff = 0;
  private curInPlace = false;
  private readonly savedVnet = new Uint8Array(VNET_HDR_LEN);
  private paused = false;
  private readonly log: Say;
  readonly c: DataPathCounters = {
    batches: 0,
    packetsIn: 0,
    packetsOut: 0,
    gsoIn: 0,
    writeRefused: 0,
    writeErrors: 0,
    stagedOverflow: 0,
  };

  constructor(
    private readonly tun: TunDevice,
    p: DataPathParams,
  ) {
    this.log = p.log;
    this.ring = tun.buffer;
    this.outOff = new Uint32Array(tun.batchSize * 2);
    this.outLen = new Uint32Array(tun.batchSize * 2);
    this.t = new Translator(translatorConfigFor(p), (buf, off, len) => this.emit(buf, off, len));
    this.coalescer = new UdpCoalescer(
      (buf, off, len) => this.queue(buf, off, len),
      () => this.writeRun(),
    );
  }

  /**
   * The translator reads cfg.pool6 per packet, so swapping it takes effect with the next packet,
   * keeping the counters and the EAM entry (the CLAT address does not change with the prefix).
   */
  setPrefix(prefix: string | null): void {
    const p = prefix === null ? null : parsePrefix6(prefix);
    if (p && hostBitsSet6(p))
      throw new Error(`'${prefix}' is not an IPv6 prefix: it has bits set after /${p.len}`);
    this.t.cfg.pool6 = p ? new Pool6(p) : null;
  }

  describe(): string {
    const on = Object.entries(this.tun.offloads)
      .filter(([, v]) => v)
      .map(([k]) => k);
    return `offloads ${on.length ? on.join(' ') : 'none'}, vnet header ${this.tun.vnetHdrLen} bytes, reads ${this.tun.rxUring ? 'io_uring' : 'read()'}`;
  }

  start(): void {
    this.tun.onError((err) => {
      // A rejected packet (EINVAL from a malformed vnet header, say) costs that packet only.
      this.c.writeErrors++;
      if (this.c.writeErrors === 1) this.log(say('clat.tun-error', { error: err.message }));
      if (err.code === 'EBADFD' || err.code === 'ENODEV') this.tun.close();
    });
    this.tun.onDrain(() => {
      if (this.paused) {
        this.paused = false;
        this.tun.resume();
      }
    });
    this.tun.onPackets((b) => this.onBatch(b));
  }

  private onBatch(b: PacketBatch): void {
    const buf = b.buffer;
    const vnet = this.tun.vnetHdrLen > 0;
    this.c.batches++;
    for (let i = 0; i < b.count; i++) {
      const off = b.offsets[i];
      const len = b.lengths[i];
      let flags = 0;
      if (vnet) {
        const h = off - VNET_HDR_LEN;
        if ((buf[h + 1] & ~GsoType.ECN) !== GsoType.NONE) {
          flags |= FLAG.gso;
          this.c.gsoIn++;
        }
        if (buf[h] & VnetFlag.NEEDS_CSUM) flags |= FLAG.csumPartial;
      }
      // The new IP header may overwrite the old vnet header in the headroom: keep a copy.
      if (vnet) for (let k = 0; k < VNET_HDR_LEN; k++) this.savedVnet[k] = buf[off - VNET_HDR_LEN + k];
      this.curOff = off;
      this.curInPlace = false;
      this.c.packetsIn++;
      this.t.translate(buf, off, len, flags);
    }
    this.coalescer.close();
    this.flush();
    this.coalescer.reset();
  }

  /** Appends one packet to the pending writes, in order; a new buffer starts a new run. */
  private queue(buf: Uint8Array, off: number, len: number): void {
    if ((buf !== this.outBuf && this.nOut > 0) || this.nOut === this.outOff.length) this.writeRun();
    this.outBuf = buf;
    this.outOff[this.nOut] = off;
    this.outLen[this.nOut++] = len;
  }

  private writeRun(): void {
    if (this.nOut === 0 || !this.outBuf) return;
    const taken = this.tun.writeBatch(this.outBuf, this.outOff, this.outLen, this.nOut);
    this.account(taken, this.nOut);
    this.nOut = 0;
  }

  /** Every packet the translator sends comes here, synchronously. */
  private emit(buf: Uint8Array, off: number, len: number): void {
    // The translator emits from our ring only the in-place translation of the current packet
    // (errors, fragments and hairpins come from its own scratch areas).
    if (buf === this.ring && !this.curInPlace) {
      // Translated in place: the payload did not move, so the L3 header grew or shrank by the
      // distance the start moved; csum_start and hdr_len shift by as much.
      this.curInPlace = true;
      if (this.tun.vnetHdrLen > 0) {
        buf.set(this.savedVnet, off - VNET_HDR_LEN);
        relocateVnet(buf, off, off, this.curOff - off);
        const g = off - VNET_HDR_LEN + 1;
        const type = buf[g] & ~GsoType.ECN;
        const v = buf[off] >> 4;
        if (type === GsoType.TCPV4 && v === 6) buf[g] = (buf[g] & GsoType.ECN) | GsoType.TCPV6;
        else if (type === GsoType.TCPV6 && v === 4) buf[g] = (buf[g] & GsoType.ECN) | GsoType.TCPV4;
      }
      if (this.tun.vnetHdrLen > 0) this.coalescer.push(buf, off, len);
      else this.queue(buf, off, len);
      return;
    }
    this.coalescer.close();
    // ICMP errors, fragments, hairpins: built in the translator's scratch; copy them out.
    if (this.nStage === STAGE_SLOTS || this.stageUsed + len + STAGE_SLOT_ROOM > STAGE_BYTES) this.flush();
    if (len + STAGE_SLOT_ROOM > STAGE_BYTES) {
      this.c.stagedOverflow++;
      return;
    }
    const at = this.stageUsed + VNET_HDR_LEN;
    this.stage.set(buf.subarray(off, off + len), at);
    if (this.tun.vnetHdrLen > 0) clearVnet(this.stage, at);
    this.nStage++;
    this.queue(this.stage, at, len);
    // Keep offsets even so the next header lands 2-byte aligned; nothing needs more.
    this.stageUsed = at + len + (len & 1);
  }

  private flush(): void {
    this.writeRun();
    this.nStage = 0;
    this.stageUsed = 0;
  }

  private account(taken: number, n: number): void {
    this.c.packetsOut += taken;
    if (taken < n) {
      // The write queue is full: stop reading until it drains, so the kernel queues (and, past
      // its limit, drops) instead of our memory growing.
      this.c.writeRefused += n - taken;
      if (!this.paused) {
        this.paused = true;
        this.tun.pause();
      }
    }
  }

  async stop(): Promise<void> {
    this.tun.close();
  }

  counters(): Record<string, number> {
    const s = this.t.counters.snapshot();
    const tun = this.tun.closed ? null : this.tun.stats();
    const out: Record<string, number> = {
      ...this.c,
      udpMerged: this.coalescer.merged,
      udpSuperPackets: this.coalescer.superPackets,
      translated46: s.translated46,
      translated64: s.translated64,
      icmpErrorsSent: s.icmpErrorsSent,
      fragmentsEmitted: s.fragmentsEmitted,
    };
    for (const [k, v] of Object.entries(s.drops)) out[`drop.${k}`] = v;
    if (tun) for (const [k, v] of Object.entries(tun)) if (typeof v === 'number') out[`tun.${k}`] = v;
    return out;
  }
}

export const translatingDataPath: DataPathFactory = async (p) => {
  const tun = TunDevice.open({
    name: p.tun,
    offloads: 'all',
    mtu: p.linkMtu,
    up: false,
    rxCoalesceUs: RX_COALESCE_US,
    rxUring: RX_URING,
  });
  // No IPv6 link-local on the TUN (addr_gen_mode 1 = none, before the link comes up): nothing
  // on the far side of it speaks NDP or MLD, so those packets would only be translator drops.
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${p.tun}/addr_gen_mode`, '1\n');
  } catch {
    // Older kernels without addr_gen_mode: a link-local costs a few dropped packets, no more.
  }
  // The kernel's queue towards us (tun's default is 500 packets) absorbs the moments when the
  // engine is not scheduled. Before read coalescing, 4096 delivered about 1.5x more 64-byte
  // datagrams than 500 on a busy 2-CPU laptop (bench/clat.ts). With coalescing (a read at least
  // every 200 us under load) 1000 (about 3 ms at 350k packets/s) is enough: against 4096 the
  // datagrams delivered under an iperf3 UDP flood were the same within noise, and on a busy
  // machine, where the longer queue filled, ping RTT during the flood was 2 ms instead of 5
  // (docs/clat.md, Performance). TCP is not affected: TCP Small Queues bounds what one socket
  // keeps queued below it.
  try {
    await execOut(['ip', 'link', 'set', 'dev', p.tun, 'txqueuelen', String(TUN_QUEUE)]);
  } catch (err) {
    p.log(say('clat.txqueuelen-failed', { tun: p.tun, length: TUN_QUEUE, error: (err as Error).message }));
  }
  try {
    if (tun.name !== p.tun) throw new Error(`asked for TUN ${p.tun}, got ${tun.name}`);
    // Less headroom than the translator needs would mean a copy per IPv4 packet, not a failure.
    if (tun.headroom < HEADROOM) p.log(say('clat.little-headroom', { tun: p.tun, bytes: tun.headroom }));
    tun.setUp(true);
    return new TranslatingDataPath(tun, p);
  } catch (err) {
    tun.close();
    throw err;
  }
};
