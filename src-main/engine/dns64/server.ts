// The DNS64 stub (RFC 6147): listens on UDP and TCP, answers from its cache, otherwise asks the
// network's resolvers and synthesizes AAAA records from A records under the NAT64 prefix.
//
// Section numbers in comments are RFC 6147's unless another RFC is named.
import dgram from 'node:dgram';
import net from 'node:net';
import { AnswerCache, type CacheOptions } from './cache.js';
import { AnswerTable, BatchUdpSocket, ReplyBatch, batchUdpUnavailable } from '../native/batch-socket.js';
import {
  Builder,
  CLASS_IN,
  EDNS_UDP_SIZE,
  FLAG,
  RCODE,
  TYPE,
  nameToText,
  namesEqual,
  negativeTtl,
  readName,
  parseMessage,
  skipQuestionName,
  textToName,
  writeOpt,
  type Parsed,
} from '../dns/wire.js';
import { IPV4ONLY_ADDRESSES, embedIPv4, extractIPv4, maySynthesize, type Pref64 } from '../ip/rfc6052.js';
import {
  formatIPv6,
  formatPrefix6,
  inPrefix6,
  ipv4Bytes,
  parseIPv4,
  parsePrefix6,
  type Prefix6,
} from '../ip/address.js';
import { inAddrArpaName, parseIp6Arpa } from '../dns/reverse-names.js';
import {
  Upstreams,
  formatServer,
  type UpstreamReply,
  type UpstreamServer,
  type UpstreamStats,
} from '../dns/upstream.js';

export type Dns64Mode = 'on' | 'auto';

export interface ListenAddress {
  address: string;
  /** 0 picks a free port (the same one for UDP and TCP); see boundAddresses(). */
  port: number;
}

export interface Dns64Options {
  listen: ListenAddress[];
  upstreams: UpstreamServer[];
  /** The NAT64 prefix; null passes everything through until setPrefix() gives one. */
  prefix: Pref64 | null;
  /** on: always synthesize. auto: pass through when the upstreams already do DNS64. */
  mode?: Dns64Mode;
  /** §5.1.4 exclusion set; default ::ffff:0:0/96. */
  exclude?: Prefix6[];
  /** Per-attempt upstream timeout, ms (default 1500). */
  timeoutMs?: number;
  /** Upstream attempts in total (default 2 per server). */
  attempts?: number;
  cache?: CacheOptions;
  /** Idle TCP connections are closed after this many ms (RFC 7766 §6.2.3). */
  tcpIdleMs?: number;
  maxTcpConnections?: number;
  /** How often mode auto re-checks the upstreams, ms (default 5 minutes). */
  probeIntervalMs?: number;
  /**
   * UDP through the native addon's batched sockets (recvmmsg/sendmmsg), default true; false, or
   * no addon, uses node:dgram.
   */
  udpBatch?: boolean;
  /**
   * With batched UDP: cache hits are answered inside the native socket, without entering JS
   * (byte for byte what the JS path sends). Default true; the environment variable
   * CLATBAR_DNS64_FASTPATH=0 turns the default off (for measurement). See setFastPath().
   */
  udpFastPath?: boolean;
  log?: (line: string) => void;
  /** Problems (upstreams not answering, internal errors); default: log. */
  warn?: (line: string) => void;
}

export interface Dns64Stats {
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  cacheHits: number;
  coalesced: number;
  synthesized: number;
  ptrSynthesized: number;
  localAnswers: number;
  passedThrough: number;
  servfail: number;
  formerr: number;
  dropped: number;
  truncated: number;
  tcpConnections: number;
  /** UDP reads through recvmmsg (one per batch of queries); 0 on node:dgram. */
  udpBatches: number;
  /** Of the cache hits, those answered in the native socket without entering JS. */
  udpFastAnswers: number;
  /** The most queries one batch carried. */
  udpMaxBatch: number;
  cacheEntries: number;
  /** Mode auto's finding: true when the upstreams synthesize themselves, null before the first probe. */
  upstreamDoesDns64: boolean | null;
  upstream: UpstreamStats;
}

/** What a resolution produced: a response without OPT, ID 0, question as the client asked. */
interface Result {
  wire: Buffer;
  /** Seconds it may be cached; 0 = not at all. */
  ttl: number;
  extRcode: number;
}

interface Query {
  id: number;
  rd: boolean;
  cd: boolean;
  /** The client's question bytes (its own letter case), copied. */
  question: Buffer;
  /** The name lowercased, wire labels. */
  qname: Buffer;
  qtype: number;
  qclass: number;
  edns: boolean;
  udpSize: number;
  dnssecOk: boolean;
}

/** Where a reply goes; null in place of a Sink means the datagram being handled in a batch. */
type Sink =
  | { kind: 'dgram'; sock: dgram.Socket; port: number; address: string }
  | { kind: 'batch'; sock: BatchUdpSocket; addr: Buffer; port: number; scope: number }
  | { kind: 'tcp'; conn: TcpConn };

interface TcpConn {
  sock: net.Socket;
  inflight: number;
  closed: boolean;
}

const DEFAULT_EXCLUDE = '::ffff:0:0/96';
/** §5.1.7: the TTL bound when the AAAA reply carried no SOA. */
const NO_SOA_TTL = 600;
const MAX_TCP_PIPELINE = 64;
const IPV4ONLY_ARPA = 'ipv4only.arpa.';
const MAX_CHASE = 8;
const MAX_WAITERS = 1000;
/** Datagrams per recvmmsg, and replies per sendmmsg. */
const UDP_BATCH = 64;

