// Batched UDP (native/src/udp_linux.cc): recvmmsg hands JS a whole batch of datagrams per
// callback, sendmmsg sends a whole batch of replies per call. For servers whose cost is per
// datagram: node:dgram spends a JS callback, a 64 KB buffer, an rinfo object and a sendmsg system
// call on every one.
//
// Receiving: onBatch(cb) calls cb(count) with the datagrams in `rx`; datagram i is
// rx[offsets[i], offsets[i] + lengths[i]), from addrs[16i, 16i + 16) (first 4 bytes for an IPv4
// socket), ports[i], scopes[i]. All of it is reused by the next batch: copy what you keep.
//
// Sending: sendBatch() takes datagrams in one buffer (offsets, lengths) and destinations as
// indexes into an address table of the same shape, so replies to a batch being handled can use
// the socket itself (its receive descriptor) as the table without copying any address.
import { formatIPv6 } from '../ip/address.js';
import { loadNative, netnsPath, type SysError } from './native.js';

export interface UdpBatchStats {
  rxPackets: number;
  rxBytes: number;
  /** Callbacks made (one per recvmmsg that returned something). */
  rxBatches: number;
  /** Datagrams longer than a slot, dropped. */
  rxTruncated: number;
  /** The largest batch read so far (answered here and handed to JS together). */
  rxMaxBatch: number;
  /** Datagrams answered from the attached AnswerTable without entering JS. */
  rxAnswered: number;
  /** Callbacks into JS (batches with at least one datagram the table did not answer). */
  rxJsBatches: number;
  txPackets: number;
  txBytes: number;
  /** sendmmsg calls that sent something. */
  txCalls: number;
  /** Datagrams that met a full socket buffer and waited in the queue. */
  txQueued: number;
  txEagain: number;
  /** Datagrams lost: queue full, kernel out of buffers, or still queued at close. */
  txDropped: number;
  /** Datagrams the kernel refused (bad destination and the like); see lastError. */
  txErrors: number;
  /** errno name of the last refusal, null when there was none. */
  lastError: string | null;
  queuePackets: number;
  queueBytes: number;
}

export interface BatchSocketOptions {
  /** An IP literal; the family follows from it. */
  address: string;
  /** 0 picks a free port (see `port`). */
  port: number;
  /** IPv6 only: refuse IPv4 clients (IPV6_V6ONLY). */
  ipv6Only?: boolean;
  /** SO_REUSEADDR. Off by default so a port taken by another server fails with EADDRINUSE. */
  reuseAddr?: boolean;
  /** Datagrams per recvmmsg (1..1024, default 64). */
  batch?: number;
  /** Bytes per receive slot; longer datagrams are dropped (default 4096). */
  slotSize?: number;
  rcvbuf?: number;
  sndbuf?: number;
  /** Bound of the queue for replies that meet a full socket buffer (default 4096, 4 MB). */
  maxQueue?: number;
  maxQueueBytes?: number;
  /** Open inside this network namespace (`ip netns` name or path). */
  netns?: string;
}

/** Destinations for sendBatch: 16 address bytes per entry, ports in host order, scope ids. */
export interface AddressTable {
  addrs: Uint8Array;
  ports: Uint16Array;
  scopes?: Uint32Array;
}

interface NativeUdpInfo {
  fd: number;
  family: 4 | 6;
  port: number;
  batch: number;
  slotSize: number;
  rx: ArrayBuffer;
  desc: ArrayBuffer;
  portsOffset: number;
  addrsOffset: number;
}

interface NativeUdpSocket {
  info(): NativeUdpInfo;
  start(): void;
  pause(): void;
  sendBatch(
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
    addrs: Uint8Array,
    ports: Uint16Array,
    scopes: Uint32Array | null,
    dest: Uint32Array | null,
  ): number;
  stats(): UdpBatchStats;
  close(): number;
  setAnswerTable(t: NativeAnswerTable | null): void;
}

/** The native side of an AnswerTable (udp_linux.cc): the methods AnswerTable hands on. */
type NativeAnswerTable = Pick<AnswerTable, 'set' | 'delete' | 'clear' | 'stats'>;

type NativeAnswerTableCtor = new (opts: { ednsUdpSize: number }) => NativeAnswerTable;

type NativeUdpCtor = new (
  opts: BatchSocketOptions & { onMessages: (count: number) => void; onError: (err: SysError) => void },
) => NativeUdpSocket;

