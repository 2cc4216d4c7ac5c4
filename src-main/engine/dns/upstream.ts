// The DNS64's client side: asks the network's resolvers, over UDP with EDNS0 and a TCP retry
// when they truncate, with per-attempt timeouts, retries and failover between servers.
//
// Spoofing resistance (RFC 5452 §9): random query IDs, a small pool of sockets on random
// ephemeral ports, and a reply is accepted only from the address and port it was sent to and
// only when it repeats our question.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { parseIPv6, prefixMatch6 } from '../ip/address.js';
import {
  EDNS_UDP_SIZE,
  FLAG,
  RCODE,
  TYPE,
  namesEqual,
  parseMessage,
  skipQuestionName,
  type Parsed,
} from './wire.js';

export interface UpstreamServer {
  address: string;
  port: number;
}

export interface UpstreamOptions {
  /** Milliseconds to wait for one attempt over UDP. */
  timeoutMs?: number;
  /** Attempts in total, spread over the servers in turn. */
  attempts?: number;
  /** Sockets per address family (source ports to spread queries over). */
  sockets?: number;
  /** Most queries in flight at once; more are refused (counted as failures). */
  maxInflight?: number;
  /**
   * A server that stopped answering (at most one per server per minute); the caller puts it into
   * words (dns/ knows no catalog).
   */
  onProblem?: (p: UpstreamProblem) => void;
}

/** Why a query to one server failed: no answer in time, or a send the kernel refused at once. */
export interface UpstreamProblem {
  /** "192.0.2.53:53", "[2001:db8::53]:53". */
  server: string;
  kind: 'timeout' | 'no-route' | 'no-address' | 'firewall' | 'unreachable';
  /** The timeout, for 'timeout'. */
  ms: number;
  /** The errno code (or the message) of a refused send. */
  error?: string;
  /** How many other servers are left to try. */
  others: number;
}

export interface UpstreamReply {
  /** The reply as received (ID already checked). */
  wire: Buffer;
  msg: Parsed;
  server: UpstreamServer;
  tcp: boolean;
}

export interface UpstreamStats {
  sent: number;
  timeouts: number;
  tcpRetries: number;
  failovers: number;
  badReplies: number;
}

interface Pending {
  resolve: (r: Buffer | null) => void;
  address: string;
  port: number;
  question: Buffer;
  timer: NodeJS.Timeout;
}

/** Parses "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address; port defaults to 53. */
export function parseServer(text: string, defaultPort = 53): UpstreamServer {
  const t = text.trim();
  let address = t;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    address = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (net.isIPv4(t.split(':')[0]) && t.includes(':')) {
    const [a, p] = t.split(':');
    address = a;
    port = Number(p);
  }
  if (!net.isIP(address)) throw new Error(`'${text}' is not an IP address (with an optional :PORT)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in '${text}'`);
  return { address, port };
}

