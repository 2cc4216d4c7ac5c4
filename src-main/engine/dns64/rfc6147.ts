// RFC 6147 itself, as pure functions over messages: what the DNS64 answers, given the query and
// the upstreams' replies. No sockets, no timers, no state: each function is one rule of the RFC
// (section numbers are RFC 6147's unless another RFC is named) and can be checked against it on
// its own. The order in which replies are asked for is resolver.ts; sockets are server.ts.
import {
  Builder,
  CLASS_IN,
  FLAG,
  RCODE,
  TYPE,
  nameToText,
  namesEqual,
  negativeTtl,
  parseMessage,
  readName,
  textToName,
  type Parsed,
} from '../dns/wire.js';
import { IPV4ONLY_ADDRESSES, embedIPv4, extractIPv4, maySynthesize, type Pref64 } from '../ip/rfc6052.js';
import { inPrefix6, ipv4Bytes, parseIPv4, type Prefix6 } from '../ip/address.js';
import { inAddrArpaName, parseIp6Arpa } from '../dns/reverse-names.js';
import type { UpstreamReply } from '../dns/upstream.js';

/** What a resolution produced: a response without OPT, ID 0, question as the client asked. */
export interface Result {
  wire: Buffer;
  /** Seconds it may be cached; 0 = not at all. */
  ttl: number;
  extRcode: number;
}

/** A client's query, as the resolution needs it. */
export interface Query {
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

/** §5.1.4: the default exclusion set, IPv4-mapped addresses. */
export const DEFAULT_EXCLUDE = '::ffff:0:0/96';
/** §5.1.7: the TTL bound when the AAAA reply carried no SOA. */
export const NO_SOA_TTL = 600;
/** RFC 7050 / RFC 8880: the name whose AAAA records reveal the NAT64 prefix. */
export const IPV4ONLY_ARPA = 'ipv4only.arpa.';

/** §5.1.4: whether a AAAA record's address is in the exclusion set. */
export function excluded(exclude: readonly Prefix6[], v6: Uint8Array): boolean {
  for (const r of exclude) if (inPrefix6(r, v6)) return true;
  return false;
}

/**
 * An upstream reply as the client's answer: its bytes kept as they are (signatures stay
 * valid, §5.5), the upstream's OPT removed (we add our own), ID 0, the client's question.
 */
export function passthrough(r: UpstreamReply, q: Query): Result {
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

/** SERVFAIL for the client's question (§5.1.3: the upstreams gave no usable answer). */
export function servfail(q: Query): Result {
  const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA | (q.cd ? FLAG.CD : 0) | RCODE.SERVFAIL);
  b.question(q.question);
  return { wire: b.finish(), ttl: 0, extRcode: 0 };
}

/** RFC 8880 §7.2: ipv4only.arpa is answered here, from our own prefix. */
export function ipv4onlyAnswer(q: Query, prefix: Pref64): Result {
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

/**
 * §5.1.1, §5.1.2, §5.1.4: what the AAAA reply (null: none in time) decides by itself.
 * 'answer': it is the answer (real AAAA records, or NXDOMAIN); 'filtered': some records were
 * excluded, the rest are the answer; 'synthesize': go on with the A records (§5.1.6), with the
 * TTL bound of §5.1.7 from its SOA (null: none).
 */
export type AaaaVerdict =
  | { kind: 'answer' }
  | { kind: 'filtered'; bad: Set<unknown> }
  | { kind: 'synthesize'; negTtl: number | null };

export function judgeAaaa(r1: UpstreamReply | null, exclude: readonly Prefix6[]): AaaaVerdict {
  if (!r1) return { kind: 'synthesize', negTtl: null };
  const rc = r1.msg.rcode;
  // §5.1.2: a name error is the answer; any other error is treated as an empty answer.
  if (rc === RCODE.NXDOMAIN) return { kind: 'answer' };
  if (rc !== RCODE.NOERROR) return { kind: 'synthesize', negTtl: null };
  const aaaa = r1.msg.answer.filter((rr) => rr.type === TYPE.AAAA && rr.klass === CLASS_IN);
  // §5.1.7: the AAAA reply's SOA bounds the synthesized TTL.
  if (aaaa.length === 0) return { kind: 'synthesize', negTtl: negativeTtl(r1.wire, r1.msg.authority) };
  const bad = aaaa.filter(
    (rr) => rr.rdLen !== 16 || excluded(exclude, r1.wire.subarray(rr.rdOff, rr.rdOff + 16)),
  );
  // §5.1.1: real AAAA records win.
  if (bad.length === 0) return { kind: 'answer' };
  // §5.1.4: excluded records are removed; when none is left the answer counts as empty.
  if (bad.length < aaaa.length) return { kind: 'filtered', bad: new Set(bad) };
  return { kind: 'synthesize', negTtl: null };
}

/** §5.1.7 and §5.4: the A reply with each A record replaced by its AAAA, in order. */
export function synthesize(
  r: UpstreamReply,
  q: Query,
  prefix: Pref64,
  ttlBound: number,
): { result: Result; made: number } {
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
  return { result: { wire: out, ttl: cacheTtl(out), extRcode: 0 }, made };
}

/** §5.1.4: the AAAA reply without its excluded records (their signatures go too). */
export function filtered(r: UpstreamReply, q: Query, bad: Set<unknown>): Result {
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
 * §5.3.1: for a PTR question under the prefix, the in-addr.arpa name of the embedded IPv4
 * address; null for any other name (the question is then passed through).
 */
export function ptrTarget(q: Query, prefix: Pref64): Buffer | null {
  const v6 = parseIp6Arpa(nameToText(q.qname));
  const v4 = v6 ? extractIPv4(prefix, v6) : null;
  return v4 ? textToName(inAddrArpaName(v4)) : null;
}

/** §5.3.1: a CNAME from the question to `target`, followed by what the upstreams said of it. */
export function ptrAnswer(q: Query, target: Buffer, r: UpstreamReply): Result {
  const { wire, msg } = r;
  const b = new Builder(0, FLAG.QR | FLAG.RD | FLAG.RA | (msg.flags & 0xf));
  b.question(q.question);
  b.record(1, q.qname, TYPE.CNAME, NO_SOA_TTL, target);
  for (const rr of msg.answer) b.copy(1, wire, rr);
  for (const rr of msg.authority) b.copy(2, wire, rr);
  for (const rr of msg.additional) if (rr.type !== TYPE.OPT) b.copy(3, wire, rr);
  const out = b.finish();
  return { wire: out, ttl: cacheTtl(out), extRcode: msg.opt ? wire[msg.opt.ttlOff] : 0 };
}

/**
 * The name a CNAME chain in r's answer ends at, when r holds no qtype record for it (so the
 * chain dangles); null when there is no chain or it ends in data.
 */
export function danglingTarget(r: UpstreamReply, qname: Buffer, qtype: number): Buffer | null {
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
export function joinChain(r: UpstreamReply, next: UpstreamReply): UpstreamReply {
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