/** Why batched UDP cannot be used here, or null when it can. */
export function batchUdpUnavailable(): string | null {
  if (process.platform !== 'linux') return `batched UDP is Linux only (this is ${process.platform})`;
  try {
    const addon = loadNative() as { UdpSocket?: NativeUdpCtor };
    return addon.UdpSocket
      ? null
      : 'the native addon has no UdpSocket (built before udp_linux.cc: rebuild it)';
  } catch (err) {
    return (err as Error).message;
  }
}

export class BatchUdpSocket {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly fd: number;
  /** The receive slots (one Buffer over the whole ring). */
  readonly rx: Buffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly scopes: Uint32Array;
  readonly ports: Uint16Array;
  readonly addrs: Uint8Array;
  /** The receive descriptor as an address table: replies to datagram i go to entry i. */
  readonly sources: AddressTable;
  readonly batchSize: number;
  private readonly native: NativeUdpSocket;
  private batchCb: ((count: number) => void) | null = null;
  private readonly errorCbs: Array<(err: SysError) => void> = [];
  private closed = false;
  private readonly one = { off: new Uint32Array(1), len: new Uint32Array(1) };
  private readonly oneAddr = {
    addrs: new Uint8Array(16),
    ports: new Uint16Array(1),
    scopes: new Uint32Array(1),
  };

  /** Opens and binds; throws a SysError (code EADDRINUSE, ...) or, without the addon, an Error. */
  static open(opts: BatchSocketOptions): BatchUdpSocket {
    const why = batchUdpUnavailable();
    if (why) throw new Error(why);
    return new BatchUdpSocket(opts);
  }

  private constructor(opts: BatchSocketOptions) {
    // open() checked that it exists.
    const Native = (loadNative() as { UdpSocket?: NativeUdpCtor }).UdpSocket as NativeUdpCtor;
    this.native = new Native({
      ...opts,
      netns: netnsPath(opts.netns),
      onMessages: (count) => this.batchCb?.(count),
      onError: (err) => {
        if (this.errorCbs.length === 0) throw err;
        for (const cb of this.errorCbs) cb(err);
      },
    });
    const info = this.native.info();
    this.address = opts.address;
    this.port = info.port;
    this.family = info.family;
    this.fd = info.fd;
    this.batchSize = info.batch;
    this.rx = Buffer.from(info.rx);
    const b = info.batch;
    this.offsets = new Uint32Array(info.desc, 0, b);
    this.lengths = new Uint32Array(info.desc, b * 4, b);
    this.scopes = new Uint32Array(info.desc, b * 8, b);
    this.ports = new Uint16Array(info.desc, info.portsOffset, b);
    this.addrs = new Uint8Array(info.desc, info.addrsOffset, b * 16);
    this.sources = { addrs: this.addrs, ports: this.ports, scopes: this.scopes };
  }

  /** Starts receiving: cb(count) per batch (see the top of this file for where the data is). */
  onBatch(cb: (count: number) => void): void {
    this.batchCb = cb;
    if (!this.closed) this.native.start();
  }

  /** Errors from sending (the first refusal per call) and from the socket; without a listener they throw. */
  onError(cb: (err: SysError) => void): void {
    this.errorCbs.push(cb);
  }

  pause(): void {
    if (!this.closed) this.native.pause();
  }

  resume(): void {
    if (!this.closed && this.batchCb) this.native.start();
  }

  /** Datagram i of the current batch, as a view (valid during the callback only). */
  message(i: number): Buffer {
    return this.rx.subarray(this.offsets[i], this.offsets[i] + this.lengths[i]);
  }

  /** The source address of datagram i in text form (RFC 5952 for IPv6). */
  sourceAddress(i: number): string {
    return formatAddress(this.addrs.subarray(i * 16, i * 16 + 16), this.family);
  }

  /**
   * Sends datagram k = buf[offsets[k], +lengths[k]) to table entry dest[k] (k itself without
   * dest), k < count, with as few sendmmsg calls as the kernel allows. Returns how many were sent
   * or queued; the others were dropped (queue full) or refused (onError gets the first refusal).
   */
  sendBatch(
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
    table: AddressTable = this.sources,
    dest: Uint32Array | null = null,
  ): number {
    if (this.closed) return 0;
    return this.native.sendBatch(
      buf,
      offsets,
      lengths,
      count,
      table.addrs,
      table.ports,
      table.scopes ?? null,
      dest,
    );
  }

