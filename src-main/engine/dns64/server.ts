// The DNS64 stub (RFC 6147): listens on UDP and TCP, answers from its cache, otherwise asks the
// network's resolvers and synthesizes AAAA records from A records under the NAT64 prefix.
// This file is the server: listeners, the cache, identical questions in flight, replies. The RFC's
// rules are rfc6147.ts (pure) and resolver.ts (which upstream questions, in which order);
// the client's wire is messages.ts; transports are udp.ts, tcp.ts and native/batch-socket.ts.
//
// Section numbers in comments are RFC 6147's unless another RFC is named.
import dgram from 'node:dgram';
import net from 'node:net';
import { AnswerCache } from './cache.js';
import { AnswerTable, BatchUdpSocket, ReplyBatch, batchUdpUnavailable } from '../native/batch-socket.js';
import { EDNS_UDP_SIZE, FLAG, RCODE, TYPE, nameToText, skipQuestionName } from '../dns/wire.js';
import type { Pref64 } from '../ip/rfc6052.js';
import { formatIPv6, formatPrefix6, parsePrefix6, type Prefix6 } from '../ip/address.js';
import { Upstreams, formatServer, type UpstreamProblem, type UpstreamServer } from '../dns/upstream.js';
import { DEFAULT_EXCLUDE, servfail, type Query, type Result } from './rfc6147.js';
import { Dns64Resolver } from './resolver.js';
import {
  cacheKey,
  errorReply,
  readEdns,
  replyContextOf,
  truncatedReply,
  writeReply,
  type ReplyContext,
} from './messages.js';
import { openBatchListener, openDgramListener } from './udp.js';
import type { Dns64Mode, Dns64Options, Dns64Stats, ListenAddress } from './options.js';
import { MAX_TCP_PIPELINE, sendTcp, serveTcp, type TcpConn } from './tcp.js';
import { durableReplyTo, replyTo, type Sink } from './sink.js';
import { say, type Said, type Say } from '../../shared/say.js';

export type { Dns64Mode, Dns64Options, Dns64Stats, ListenAddress } from './options.js';

const MAX_WAITERS = 1000;
/**
 * Every query that starts a resolution is answered within this many ms: what the upstreams have
 * not settled by then is answered SERVFAIL (RFC 1035 §4.1.1: the server could not process it).
 * The attempts' own schedule can run longer (timeout x attempts, TCP retries after a truncated
 * reply at twice the timeout, CNAME hops), and stub resolvers give up on a server after 5 s
 * (glibc's RES_TIMEOUT), so an answer later than that reaches nobody. 4 s leaves a second for
 * timers that fire late on a loaded machine. The resolution goes on and is cached if it
 * succeeds, so the client's retry finds the answer.
 */
const ANSWER_WITHIN_MS = 4000;
/** Datagrams per recvmmsg, and replies per sendmmsg. */
const UDP_BATCH = 64;
/** What the reused cache-hit reply context holds between queries (it must not keep one alive). */
const EMPTY = Buffer.alloc(0);

/** A client waiting on a resolution. */
interface Waiter {
  q: Query;
  sink: Sink;
}