export function formatServer(s: UpstreamServer): string {
  return net.isIPv6(s.address) ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

/** A query message: one question, RD set, EDNS0 advertising 1232 bytes (RFC 6891). */
export function buildQuery(
  id: number,
  qname: Uint8Array,
  qtype: number,
  qclass: number,
  cd: boolean,
  dnssecOk: boolean,
): Buffer {
  const b = Buffer.alloc(12 + qname.length + 4 + 11);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(FLAG.RD | (cd ? FLAG.CD : 0), 2);
  b.writeUInt16BE(1, 4);
  b.writeUInt16BE(1, 10);
  b.set(qname, 12);
  let off = 12 + qname.length;
  b.writeUInt16BE(qtype, off);
  b.writeUInt16BE(qclass, off + 2);
  off += 4;
  b[off] = 0;
  b.writeUInt16BE(TYPE.OPT, off + 1);
  b.writeUInt16BE(EDNS_UDP_SIZE, off + 3);
  b.writeUInt32BE(dnssecOk ? 0x8000 : 0, off + 5);
  b.writeUInt16BE(0, off + 9);
  return b;
}

export class Upstreams {
  private servers: UpstreamServer[];
  private preferred = 0;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly socketCount: number;
  private readonly maxInflight: number;
  private readonly sockets = new Map<'udp4' | 'udp6', dgram.Socket[]>();
  private readonly pending = new Map<number, Pending>();
  private readonly tcpSockets = new Set<net.Socket>();
  private closed = false;
  private readonly onProblem: (p: UpstreamProblem) => void;
  private readonly lastComplaint = new Map<string, number>();
  /** Why the last UDP send to a server failed at once, for the log line of that attempt. */
  private readonly sendErrors = new Map<string, NodeJS.ErrnoException>();
  readonly stats: UpstreamStats = { sent: 0, timeouts: 0, tcpRetries: 0, failovers: 0, badReplies: 0 };

  constructor(servers: UpstreamServer[], opts: UpstreamOptions = {}) {
    if (servers.length === 0) throw new Error('at least one upstream resolver is needed');
    this.servers = [...servers];
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.attempts = opts.attempts ?? Math.max(2, servers.length * 2);
    this.socketCount = opts.sockets ?? 8;
    this.maxInflight = opts.maxInflight ?? 4096;
    this.onProblem = opts.onProblem ?? (() => {});
  }

  /** Says once a minute per server that it failed: at once (sendError), or by not answering. */
  private complain(server: UpstreamServer, sendError: NodeJS.ErrnoException | undefined): void {
    const key = formatServer(server);
    const now = Date.now();
    if (now - (this.lastComplaint.get(key) ?? -Infinity) < 60_000) return;
    this.lastComplaint.set(key, now);
    this.onProblem({
      server: key,
      kind: sendError ? sendFailure(sendError) : 'timeout',
      ms: this.timeoutMs,
      error: sendError ? (sendError.code ?? sendError.message) : undefined,
      others: this.servers.length - 1,
    });
  }

  get list(): readonly UpstreamServer[] {
    return this.servers;
  }

  setServers(servers: UpstreamServer[]): void {
    if (servers.length === 0) throw new Error('at least one upstream resolver is needed');
    this.servers = [...servers];
    this.preferred = 0;
  }

  /**
   * Asks the servers in turn, starting with the one that answered last, until one gives a
   * usable reply. SERVFAIL and REFUSED move on to the next server, but are returned when no
   * server does better. Null means every attempt timed out or failed.
   */
  async query(
    qname: Uint8Array,
    qtype: number,
    qclass: number,
    cd: boolean,
    dnssecOk: boolean,
  ): Promise<UpstreamReply | null> {
    let fallback: UpstreamReply | null = null;
    // Built once: each attempt writes its own ID into it before sending.
    const q = buildQuery(0, qname, qtype, qclass, cd, dnssecOk);
    const question = q.subarray(12, 12 + qname.length + 4);
    const n = this.servers.length;
    const start = this.preferred;
    for (let i = 0; i < this.attempts && !this.closed; i++) {
      const index = (start + i) % n;
      const server = this.servers[index];
      if (i > 0) this.stats.failovers++;
      const reply = await this.attempt(server, q, question);
      if (!reply) {
        if (!this.closed) {
          // A send the kernel refused at once (no route, no address of that family) is not a
          // timeout: say what it was, so the log points at the host's routing, not the server.
          const key = formatServer(server);
          const sendError = this.sendErrors.get(key);
          this.sendErrors.delete(key);
          this.complain(server, sendError);
        }
        continue;
      }
      const rc = reply.msg.rcode;
      if ((rc === RCODE.SERVFAIL || rc === RCODE.REFUSED) && i + 1 < this.attempts && n > 1) {
        fallback ??= reply;
        continue;
      }
      this.preferred = index;
      return reply;
    }
    return fallback;
  }

  /** One server asked: UDP, and TCP when the UDP reply is truncated; q is the query, question its question. */
  private async attempt(server: UpstreamServer, q: Buffer, question: Buffer): Promise<UpstreamReply | null> {
    const wire = await this.udp(server, q, question);
    if (!wire) return null;
    let msg = this.check(wire, question);
    if (!msg) return null;
    if (msg.flags & FLAG.TC) {
      // RFC 7766 §5: a truncated UDP reply is retried over TCP to the same server.
      this.stats.tcpRetries++;
      const tcpWire = await this.tcp(server, q, question);
      if (!tcpWire) return null;
      msg = this.check(tcpWire, question);
      return msg ? { wire: tcpWire, msg, server, tcp: true } : null;
    }
    return { wire, msg, server, tcp: false };
  }

  /** Parses a reply and checks that it answers our question; null (counted) otherwise. */
  private check(wire: Buffer, question: Buffer): Parsed | null {
    const msg = parseMessage(wire);
    if (!msg || !(msg.flags & FLAG.QR) || !namesEqual(wire.subarray(12, msg.qEnd), question)) {
      this.stats.badReplies++;
      return null;
    }
    return msg;
  }

  private socketsFor(family: 'udp4' | 'udp6'): dgram.Socket[] {
    let list = this.sockets.get(family);
    if (list) return list;
    list = [];
    for (let i = 0; i < this.socketCount; i++) {
      const s = dgram.createSocket({ type: family, lookup: literalLookup });
      const slot = i;
      s.on('message', (m, rinfo) => this.onReply(slot, family, m, rinfo));
      s.on('error', () => {
        // Errors such as ICMP port unreachable surface as a timeout of the attempt.
      });
      s.bind(0);
      s.unref();
      list.push(s);
    }
    this.sockets.set(family, list);
    return list;
  }

  private key(family: 'udp4' | 'udp6', slot: number, id: number): number {
    return ((family === 'udp6' ? 1 : 0) * 256 + slot) * 65536 + id;
  }

  private onReply(slot: number, family: 'udp4' | 'udp6', m: Buffer, rinfo: dgram.RemoteInfo): void {
    if (m.length < 12) return;
    const key = this.key(family, slot, m.readUInt16BE(0));
    const p = this.pending.get(key);
    // A reply from elsewhere, or one that does not repeat our question, is ignored: the real
    // answer may still come (RFC 5452 §9.1).
    if (!p || rinfo.port !== p.port || !sameAddress(rinfo.address, p.address)) {
      this.stats.badReplies++;
      return;
    }
    const qEnd = skipQuestionName(m);
    if (qEnd < 0 || !namesEqual(m.subarray(12, qEnd + 4), p.question)) {
      this.stats.badReplies++;
      return;
    }
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  private udp(server: UpstreamServer, q: Buffer, question: Buffer): Promise<Buffer | null> {
    if (this.closed || this.pending.size >= this.maxInflight) return Promise.resolve(null);
    const family = net.isIPv6(server.address) ? 'udp6' : 'udp4';
    const list = this.socketsFor(family);
    const slot = randomInt(list.length);
    let key: number;
    let id: number;
    do {
      id = randomInt(65536);
      key = this.key(family, slot, id);
    } while (this.pending.has(key));
    q.writeUInt16BE(id, 0);
    this.stats.sent++;
    return new Promise((resolve) => {
      // Node runs expired timers before it reads sockets: after the thread was not scheduled
      // for a while (a loaded machine, a long GC), the timer fires with the reply already
      // waiting in the socket. setImmediate lets this loop turn's read come first.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (this.pending.get(key) !== entry) return;
            this.pending.delete(key);
            this.stats.timeouts++;
            resolve(null);
          }),
        this.timeoutMs,
      );
      const entry: Pending = {
        resolve,
        address: server.address,
        port: server.port,
        question: Buffer.from(question),
        timer,
      };
      this.pending.set(key, entry);
      list[slot].send(q, server.port, server.address, (err) => {
        if (err) this.sendErrors.set(formatServer(server), err);
        if (err && this.pending.get(key)?.timer === timer) {
          this.pending.delete(key);
          clearTimeout(timer);
          resolve(null);
        }
      });
    });
  }

  /** One query over a fresh TCP connection (RFC 7766), length-prefixed; null on any failure. */
  private tcp(server: UpstreamServer, q: Buffer, question: Buffer): Promise<Buffer | null> {
    if (this.closed) return Promise.resolve(null);
    const id = randomInt(65536);
    const msg = Buffer.from(q);
    msg.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const sock = net.connect({ host: server.address, port: server.port });
      this.tcpSockets.add(sock);
      let chunks: Buffer[] = [];
      let have = 0;
      let done = false;
      const finish = (r: Buffer | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.tcpSockets.delete(sock);
        sock.destroy();
        resolve(r);
      };
      // As over UDP: a reply already read by the kernel is taken before the timeout counts.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (done) return;
            this.stats.timeouts++;
            finish(null);
          }),
        this.timeoutMs * 2,
      );
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d: Buffer) => {
        chunks.push(d);
        have += d.length;
        if (have < 2) return;
        const all = Buffer.concat(chunks);
        chunks = [all];
        const want = all.readUInt16BE(0);
        if (have < 2 + want) return;
        const reply = all.subarray(2, 2 + want);
        const qEnd = skipQuestionName(reply);
        if (
          reply.length < 12 ||
          reply.readUInt16BE(0) !== id ||
          qEnd < 0 ||
          !namesEqual(reply.subarray(12, qEnd + 4), question)
        ) {
          this.stats.badReplies++;
          finish(null);
          return;
        }
        finish(Buffer.from(reply));
      });
      sock.on('error', () => finish(null));
      sock.on('close', () => finish(null));
    });
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.pending.clear();
    for (const list of this.sockets.values()) for (const s of list) s.close();
    this.sockets.clear();
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
  }
}

/**
 * dgram resolves every destination through dns.lookup, which answers even an IP literal on the
 * next tick. Upstreams and DNS64 clients are IP literals, so this answers at once: one deferral
 * less per datagram on the hot path.
 */
export function literalLookup(
  address: string,
  family: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  // dgram passes 4 or 6 for its socket type (lookup4/lookup6).
  callback(null, address, family === 6 ? 6 : 4);
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // IPv6 text may differ in form (zero compression, case, a zone suffix): compare the bytes.
  try {
    return prefixMatch6(parseIPv6(a.split('%')[0]), 128, parseIPv6(b.split('%')[0]));
  } catch {
    return false;
  }
}

/** What a send the kernel refused at once says about the host. */
function sendFailure(err: NodeJS.ErrnoException): UpstreamProblem['kind'] {
  switch (err.code) {
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'no-route';
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return 'no-address';
    case 'EPERM':
    case 'EACCES':
      return 'firewall';
    default:
      return 'unreachable';
  }
}