  /** One datagram to addr (16 bytes, or 4 for IPv4) and port. */
  sendTo(data: Uint8Array, addr: Uint8Array, port: number, scope = 0): boolean {
    if (this.closed) return false;
    const t = this.oneAddr;
    t.addrs.fill(0);
    t.addrs.set(addr.subarray(0, 16));
    t.ports[0] = port;
    t.scopes[0] = scope;
    this.one.off[0] = 0;
    this.one.len[0] = data.length;
    return this.native.sendBatch(data, this.one.off, this.one.len, 1, t.addrs, t.ports, t.scopes, null) === 1;
  }

  stats(): UdpBatchStats {
    return this.native.stats();
  }

  /** Cache hits in table are answered without JS from now on; null turns that off. */
  setAnswerTable(table: AnswerTable | null): void {
    if (!this.closed) this.native.setAnswerTable(table ? table.native : null);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes at once (safe inside a callback); returns how many queued replies were dropped. */
  close(): number {
    if (this.closed) return 0;
    this.closed = true;
    this.batchCb = null;
    return this.native.close();
  }
}

export interface AnswerTableStats {
  entries: number;
  hits: number;
  truncated: number;
}

/**
 * DNS answers the sockets it is attached to send without entering JS (udp_linux.cc). It holds a
 * mirror of a DNS answer cache (dns64/cache.ts fills and empties it) and answers a query from
 * it exactly as the DNS64 stub's JS hit path would: same key, same header bits, the client's
 * question spelling and OPT, TTLs aged to now, TC when it does not fit. Queries it is not
 * certain about, and misses, reach onBatch as before.
 */
export class AnswerTable {
  /** @internal handed to the native socket */
  readonly native: NativeAnswerTable;

  /** ednsUdpSize: the UDP size our OPT advertises to clients. */
  constructor(ednsUdpSize: number) {
    const why = batchUdpUnavailable();
    if (why) throw new Error(why);
    const Ctor = (loadNative() as { AnswerTable?: NativeAnswerTableCtor }).AnswerTable;
    if (!Ctor) throw new Error('the native addon has no AnswerTable (built before it was added: rebuild it)');
    this.native = new Ctor({ ednsUdpSize });
  }

  /**
   * Stores wire (a response without OPT) under key; TTL field i at ttlOffs[i] holds ttls[i] minus
   * the whole seconds since storedAt; a hit at or after expiresAt (ms, Date.now()) is left to JS.
   */
  set(
    key: Uint8Array,
    wire: Uint8Array,
    ttlOffs: Uint32Array,
    ttls: Uint32Array,
    extRcode: number,
    storedAt: number,
    expiresAt: number,
  ): void {
    this.native.set(key, wire, ttlOffs, ttls, extRcode, storedAt, expiresAt);
  }

  delete(key: Uint8Array): void {
    this.native.delete(key);
  }

  clear(): void {
    this.native.clear();
  }

  /** entries held; hits answered and, of those, truncated (TC) replies, since creation. */
  stats(): AnswerTableStats {
    return this.native.stats();
  }
}

/**
 * Replies collected into one buffer for one sendBatch: reserve() hands out room for each, with
 * the index of its destination; flush() sends them all and starts over.
 */
export class ReplyBatch {
  readonly buf: Buffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly dest: Uint32Array;
  count = 0;
  private used = 0;

  constructor(maxCount: number, maxBytes: number) {
    this.buf = Buffer.allocUnsafe(maxBytes);
    this.offsets = new Uint32Array(maxCount);
    this.lengths = new Uint32Array(maxCount);
    this.dest = new Uint32Array(maxCount);
  }

  /** Room for a reply of len bytes to table entry `to`, or null when full (flush first). */
  reserve(len: number, to: number): Buffer | null {
    if (this.count === this.offsets.length || this.used + len > this.buf.length) return null;
    const at = this.used;
    this.offsets[this.count] = at;
    this.lengths[this.count] = len;
    this.dest[this.count] = to;
    this.count++;
    this.used += len;
    return this.buf.subarray(at, at + len);
  }

  /** Sends everything reserved to its entry in table; returns how many were sent or queued. */
  flush(sock: BatchUdpSocket, table: AddressTable = sock.sources): number {
    if (this.count === 0) return 0;
    const n = sock.sendBatch(this.buf, this.offsets, this.lengths, this.count, table, this.dest);
    this.count = 0;
    this.used = 0;
    return n;
  }
}

/** 16 address bytes (4 used for IPv4) in text form; IPv4-mapped IPv6 as ::ffff:a.b.c.d. */
export function formatAddress(a: Uint8Array, family: 4 | 6): string {
  if (family === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const mapped = a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;
  return mapped ? `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}` : formatIPv6(a);
}