export class Dns64Server {
  private prefix: Pref64 | null;
  private readonly mode: Dns64Mode;
  private readonly exclude: Prefix6[];
  private readonly up: Upstreams;
  private readonly cache: AnswerCache;
  private readonly log: (line: string) => void;
  private readonly warn: (line: string) => void;
  private readonly inflight = new Map<string, Array<{ q: Query; sink: Sink }>>();
  private readonly udpSockets: dgram.Socket[] = [];
  private readonly batchSockets: BatchUdpSocket[] = [];
  /** The native mirror of the cache that batched sockets answer hits from; null when off. */
  private answers: AnswerTable | null = null;
  private fastPath: boolean;
  /** Hits and truncations the native table answered, carried over when it is replaced. */
  private readonly fastDone = { hits: 0, truncated: 0 };
  /** Batch counters of sockets already closed. */
  private readonly closedBatches = { batches: 0, max: 0 };
  /** While a batch is handled: its socket and the datagram's index; replies collect in `replies`. */
  private cur: BatchUdpSocket | null = null;
  private curIndex = 0;
  private readonly replies = new ReplyBatch(UDP_BATCH * 2, 256 * 1024);
  private readonly tcpServers: net.Server[] = [];
  private readonly tcpConns = new Set<TcpConn>();
  private readonly bound: Array<{ address: string; port: number }> = [];
  private readonly scratch = Buffer.alloc(300);
  private generation = 0;
  private upstreamDns64: boolean | null = null;
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopped = false;
  private readonly c = {
    queries: 0,
    udpQueries: 0,
    tcpQueries: 0,
    cacheHits: 0,
    coalesced: 0,
    synthesized: 0,
    ptrSynthesized: 0,
    localAnswers: 0,
    passedThrough: 0,
    servfail: 0,
    formerr: 0,
    dropped: 0,
    truncated: 0,
    tcpConnections: 0,
    udpBatches: 0,
    udpMaxBatch: 0,
  };

  constructor(private readonly opts: Dns64Options) {
    if (opts.listen.length === 0) throw new Error('at least one listen address is needed');
    this.prefix = opts.prefix;
    this.mode = opts.mode ?? 'on';
    this.exclude = opts.exclude ?? [parsePrefix6(DEFAULT_EXCLUDE)];
    this.log = opts.log ?? (() => {});
    this.warn = opts.warn ?? this.log;
    this.up = new Upstreams(opts.upstreams, {
      timeoutMs: opts.timeoutMs,
      attempts: opts.attempts,
      log: this.warn,
    });
    this.cache = new AnswerCache(opts.cache);
    this.fastPath = opts.udpFastPath ?? process.env.CLATBAR_DNS64_FASTPATH !== '0';
  }

  get stats(): Dns64Stats {
    const c = { ...this.c };
    // Hits answered natively never reached handle(): counted here as if they had.
    const fast = this.fastCounts();
    c.queries += fast.hits;
    c.udpQueries += fast.hits;
    c.cacheHits += fast.hits;
    c.truncated += fast.truncated;
    c.udpBatches = this.closedBatches.batches;
    c.udpMaxBatch = this.closedBatches.max;
    for (const s of this.batchSockets) {
      const st = s.stats();
      c.udpBatches += st.rxBatches;
      c.udpMaxBatch = Math.max(c.udpMaxBatch, st.rxMaxBatch);
    }
    return {
      ...c,
      udpFastAnswers: fast.hits,
      cacheEntries: this.cache.size,
      upstreamDoesDns64: this.upstreamDns64,
      upstream: { ...this.up.stats },
    };
  }

  /** Where the listeners are bound (ports resolved when 0 was asked for). */
  boundAddresses(): ReadonlyArray<{ address: string; port: number }> {
    return this.bound;
  }

  get currentPrefix(): Pref64 | null {
    return this.prefix;
  }

