// The client side's wire format: what a query's EDNS says (RFC 6891), and the replies the stub
// writes: an answer with the client's ID, RD bit, question spelling and an OPT when it used
// EDNS; the same truncated (TC) when it does not fit the client's UDP size; error responses
// built from the query alone (FORMERR, NOTIMP, BADVERS).
import { EDNS_UDP_SIZE, FLAG, TYPE, parseMessage, writeOpt } from '../dns/wire.js';
import type { Query } from './rfc6147.js';

export interface QueryEdns {
  edns: boolean;
  /** The client's UDP size (512 without EDNS, never less). */
  udpSize: number;
  dnssecOk: boolean;
  version: number;
}

/** Reused for every query: the cache-hit path allocates nothing of its own. */
const scratch: QueryEdns = { edns: false, udpSize: 512, dnssecOk: false, version: 0 };

/**
 * The query's EDNS (the common shape, just an OPT after the question, read directly; anything
 * else through the full parser), or null for a message that is malformed (FORMERR). The object
 * returned is reused by the next call.
 */
export function readEdns(msg: Buffer, qEnd: number): QueryEdns | null {
  const e = scratch;
  e.edns = false;
  e.udpSize = 512;
  e.dnssecOk = false;
  e.version = 0;
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  if (an === 0 && ns === 0 && ar === 0) return qEnd === msg.length ? e : null;
  if (
    an === 0 &&
    ns === 0 &&
    ar === 1 &&
    qEnd + 11 <= msg.length &&
    msg[qEnd] === 0 &&
    msg.readUInt16BE(qEnd + 1) === TYPE.OPT &&
    qEnd + 11 + msg.readUInt16BE(qEnd + 9) === msg.length
  ) {
    e.edns = true;
    e.udpSize = Math.max(512, msg.readUInt16BE(qEnd + 3));
    e.version = msg[qEnd + 6];
    e.dnssecOk = (msg[qEnd + 7] & 0x80) !== 0;
    return e;
  }
  const p = parseMessage(msg);
  if (!p) return null;
  if (p.opt) {
    e.edns = true;
    e.udpSize = Math.max(512, msg.readUInt16BE(p.opt.start + 3));
    e.version = msg[p.opt.ttlOff + 1];
    e.dnssecOk = (msg[p.opt.ttlOff + 2] & 0x80) !== 0;
  }
  return e;
}

/** Our OPT record (RFC 6891) at out[at], and the additional section's count set to arcount. */
function putOpt(out: Buffer, at: number, dnssecOk: boolean, extRcode: number, arcount: number): void {
  writeOpt(out, at, EDNS_UDP_SIZE, dnssecOk, extRcode);
  out.writeUInt16BE(arcount, 10);
}

/**
 * What every reply copies from the query it answers: the client's ID, RD bit, question spelling
 * and EDNS. One object instead of six arguments; the server reuses one for cache hits, so the hit
 * path still allocates nothing of its own.
 */
export interface ReplyContext {
  id: number;
  rd: boolean;
  /** Holds the question as the client spelled it at bytes 12 to qEnd (the query itself, or a copy). */
  query: Buffer;
  qEnd: number;
  /** The client's EDNS UDP size; 0 when it sent no OPT. */
  ednsSize: number;
  dnssecOk: boolean;
}

/** The context for answering a query that waited for a resolution (its bytes are long gone). */
export function replyContextOf(q: Query): ReplyContext {
  const query = Buffer.alloc(12 + q.question.length);
  q.question.copy(query, 12);
  return {
    id: q.id,
    rd: q.rd,
    query,
    qEnd: query.length,
    ednsSize: q.edns ? q.udpSize : 0,
    dnssecOk: q.dnssecOk,
  };
}

/**
 * Writes wire (a response without OPT) into out, whose length is wire.length plus 11 when
 * ctx.ednsSize is set, with the client's ID, RD bit and question spelling, and our OPT.
 */
export function writeReply(out: Buffer, wire: Buffer, extRcode: number, ctx: ReplyContext): void {
  wire.copy(out);
  out.writeUInt16BE(ctx.id, 0);
  out[2] = (out[2] & 0xfe) | (ctx.rd ? 1 : 0);
  ctx.query.copy(out, 12, 12, ctx.qEnd);
  if (ctx.ednsSize) putOpt(out, wire.length, ctx.dnssecOk, extRcode, out.readUInt16BE(10) + 1);
}

/**
 * Too big for the client's UDP size (RFC 1035 §4.2.1 / RFC 6891 §7): header, question and OPT
 * only, with TC set, so the client retries over TCP.
 */
export function truncatedReply(wire: Buffer, extRcode: number, ctx: ReplyContext): Buffer {
  const { qEnd } = ctx;
  const out = Buffer.alloc(qEnd + (ctx.ednsSize ? 11 : 0));
  wire.copy(out, 0, 0, 4);
  out.writeUInt16BE(ctx.id, 0);
  out[2] = (out[2] & 0xfe) | (ctx.rd ? 1 : 0) | (FLAG.TC >> 8);
  out.writeUInt16BE(1, 4);
  ctx.query.copy(out, 12, 12, qEnd);
  if (ctx.ednsSize) putOpt(out, qEnd, ctx.dnssecOk, extRcode, 1);
  return out;
}

/** An error response built from the query alone (qEnd -1: no usable question). */
export function errorReply(
  msg: Buffer,
  qEnd: number,
  rcode: number,
  ednsSize: number,
  dnssecOk: boolean,
  extRcode: number,
): Buffer {
  const qLen = qEnd > 0 ? qEnd - 12 : 0;
  const out = Buffer.alloc(12 + qLen + (ednsSize ? 11 : 0));
  msg.copy(out, 0, 0, 2);
  const flags = msg.readUInt16BE(2);
  out.writeUInt16BE(FLAG.QR | (flags & 0x7800) | (flags & FLAG.RD) | FLAG.RA | (flags & FLAG.CD) | rcode, 2);
  if (qLen) {
    out.writeUInt16BE(1, 4);
    msg.copy(out, 12, 12, qEnd);
  }
  if (ednsSize) putOpt(out, 12 + qLen, dnssecOk, extRcode, 1);
  return out;
}

/**
 * The cache key of a query: the name lowercased (RFC 4343), type, class, and the bits that change
 * the answer (CD, DO), built in `scratch` (big enough for a name, 255 bytes, plus 5).
 */
export function cacheKey(
  msg: Buffer,
  nameEnd: number,
  qEnd: number,
  cd: boolean,
  dnssecOk: boolean,
  scratch: Buffer,
): string {
  const s = scratch;
  for (let i = 12; i < nameEnd; i++) {
    const ch = msg[i];
    s[i - 12] = ch >= 0x41 && ch <= 0x5a ? ch | 0x20 : ch;
  }
  const nameLen = nameEnd - 12;
  msg.copy(s, nameLen, nameEnd, qEnd);
  s[nameLen + 4] = (cd ? 1 : 0) | (dnssecOk ? 2 : 0) | 0x30;
  return s.toString('latin1', 0, nameLen + 5);
}