export class Dns64Server {
  private prefix: Pref64 | null;
  private readonly mode: Dns64Mode;
  private readonly exclude: Prefix6[];
  private readonly up: Upstreams;
  private readonly resolver: Dns64Resolver;
  private readonly cache: AnswerCache;
  private readonly log: Say;
  private readonly warn: Say;
  private readonly inflight = new Map<string, Waiter[]>();
  private readonly answerWithinMs: number;
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
  /** The reply context of the cache hit being answered (reused: the hit path allocates nothing). */
  private readonly hitReply: ReplyContext = {
    id: 0,
    rd: false,
    query: EMPTY,
    qEnd: 0,
    ednsSize: 0,
    dnssecOk: false,
  };
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
    servfailAtDeadline: 0,
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
    this.answerWithinMs = opts.answerWithinMs ?? ANSWER_WITHIN_MS;
    this.up = new Upstreams(opts.upstreams, {
      timeoutMs: opts.timeoutMs,
      attempts: opts.attempts,
      onProblem: (p) => this.warn(upstreamProblem(p)),
    });
    this.cache = new AnswerCache(opts.cache);
    this.resolver = new Dns64Resolver(
      this.up,
      { prefix: () => this.prefix, synthesizing: () => this.synthesizing, exclude: this.exclude },
      this.c,
    );
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
        void this.probe().catch((err: Error) => this.warn(say('dns64.probe-failed', { error: err.message })));
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
    this.log(text ? say('dns64.prefix', { prefix: text }) : say('dns64.no-prefix'));
    this.prefix = prefix;
    this.flush();
    if (this.mode === 'auto' && this.started) void this.probe().catch(() => {});
  }

  setUpstreams(servers: UpstreamServer[]): void {
    this.up.setServers(servers);
    this.log(say('dns64.upstreams-changed', { servers: servers.map(formatServer).join(', ') }));
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
        this.log(say('dns64.no-fast-path', { error: (err as Error).message }));
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
    const found = await this.resolver.upstreamSynthesis();
    if (this.stopped) return this.upstreamDns64;
    if (!found) {
      this.warn(
        this.upstreamDns64 ? say('dns64.probe-silent-passing') : say('dns64.probe-silent-synthesizing'),
      );
      return this.upstreamDns64;
    }
    const does = found.length > 0;
    if (does !== this.upstreamDns64) {
      this.log(
        does
          ? say('dns64.upstreams-do-dns64', { addresses: found.map(formatIPv6).join(', ') })
          : say('dns64.synthesizing'),
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
    server.on('error', (err) =>
      this.warn(say('dns64.tcp-listener-error', { address: l.address, error: err.message })),
    );
    this.tcpServers.push(server);
    this.bound.push({ address: l.address, port });
    this.log(say('dns64.listening', { address: formatServer({ address: l.address, port }) }));
  }

  private batchChecked = false;
  private batchOk = false;

  /** Whether UDP goes through the native batched sockets; says once why not when it cannot. */
  private batchUdp(): boolean {
    if (this.batchChecked) return this.batchOk;
    this.batchChecked = true;
    if (this.opts.udpBatch === false) return (this.batchOk = false);
    const why = batchUdpUnavailable();
    if (why) this.log(say('dns64.udp-unbatched', { reason: why }));
    return (this.batchOk = why === null);
  }

  private listenBatch(l: ListenAddress): number {
    const sock = openBatchListener(l, UDP_BATCH, this.warn);
    sock.onBatch((count) => this.onUdpBatch(sock, count));
    this.batchSockets.push(sock);
    this.attachAnswers();
    return sock.port;
  }

  private async listenDgram(l: ListenAddress, family: 'udp4' | 'udp6'): Promise<number> {
    const sock = await openDgramListener(l, family, this.warn);
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
          this.warn(
            say('dns64.internal-error', { client: sock.sourceAddress(i), error: (err as Error).message }),
          );
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
      this.warn(say('dns64.internal-error', { client: rinfo.address, error: (err as Error).message }));
    }
  }

  private onTcp(sock: net.Socket): void {
    this.c.tcpConnections++;
    const conn = serveTcp(sock, this.opts.tcpIdleMs ?? 10_000, {
      frame: (frame, c) => {
        this.c.tcpQueries++;
        this.handle(frame, null, null, c);
      },
      tooShort: () => this.c.dropped++,
      warn: this.warn,
      closed: (c) => this.tcpConns.delete(c),
    });
    this.tcpConns.add(conn);
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
      this.reject(msg, -1, replyTo(sock, rinfo, conn), RCODE.FORMERR, 0, false);
      return;
    }
    const e = readEdns(msg, qEnd);
    if (!e) {
      this.reject(msg, qEnd, replyTo(sock, rinfo, conn), RCODE.FORMERR, 0, false);
      return;
    }
    const { edns, udpSize, dnssecOk, version } = e;
    const ednsSize = edns ? udpSize : 0;
    if (version !== 0) {
      // RFC 6891 §6.1.3: BADVERS (16) is 1 in the extended RCODE with 0 in the header.
      this.reject(msg, qEnd, replyTo(sock, rinfo, conn), 0, ednsSize, dnssecOk, 1);
      return;
    }
    if (opcode !== 0) {
      this.reject(msg, qEnd, replyTo(sock, rinfo, conn), RCODE.NOTIMP, ednsSize, dnssecOk);
      return;
    }
    const qtype = msg.readUInt16BE(nameEnd);
    if (qtype === TYPE.OPT) {
      this.reject(msg, qEnd, replyTo(sock, rinfo, conn), RCODE.FORMERR, ednsSize, dnssecOk);
      return;
    }
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) {
      this.reject(msg, qEnd, replyTo(sock, rinfo, conn), RCODE.NOTIMP, ednsSize, dnssecOk);
      return;
    }
    const cd = (flags & FLAG.CD) !== 0;
    const s = this.scratch;
    const key = cacheKey(msg, nameEnd, qEnd, cd, dnssecOk, s);
    const nameLen = nameEnd - 12;
    const id = msg.readUInt16BE(0);
    const rd = (flags & FLAG.RD) !== 0;
    const hit = this.cache.get(key, Date.now());
    if (hit) {
      this.c.cacheHits++;
      const ctx = this.hitReply;
      ctx.id = id;
      ctx.rd = rd;
      ctx.query = msg;
      ctx.qEnd = qEnd;
      ctx.ednsSize = ednsSize;
      ctx.dnssecOk = dnssecOk;
      this.respond(hit.wire, hit.extRcode, ctx, replyTo(sock, rinfo, conn));
      ctx.query = EMPTY;
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
    const to = durableReplyTo(sock, rinfo, conn, this.cur, this.curIndex);
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
    const list: Waiter[] = [{ q, sink: to }];
    if (to.kind === 'tcp') to.conn.inflight++;
    this.inflight.set(key, list);
    const gen = this.generation;
    // The deadline: whoever still waits then gets SERVFAIL; identical questions arriving later
    // start a resolution (and a deadline) of their own.
    const deadline = setTimeout(() => {
      if (this.inflight.get(key) === list) this.inflight.delete(key);
      if (this.stopped || list.length === 0) return;
      this.c.servfailAtDeadline++;
      this.answerAll(list.splice(0), servfail(q));
    }, this.answerWithinMs);
    // Never what keeps a process alive: stop() ends the resolutions, and with them this timer.
    deadline.unref();
    this.resolver
      .resolve(q)
      .catch((err: Error) => {
        this.warn(say('dns64.internal-error-answering', { name: nameToText(q.qname), error: err.message }));
        return this.resolver.servfail(q);
      })
      .then((res) => {
        clearTimeout(deadline);
        if (this.inflight.get(key) === list) this.inflight.delete(key);
        // Resolutions still running at stop() end here: the sockets are closed.
        if (this.stopped) return;
        if (res.ttl > 0 && gen === this.generation)
          this.cache.set(key, res.wire, res.ttl, res.extRcode, Date.now());
        // Past the deadline the list is empty: those clients had their SERVFAIL.
        this.answerAll(list.splice(0), res);
      })
      .catch((err: Error) => this.warn(say('dns64.send-failed', { error: err.message })));
  }

  /** Sends a resolution's result to the clients that waited on it. */
  private answerAll(waiters: Waiter[], res: Result): void {
    for (const w of waiters) {
      if (w.sink.kind === 'tcp') {
        w.sink.conn.inflight--;
        if (w.sink.conn.inflight < MAX_TCP_PIPELINE) w.sink.conn.sock.resume();
      }
      this.respond(res.wire, res.extRcode, replyContextOf(w.q), w.sink);
    }
  }

  /**
   * Sends wire (a response without OPT) with the client's ID, RD bit and question spelling,
   * an OPT when the client used EDNS, truncated (TC, RFC 1035 §4.2.1 / RFC 6891 §7) when it does
   * not fit the client's UDP size.
   */
  private respond(
    wire: Buffer,
    extRcode: number,
    ctx: ReplyContext,
    /** null: the datagram being handled in a batch, answered in place in the batch's replies. */
    sink: Sink | null,
  ): void {
    const len = wire.length + (ctx.ednsSize ? 11 : 0);
    const limit = sink === null || sink.kind !== 'tcp' ? ctx.ednsSize || 512 : 65535;
    if (len > limit) {
      this.c.truncated++;
      this.send(truncatedReply(wire, extRcode, ctx), sink);
      return;
    }
    // In a batch the reply is written straight into the batch's send buffer.
    const direct = sink === null ? this.reserve(len) : null;
    const out = direct ?? Buffer.allocUnsafe(len);
    writeReply(out, wire, extRcode, ctx);
    if (!direct) this.send(out, sink);
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
    else sendTcp(out, sink.conn);
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
    this.send(errorReply(msg, qEnd, rcode, ednsSize, dnssecOk, extRcode), sink);
  }
}

/** An upstream that stopped answering, as a line of the log. */
function upstreamProblem(p: UpstreamProblem): Said {
  const { server, others } = p;
  const error = p.error ?? '';
  switch (p.kind) {
    case 'timeout':
      return say('upstream.timeout', { server, ms: p.ms, others });
    case 'no-route':
      return say('upstream.no-route', { server, error, others });
    case 'no-address':
      return say('upstream.no-address', { server, error, others });
    case 'firewall':
      return say('upstream.firewall', { server, error, others });
    case 'unreachable':
      return say('upstream.unreachable', { server, error, others });
  }
}