  /** Whether AAAA synthesis is in effect right now. */
  get synthesizing(): boolean {
    return this.prefix !== null && !(this.mode === 'auto' && this.upstreamDns64 === true);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('already started');
    this.started = true;
    try {
      for (const l of this.opts.listen) await this.listen(l);
    } catch (err) {
      await this.stop();
      throw err;
    }
    const sweep = setInterval(() => this.cache.sweep(Date.now()), 30_000);
    sweep.unref();
    this.timers.push(sweep);
    if (this.mode === 'auto') {
      const probe = (): void =>
        void this.probe().catch((err: Error) => this.warn(`DNS64 probe failed: ${err.message}`));
      probe();
      const t = setInterval(probe, this.opts.probeIntervalMs ?? 300_000);
      t.unref();
      this.timers.push(t);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.up.close();
    for (const s of this.udpSockets) s.close();
    this.udpSockets.length = 0;
    for (const s of this.batchSockets) {
      const st = s.stats();
      this.closedBatches.batches += st.rxBatches;
      this.closedBatches.max = Math.max(this.closedBatches.max, st.rxMaxBatch);
      s.close();
    }
    this.batchSockets.length = 0;
    for (const c of this.tcpConns) c.sock.destroy();
    this.tcpConns.clear();
    await Promise.all(this.tcpServers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    this.tcpServers.length = 0;
    this.cache.clear();
  }

  /** A new NAT64 prefix (or none): the cache is flushed, since its synthesized answers are stale. */
  setPrefix(prefix: Pref64 | null): void {
    const text = prefix ? formatPrefix6(prefix) : null;
    if (text === (this.prefix ? formatPrefix6(this.prefix) : null)) return;
    this.log(`NAT64 prefix now ${text ?? 'none (passing queries through)'}; cache flushed`);
    this.prefix = prefix;
    this.flush();
    if (this.mode === 'auto' && this.started) void this.probe().catch(() => {});
  }

  setUpstreams(servers: UpstreamServer[]): void {
    this.up.setServers(servers);
    this.log(`upstream resolvers now ${servers.map(formatServer).join(', ')}; cache flushed`);
    this.flush();
    if (this.mode === 'auto' && this.started) void this.probe().catch(() => {});
  }

  flush(): void {
    this.generation++;
    this.cache.clear();
  }

  /**
   * Turns answering cache hits inside the native UDP sockets on or off (for A/B measurements and
   * the tests that compare both paths); only has an effect with batched UDP. Returns whether the
   * fast path is now in effect.
   */
  setFastPath(on: boolean): boolean {
    this.fastPath = on;
    this.attachAnswers();
    return this.answers !== null;
  }

  private attachAnswers(): void {
    const want = this.fastPath && this.batchSockets.length > 0 && !this.stopped;
    if (want && !this.answers) {
      try {
        this.answers = new AnswerTable(EDNS_UDP_SIZE);
      } catch (err) {
        this.log(`cache hits answered in JS: ${(err as Error).message}`);
        this.fastPath = false;
        return;
      }
      this.cache.setMirror(this.answers);
    } else if (!want && this.answers) {
      const st = this.answers.stats();
      this.fastDone.hits += st.hits;
      this.fastDone.truncated += st.truncated;
      this.cache.setMirror(null);
      this.answers = null;
    }
    for (const s of this.batchSockets) s.setAnswerTable(this.answers);
  }

  private fastCounts(): { hits: number; truncated: number } {
    const st = this.answers?.stats();
    return {
      hits: this.fastDone.hits + (st?.hits ?? 0),
      truncated: this.fastDone.truncated + (st?.truncated ?? 0),
    };
  }

  /**
   * Mode auto (RFC 7050 §3): asks the upstreams for ipv4only.arpa AAAA. Synthesized answers mean
   * they do DNS64 already, so we pass through instead of synthesizing a second time.
   */
  async probe(): Promise<boolean | null> {
    const r = await this.up.query(textToName(IPV4ONLY_ARPA), TYPE.AAAA, CLASS_IN, false, false);
    if (this.stopped) return this.upstreamDns64;
    if (!r) {
      this.warn(
        `could not ask the upstreams whether they do DNS64 (no answer); ${this.upstreamDns64 ? 'still passing through' : 'synthesizing ourselves'}`,
      );
      return this.upstreamDns64;
    }
    const found = r.msg.answer
      .filter((rr) => rr.type === TYPE.AAAA && rr.rdLen === 16)
      .map((rr) => r.wire.subarray(rr.rdOff, rr.rdOff + 16))
      .filter((a) => !this.excluded(a));
    const does = r.msg.rcode === RCODE.NOERROR && found.length > 0;
    if (does !== this.upstreamDns64) {
      this.log(
        does
          ? `the upstreams already do DNS64 (ipv4only.arpa is ${found.map(formatIPv6).join(', ')}): passing AAAA queries through`
          : 'the upstreams do not do DNS64: synthesizing AAAA records ourselves',
      );
      this.upstreamDns64 = does;
      this.flush();
    }
    return does;
  }

  private async listen(l: ListenAddress): Promise<void> {
    const family = net.isIPv6(l.address) ? 'udp6' : 'udp4';
    const port = this.batchUdp() ? this.listenBatch(l) : await this.listenDgram(l, family);
    const server = net.createServer((s) => this.onTcp(s));
    server.maxConnections = this.opts.maxTcpConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: l.address, port, ipv6Only: family === 'udp6' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.warn(`TCP listener ${l.address}: ${err.message}`));
    this.tcpServers.push(server);
    this.bound.push({ address: l.address, port });
    this.log(`listening on ${formatServer({ address: l.address, port })} (UDP and TCP)`);
  }

  private batchChecked = false;
  private batchOk = false;

  /** Whether UDP goes through the native batched sockets; says once why not when it cannot. */
  private batchUdp(): boolean {
    if (this.batchChecked) return this.batchOk;
    this.batchChecked = true;
    if (this.opts.udpBatch === false) return (this.batchOk = false);
    const why = batchUdpUnavailable();
    if (why) this.log(`UDP without batching (node:dgram): ${why}`);
    return (this.batchOk = why === null);
  }

  private listenBatch(l: ListenAddress): number {
    const sock = BatchUdpSocket.open({
      address: l.address,
      port: l.port,
      ipv6Only: net.isIPv6(l.address),
      batch: UDP_BATCH,
      // Queries are small; a bigger one (there is no reason for it) is dropped, as dgram would
      // never have dropped it, but no client sends queries that long.
      slotSize: 4096,
      rcvbuf: 4 << 20,
      sndbuf: 4 << 20,
    });
    sock.onError((err) => this.warn(`UDP listener ${l.address}: ${err.message}`));
    sock.onBatch((count) => this.onUdpBatch(sock, count));
    this.batchSockets.push(sock);
    this.attachAnswers();
    return sock.port;
  }

  private async listenDgram(l: ListenAddress, family: 'udp4' | 'udp6'): Promise<number> {
    const sock = dgram.createSocket({ type: family, ipv6Only: family === 'udp6', lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(l.port, l.address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    try {
      sock.setRecvBufferSize(4 << 20);
      sock.setSendBufferSize(4 << 20);
    } catch {
      // Bigger buffers only absorb bursts; the kernel's limits are fine without them.
    }
    sock.on('error', (err) => this.warn(`UDP listener ${l.address}: ${err.message}`));
    sock.on('message', (msg, rinfo) => this.onUdp(sock, msg, rinfo));
    this.udpSockets.push(sock);
    return sock.address().port;
  }

  // ---------------------------------------------------------------- receiving queries

  /**
   * One recvmmsg worth of queries. Cache hits are answered into `replies` as they are handled and
   * leave together in one sendmmsg at the end; misses start resolutions that answer later.
   */
  private onUdpBatch(sock: BatchUdpSocket, count: number): void {
    this.cur = sock;
    try {
      for (let i = 0; i < count && !sock.isClosed; i++) {
        this.c.udpQueries++;
        // Source port 0 cannot be answered: a forged packet, dropped.
        if (sock.ports[i] === 0) {
          this.c.dropped++;
          continue;
        }
        this.curIndex = i;
        try {
          this.handle(sock.message(i), null, null, null);
        } catch (err) {
          // Nothing a client sends may take the engine down; a bug here costs one answer.
          this.warn(`internal error on a query from ${sock.sourceAddress(i)}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.cur = null;
      this.replies.flush(sock);
    }
  }

  /** Room for a reply to the datagram being handled in a batch; null when it cannot fit. */
  private reserve(len: number): Buffer | null {
    const cur = this.cur as BatchUdpSocket;
    let b = this.replies.reserve(len, this.curIndex);
    if (!b && this.replies.count > 0) {
      this.replies.flush(cur);
      b = this.replies.reserve(len, this.curIndex);
    }
    return b;
  }

  private onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.c.udpQueries++;
    // Source port 0 cannot be answered (dgram would throw): a forged packet, dropped.
    if (rinfo.port === 0) {
      this.c.dropped++;
      return;
    }
    try {
      this.handle(msg, sock, rinfo, null);
    } catch (err) {
      // Nothing a client sends may take the engine down; a bug here costs one answer.
      this.warn(`internal error on a query from ${rinfo.address}: ${(err as Error).message}`);
    }
  }

  private onTcp(sock: net.Socket): void {
    this.c.tcpConnections++;
    const conn: TcpConn = { sock, inflight: 0, closed: false };
    this.tcpConns.add(conn);
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        // RFC 7766 §8: a frame too short to hold a header cannot be answered; the stream is
        // unusable after it, so the connection goes.
        if (len < 12) {
          this.c.dropped++;
          sock.destroy();
          return;
        }
        if (buf.length < 2 + len) break;
        const frame = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.c.tcpQueries++;
        try {
          this.handle(frame, null, null, conn);
        } catch (err) {
          this.warn(`internal error on a TCP query: ${(err as Error).message}`);
          sock.destroy();
          return;
        }
        if (conn.inflight >= MAX_TCP_PIPELINE) sock.pause();
      }
    });
    const close = (): void => {
      conn.closed = true;
      this.tcpConns.delete(conn);
    };
    sock.on('error', close);
    sock.on('close', close);
  }

  /**
   * Parses a query, answers from the cache when it can, otherwise starts a resolution. The
   * reply address comes as separate arguments (not a Sink object) to keep the cache-hit path
   * free of allocations of our own.
   */
  private handle(
    msg: Buffer,
    sock: dgram.Socket | null,
    rinfo: dgram.RemoteInfo | null,
    conn: TcpConn | null,
  ): void {
    this.c.queries++;
    if (msg.length < 12) {
      this.c.dropped++;
      return;
    }
    const flags = msg.readUInt16BE(2);
    // Never answer a response: that is how two servers end up in a loop.
    if (flags & FLAG.QR) {
      this.c.dropped++;
      return;
    }
    const opcode = (flags >> 11) & 0xf;
    const qd = msg.readUInt16BE(4);
    const nameEnd = qd === 1 ? skipQuestionName(msg) : -1;
    const qEnd = nameEnd < 0 || nameEnd + 4 > msg.length ? -1 : nameEnd + 4;
    if (qEnd < 0) {
      this.reject(msg, -1, this.here(sock, rinfo, conn), RCODE.FORMERR, 0, false);
      return;
    }
    // EDNS (RFC 6891): the common shape (just an OPT after the question) is read directly.
    let edns = false;
    let udpSize = 512;
    let dnssecOk = false;
    let version = 0;
    const an = msg.readUInt16BE(6);
    const ns = msg.readUInt16BE(8);
    const ar = msg.readUInt16BE(10);
    if (an === 0 && ns === 0 && ar === 0) {
      if (qEnd !== msg.length) {
        this.reject(msg, qEnd, this.here(sock, rinfo, conn), RCODE.FORMERR, 0, false);
        return;
      }
    } else if (
      an === 0 &&
      ns === 0 &&
      ar === 1 &&
      qEnd + 11 <= msg.length &&
      msg[qEnd] === 0 &&
      msg.readUInt16BE(qEnd + 1) === TYPE.OPT &&
      qEnd + 11 + msg.readUInt16BE(qEnd + 9) === msg.length
    ) {
      edns = true;
      udpSize = Math.max(512, msg.readUInt16BE(qEnd + 3));
      version = msg[qEnd + 6];
      dnssecOk = (msg[qEnd + 7] & 0x80) !== 0;
    } else {
      const p = parseMessage(msg);
      if (!p) {
        this.reject(msg, qEnd, this.here(sock, rinfo, conn), RCODE.FORMERR, 0, false);
        return;
      }
      if (p.opt) {
        edns = true;
        udpSize = Math.max(512, msg.readUInt16BE(p.opt.start + 3));
        version = msg[p.opt.ttlOff + 1];
        dnssecOk = (msg[p.opt.ttlOff + 2] & 0x80) !== 0;
      }
    }
    const ednsSize = edns ? udpSize : 0;
    if (version !== 0) {
      // RFC 6891 §6.1.3: BADVERS (16) is 1 in the extended RCODE with 0 in the header.
      this.reject(msg, qEnd, this.here(sock, rinfo, conn), 0, ednsSize, dnssecOk, 1);
      return;
    }
    if (opcode !== 0) {
      this.reject(msg, qEnd, this.here(sock, rinfo, conn), RCODE.NOTIMP, ednsSize, dnssecOk);
      return;
    }
    const qtype = msg.readUInt16BE(nameEnd);
    if (qtype === TYPE.OPT) {
      this.reject(msg, qEnd, this.here(sock, rinfo, conn), RCODE.FORMERR, ednsSize, dnssecOk);
      return;
    }
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) {
      this.reject(msg, qEnd, this.here(sock, rinfo, conn), RCODE.NOTIMP, ednsSize, dnssecOk);
      return;
    }
    const cd = (flags & FLAG.CD) !== 0;
    // Cache key: the name lowercased (RFC 4343), type, class, and the bits that change the answer.
    const s = this.scratch;
    for (let i = 12; i < nameEnd; i++) {
      const ch = msg[i];
      s[i - 12] = ch >= 0x41 && ch <= 0x5a ? ch | 0x20 : ch;
    }
    const nameLen = nameEnd - 12;
    msg.copy(s, nameLen, nameEnd, qEnd);
    s[nameLen + 4] = (cd ? 1 : 0) | (dnssecOk ? 2 : 0) | 0x30;
    const key = s.toString('latin1', 0, nameLen + 5);
    const id = msg.readUInt16BE(0);
    const rd = (flags & FLAG.RD) !== 0;
    const hit = this.cache.get(key, Date.now());
    if (hit) {
      this.c.cacheHits++;
      this.respond(
        hit.wire,
        hit.extRcode,
        id,
        rd,
        msg,
        qEnd,
        ednsSize,
        dnssecOk,
        this.here(sock, rinfo, conn),
      );
      return;
    }
    const q: Query = {
      id,
      rd,
      cd,
      question: Buffer.from(msg.subarray(12, qEnd)),
      qname: Buffer.from(s.subarray(0, nameLen)),
      qtype,
      qclass: msg.readUInt16BE(nameEnd + 2),
      edns,
      udpSize,
      dnssecOk,
    };
    const waiting = this.inflight.get(key);
    const to = this.durable(sock, rinfo, conn);
    if (waiting) {
      // Identical questions in flight share one resolution. A flood of them while the upstream
      // is slow must not grow memory without bound: past MAX_WAITERS they are dropped, and the
      // clients' own retries find the answer in the cache.
      if (waiting.length >= MAX_WAITERS) {
        this.c.dropped++;
        return;
      }
      this.c.coalesced++;
      waiting.push({ q, sink: to });
      if (to.kind === 'tcp') to.conn.inflight++;
      return;
    }
    const list = [{ q, sink: to }];
    if (to.kind === 'tcp') to.conn.inflight++;
    this.inflight.set(key, list);
    const gen = this.generation;
    this.resolve(q)
      .catch((err: Error) => {
        this.warn(`internal error answering ${nameToText(q.qname)}: ${err.message}`);
        return this.servfail(q);
      })
      .then((res) => {
        this.inflight.delete(key);
        // Resolutions still running at stop() end here: the sockets are closed.
        if (this.stopped) return;
        if (res.ttl > 0 && gen === this.generation)
          this.cache.set(key, res.wire, res.ttl, res.extRcode, Date.now());
        for (const w of list) {
          if (w.sink.kind === 'tcp') {
            w.sink.conn.inflight--;
            if (w.sink.conn.inflight < MAX_TCP_PIPELINE) w.sink.conn.sock.resume();
          }
          const qb = Buffer.alloc(12 + w.q.question.length);
          w.q.question.copy(qb, 12);
          this.respond(
            res.wire,
            res.extRcode,
            w.q.id,
            w.q.rd,
            qb,
            qb.length,
            w.q.edns ? w.q.udpSize : 0,
            w.q.dnssecOk,
            w.sink,
          );
        }
      })
      .catch((err: Error) => this.warn(`could not send an answer: ${err.message}`));
  }

  /**
   * Sends wire (a response without OPT) with the client's ID, RD bit and question spelling,
   * an OPT when the client used EDNS, truncated (TC, RFC 1035 §4.2.1 / RFC 6891 §7) when it does
   * not fit the client's UDP size.
   */
  private respond(
    wire: Buffer,
    extRcode: number,
    id: number,
    rd: boolean,
    query: Buffer,
    qEnd: number,
    /** The client's EDNS UDP size; 0 when it sent no OPT. */
    ednsSize: number,
    dnssecOk: boolean,
    /** null: the datagram being handled in a batch, answered in place in the batch's replies. */
    sink: Sink | null,
  ): void {
    const optLen = ednsSize ? 11 : 0;
    let len = wire.length + optLen;
    let out: Buffer;
    const limit = sink === null || sink.kind !== 'tcp' ? ednsSize || 512 : 65535;
    if (len <= limit) {
      // In a batch the reply is written straight into the batch's send buffer.
      const direct = sink === null ? this.reserve(len) : null;
      out = direct ?? Buffer.allocUnsafe(len);
      wire.copy(out);
      out.writeUInt16BE(id, 0);
      out[2] = (out[2] & 0xfe) | (rd ? 1 : 0);
      query.copy(out, 12, 12, qEnd);
      if (ednsSize) {
        writeOpt(out, wire.length, EDNS_UDP_SIZE, dnssecOk, extRcode);
        out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
      }
      if (direct) return;
    } else {
      // Too big: header, question and OPT only, with TC set, so the client retries over TCP.
      this.c.truncated++;
      len = qEnd + optLen;
      out = Buffer.alloc(len);
      wire.copy(out, 0, 0, 4);
      out.writeUInt16BE(id, 0);
      out[2] = (out[2] & 0xfe) | (rd ? 1 : 0) | (FLAG.TC >> 8);
      out.writeUInt16BE(1, 4);
      query.copy(out, 12, 12, qEnd);
      if (ednsSize) {
        writeOpt(out, qEnd, EDNS_UDP_SIZE, dnssecOk, extRcode);
        out.writeUInt16BE(1, 10);
      }
    }
    this.send(out, sink);
  }

  private send(out: Buffer, sink: Sink | null): void {
    if (sink === null) {
      const cur = this.cur as BatchUdpSocket;
      const room = this.reserve(out.length);
      if (room) out.copy(room);
      else {
        const i = this.curIndex;
        cur.sendTo(out, cur.addrs.subarray(i * 16, i * 16 + 16), cur.ports[i], cur.scopes[i]);
      }
    } else if (sink.kind === 'batch') sink.sock.sendTo(out, sink.addr, sink.port, sink.scope);
    else if (sink.kind === 'dgram') sink.sock.send(out, sink.port, sink.address);
    else this.sendTcp(out, sink.conn);
  }

  /** The reply address of a query as handle() gets it; null for the datagram being handled in a batch. */
  private here(sock: dgram.Socket | null, rinfo: dgram.RemoteInfo | null, conn: TcpConn | null): Sink | null {
    if (conn) return { kind: 'tcp', conn };
    if (sock && rinfo) return { kind: 'dgram', sock, port: rinfo.port, address: rinfo.address };
    return null;
  }

  /** A reply address that outlives the batch (the batch's address table is reused). */
  private durable(sock: dgram.Socket | null, rinfo: dgram.RemoteInfo | null, conn: TcpConn | null): Sink {
    const h = this.here(sock, rinfo, conn);
    if (h) return h;
    const cur = this.cur as BatchUdpSocket;
    const i = this.curIndex;
    return {
      kind: 'batch',
      sock: cur,
      addr: Buffer.from(cur.addrs.subarray(i * 16, i * 16 + 16)),
      port: cur.ports[i],
      scope: cur.scopes[i],
    };
  }

  private sendTcp(out: Buffer, conn: TcpConn): void {
    if (conn.closed || conn.sock.destroyed) return;
    // A client that stops reading is not allowed to make us buffer without end.
    if (conn.sock.writableLength > 1 << 20) {
      conn.sock.destroy();
      return;
    }
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(out.length);
    conn.sock.cork();
    conn.sock.write(len);
    conn.sock.write(out);
    conn.sock.uncork();
  }

  /** An error response built from the query: FORMERR, NOTIMP, BADVERS. */
  private reject(
    msg: Buffer,
    qEnd: number,
    sink: Sink | null,
    rcode: number,
    /** The client's EDNS UDP size; 0 when it sent no OPT. */
    ednsSize: number,
    dnssecOk: boolean,
    extRcode = 0,
  ): void {
    if (rcode === RCODE.FORMERR) this.c.formerr++;
    const qLen = qEnd > 0 ? qEnd - 12 : 0;
    const out = Buffer.alloc(12 + qLen + (ednsSize ? 11 : 0));
    msg.copy(out, 0, 0, 2);
    const flags = msg.readUInt16BE(2);
    out.writeUInt16BE(
      FLAG.QR | (flags & 0x7800) | (flags & FLAG.RD) | FLAG.RA | (flags & FLAG.CD) | rcode,
      2,
    );
    if (qLen) {
      out.writeUInt16BE(1, 4);
      msg.copy(out, 12, 12, qEnd);
    }
    if (ednsSize) {
      writeOpt(out, 12 + qLen, EDNS_UDP_SIZE, dnssecOk, extRcode);
      out.writeUInt16BE(1, 10);
    }
    this.send(out, sink);
  }

  // ---------------------------------------------------------------- resolution

  private excluded(v6: Uint8Array): boolean {
    for (const r of this.exclude) if (inPrefix6(r, v6)) return true;
    return false;
  }

  private resolve(q: Query): Promise<Result> {
    // §5: classes other than IN get no DNS64 treatment. §5.5 (3): CD=1 means the client
    // validates, so it gets the real data and never a synthesized answer.
    if (!this.synthesizing || q.qclass !== CLASS_IN || q.cd) return this.forward(q);
    if (nameToText(q.qname) === IPV4ONLY_ARPA && (q.qtype === TYPE.AAAA || q.qtype === TYPE.A)) {
      return Promise.resolve(this.ipv4only(q));
    }
    if (q.qtype === TYPE.AAAA) return this.aaaa(q);
    if (q.qtype === TYPE.PTR) return this.ptr(q);
    return this.forward(q);
  }

  private async forward(q: Query): Promise<Result> {
    // Chains are completed for data types, so every type sees the same, whole chain (§5.3.3
    // still holds: the upstream's records go out unchanged, only missing links are added).
    const chase =
      q.qclass === CLASS_IN && q.qtype !== TYPE.CNAME && q.qtype !== TYPE.ANY && q.qtype !== TYPE.DNAME;
    const r = chase
      ? await this.chased(q.qname, q.qtype, q.dnssecOk, q.cd)
      : await this.up.query(q.qname, q.qtype, q.qclass, q.cd, q.dnssecOk);
    if (!r) return this.servfail(q);
    this.c.passedThrough++;
    return this.passthrough(r, q);
  }

  /**
   * An upstream reply as the client's answer: its bytes kept as they are (signatures stay
   * valid, §5.5), the upstream's OPT removed (we add our own), ID 0, the client's question.
   */
  private passthrough(r: UpstreamReply, q: Query): Result {
    const { wire, msg } = r;
    let out: Buffer;
    if (!msg.opt) out = Buffer.from(wire);
    else if (msg.opt.end === wire.length) {
      out = Buffer.from(wire.subarray(0, msg.opt.start));
      out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
    } else {
      const b = new Builder(0, msg.flags);
      b.question(wire.subarray(12, msg.qEnd));
      for (const rr of msg.answer) b.copy(1, wire, rr);
      for (const rr of msg.authority) b.copy(2, wire, rr);
      for (const rr of msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, wire, rr);
      out = b.finish();
    }
    out.writeUInt16BE(0, 0);
    // §5.1.6 returns the A reply for an AAAA question: the client's question goes in as asked.
    q.question.copy(out, 12);
    return { wire: out, ttl: cacheTtl(out), extRcode: msg.opt ? wire[msg.opt.ttlOff] : 0 };
  }

  private servfail(q: Query): Result {
    this.c.servfail++;
    const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA | (q.cd ? FLAG.CD : 0) | RCODE.SERVFAIL);
    b.question(q.question);
    return { wire: b.finish(), ttl: 0, extRcode: 0 };
  }

  /** RFC 8880 §7.2: ipv4only.arpa is answered here, from our own prefix. */
  private ipv4only(q: Query): Result {
    const prefix = this.prefix as Pref64;
    this.c.localAnswers++;
    const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA);
    b.question(q.question);
    for (const a of IPV4ONLY_ADDRESSES) {
      const v4 = ipv4Bytes(parseIPv4(a));
      if (q.qtype === TYPE.A) b.record(1, q.qname, TYPE.A, 86400, v4);
      else b.record(1, q.qname, TYPE.AAAA, NO_SOA_TTL, embedIPv4(prefix, v4));
    }
    const wire = b.finish();
    return { wire, ttl: cacheTtl(wire), extRcode: 0 };
  }

  private async aaaa(q: Query): Promise<Result> {
    // §5.1.8: the A query goes out at the same time, so names without AAAA cost one round trip.
    // Caught here: when the AAAA answer settles things, nobody awaits this promise.
    const aQuery = this.chased(q.qname, TYPE.A, q.dnssecOk).catch(() => null);
    const r1 = await this.chased(q.qname, TYPE.AAAA, q.dnssecOk);
    let negTtl: number | null = null;
    if (r1) {
      const rc = r1.msg.rcode;
      // §5.1.2: a name error is the answer; any other error is treated as an empty answer.
      if (rc === RCODE.NXDOMAIN) {
        this.c.passedThrough++;
        return this.passthrough(r1, q);
      }
      if (rc === RCODE.NOERROR) {
        const aaaa = r1.msg.answer.filter((rr) => rr.type === TYPE.AAAA && rr.klass === CLASS_IN);
        if (aaaa.length > 0) {
          const bad = aaaa.filter(
            (rr) => rr.rdLen !== 16 || this.excluded(r1.wire.subarray(rr.rdOff, rr.rdOff + 16)),
          );
          // §5.1.1: real AAAA records win.
          if (bad.length === 0) {
            this.c.passedThrough++;
            return this.passthrough(r1, q);
          }
          // §5.1.4: excluded records are removed; when none is left the answer counts as empty.
          if (bad.length < aaaa.length) return this.filtered(r1, q, new Set(bad));
        } else {
          // §5.1.7: the AAAA reply's SOA bounds the synthesized TTL.
          negTtl = negativeTtl(r1.wire, r1.msg.authority);
        }
      }
    }
    // §5.1.3: no answer in time counts as an empty answer too; §5.1.6: now the A records.
    const r2 = await aQuery;
    if (!r2) return this.servfail(q);
    // §5.1.6: an error from the A query is the basis of the answer.
    if (r2.msg.rcode !== RCODE.NOERROR) {
      this.c.passedThrough++;
      return this.passthrough(r2, q);
    }
    // The prefix in force now, not when the query came: discovery may have changed it while the
    // upstreams answered (the result is then not cached: the generation moved on). No prefix any
    // more means passing through, as a query arriving now would be.
    const prefix = this.prefix;
    if (!prefix) {
      this.c.passedThrough++;
      return r1 ? this.passthrough(r1, q) : this.servfail(q);
    }
    return this.synthesize(r2, q, prefix, negTtl ?? NO_SOA_TTL);
  }

  /**
   * §5.1.5: the chain is followed to its end. A resolver normally does that for us; when its
   * answer stops at a CNAME whose target it did not resolve (unbound's local data does this),
   * we ask for the target ourselves, at most MAX_CHASE times, and join the answers.
   */
  private async chased(
    qname: Buffer,
    qtype: number,
    dnssecOk: boolean,
    cd = false,
  ): Promise<UpstreamReply | null> {
    let r = await this.up.query(qname, qtype, CLASS_IN, cd, dnssecOk);
    for (let hop = 0; r && hop < MAX_CHASE && r.msg.rcode === RCODE.NOERROR; hop++) {
      const target = danglingTarget(r, qname, qtype);
      if (!target) break;
      const next = await this.up.query(target, qtype, CLASS_IN, cd, dnssecOk);
      if (!next) return null;
      r = joinChain(r, next);
      // The target has no data of this type: the chain ends here, in NODATA.
      if (next.msg.answer.length === 0) break;
    }
    return r;
  }

  /** §5.1.7 and §5.4: the A reply with each A record replaced by its AAAA, in order. */
  private synthesize(r: UpstreamReply, q: Query, prefix: Pref64, ttlBound: number): Result {
    const { wire, msg } = r;
    // §5.4: header as for any recursive answer; AD never set on synthesized data (§5.5), AA not
    // either, since we are not the zone's authority.
    const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA | (msg.flags & 0xf));
    b.question(q.question);
    let made = 0;
    for (const rr of msg.answer) {
      if (rr.type === TYPE.A && rr.klass === CLASS_IN) {
        if (rr.rdLen !== 4) continue;
        const v4 = wire.subarray(rr.rdOff, rr.rdOff + 4);
        // RFC 6052 §3.1: the Well-Known Prefix never represents non-global IPv4 addresses.
        if (!maySynthesize(prefix, v4)) continue;
        b.record(1, b.ownerOf(wire, rr), TYPE.AAAA, Math.min(rr.ttl, ttlBound), embedIPv4(prefix, v4));
        made++;
      } else if (rr.type === TYPE.RRSIG && rr.rdLen >= 2 && wire.readUInt16BE(rr.rdOff) === TYPE.A) {
        // Signatures over the A RRset mean nothing next to the AAAA made from it.
        continue;
      } else {
        // §5.1.5: CNAME and DNAME chains stay in the answer.
        b.copy(1, wire, rr);
      }
    }
    // §5.4: authority and additional come from the final (A) reply; §5.3.2: nothing in the
    // additional section is synthesized.
    for (const rr of msg.authority) b.copy(2, wire, rr);
    for (const rr of msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, wire, rr);
    const out = b.finish();
    if (made > 0) this.c.synthesized++;
    return { wire: out, ttl: cacheTtl(out), extRcode: 0 };
  }

  /** §5.1.4: the AAAA reply without its excluded records (their signatures go too). */
  private filtered(r: UpstreamReply, q: Query, bad: Set<unknown>): Result {
    const { wire, msg } = r;
    const b = new Builder(0, (msg.flags & ~FLAG.AD & 0x7fff) | FLAG.QR);
    b.question(q.question);
    for (const rr of msg.answer) {
      if (bad.has(rr)) continue;
      if (rr.type === TYPE.RRSIG && rr.rdLen >= 2 && wire.readUInt16BE(rr.rdOff) === TYPE.AAAA) continue;
      b.copy(1, wire, rr);
    }
    for (const rr of msg.authority) b.copy(2, wire, rr);
    for (const rr of msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, wire, rr);
    const out = b.finish();
    return { wire: out, ttl: cacheTtl(out), extRcode: 0 };
  }

  /**
   * §5.3.1: a PTR question for an address under our prefix gets a CNAME to the in-addr.arpa
   * name of the embedded IPv4 address, followed by what the upstreams answer for that name.
   */
  private async ptr(q: Query): Promise<Result> {
    const prefix = this.prefix as Pref64;
    const v6 = parseIp6Arpa(nameToText(q.qname));
    const v4 = v6 ? extractIPv4(prefix, v6) : null;
    if (!v4) return this.forward(q);
    const target = textToName(inAddrArpaName(v4));
    const r = await this.up.query(target, TYPE.PTR, CLASS_IN, false, q.dnssecOk);
    if (!r) return this.servfail(q);
    const { wire, msg } = r;
    const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA | (msg.flags & 0xf));
    b.question(q.question);
    b.record(1, q.qname, TYPE.CNAME, NO_SOA_TTL, target);
    for (const rr of msg.answer) b.copy(1, wire, rr);
    for (const rr of msg.authority) b.copy(2, wire, rr);
    for (const rr of msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, wire, rr);
    const out = b.finish();
    this.c.ptrSynthesized++;
    return { wire: out, ttl: cacheTtl(out), extRcode: msg.opt ? wire[msg.opt.ttlOff] : 0 };
  }
}

/**
 * dgram resolves every destination through dns.lookup, which answers even an IP literal on the
 * next tick. We only ever send to literals (the client's own address), so we answer at once:
 * one deferral less per reply on the hot path.
 */
export function literalLookup(
  address: string,
  family: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  // dgram passes 4 or 6 for its socket type (lookup4/lookup6).
  callback(null, address, family === 6 ? 6 : 4);
}

/**
 * The name a CNAME chain in r's answer ends at, when r holds no qtype record for it (so the
 * chain dangles); null when there is no chain or it ends in data.
 */
function danglingTarget(r: UpstreamReply, qname: Buffer, qtype: number): Buffer | null {
  const { wire, msg } = r;
  const owners = msg.answer.map((rr) => readName(wire, rr.start));
  let name: Buffer = qname;
  for (let step = 0; step <= msg.answer.length; step++) {
    const i = msg.answer.findIndex(
      (rr, k) => rr.type === TYPE.CNAME && owners[k] && namesEqual(owners[k] as Buffer, name),
    );
    if (i < 0) break;
    const next = readName(wire, msg.answer[i].rdOff);
    if (!next) return null;
    name = next;
  }
  if (name === qname) return null;
  const has = msg.answer.some(
    (rr, k) => rr.type === qtype && owners[k] && namesEqual(owners[k] as Buffer, name),
  );
  return has ? null : name;
}

/** r's answer followed by next's; the rest (RCODE, authority, additional) from next. */
function joinChain(r: UpstreamReply, next: UpstreamReply): UpstreamReply {
  const ad = r.msg.flags & next.msg.flags & FLAG.AD;
  const b = new Builder(r.msg.id, (next.msg.flags & ~FLAG.AD) | ad);
  b.question(r.wire.subarray(12, r.msg.qEnd));
  for (const rr of r.msg.answer) b.copy(1, r.wire, rr);
  for (const rr of next.msg.answer) b.copy(1, next.wire, rr);
  for (const rr of next.msg.authority) b.copy(2, next.wire, rr);
  for (const rr of next.msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, next.wire, rr);
  const wire = b.finish();
  const msg = parseMessage(wire);
  if (!msg) throw new Error('joined chain does not parse');
  return { wire, msg, server: next.server, tcp: r.tcp || next.tcp };
}

/**
 * How long a response may be cached: the smallest TTL in it for positive answers, the negative
 * TTL of its SOA for NXDOMAIN and NODATA (RFC 2308 §5), nothing for errors and truncation.
 */
export function cacheTtl(wire: Buffer): number {
  const msg: Parsed | null = parseMessage(wire);
  if (!msg || msg.flags & FLAG.TC) return 0;
  const rc = msg.flags & 0xf;
  if (rc === RCODE.NOERROR && msg.answer.length > 0) {
    let min = Infinity;
    for (const rr of [...msg.answer, ...msg.authority, ...msg.additional]) {
      if (rr.type !== TYPE.OPT && rr.ttl < min) min = rr.ttl;
    }
    return min === Infinity ? 0 : min;
  }
  if (rc === RCODE.NOERROR || rc === RCODE.NXDOMAIN) return negativeTtl(wire, msg.authority) ?? 0;
  return 0;
}
