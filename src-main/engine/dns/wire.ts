// Wire-format DNS helpers for the DNS64's hot and careful paths: reading headers, questions and
// resource records without building objects per field, following compression pointers with a
// bound (a pointer loop in a hostile message costs at most MAX_HOPS steps, never a hang), and
// assembling responses from pieces of upstream answers. dns-packet is used where convenience
// beats speed (tests, local answers); a message passed through keeps its exact bytes here.

export const TYPE = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  PTR: 12,
  MINFO: 14,
  MX: 15,
  AAAA: 28,
  DNAME: 39,
  OPT: 41,
  RRSIG: 46,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Header flag bits (second and third byte as one 16-bit word). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Our UDP payload size towards upstreams and clients (DNS flag day 2020: 1232). */
export const EDNS_UDP_SIZE = 1232;
const MAX_HOPS = 64;
const MAX_NAME = 255;

export interface RR {
  /** Offset of the owner name. */
  start: number;
  type: number;
  klass: number;
  ttl: number;
  /** Offset of the 32-bit TTL field, for patching aged TTLs in cached answers. */
  ttlOff: number;
  rdOff: number;
  rdLen: number;
  /** Offset just past this record. */
  end: number;
}

/** Offset just past the name at off (pointers end it), or -1 if it runs off the message. */
export function skipName(buf: Uint8Array, off: number): number {
  let total = 0;
  for (;;) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    total += len + 1;
    if (total > MAX_NAME) return -1;
    off += len + 1;
  }
}

/**
 * The name at off, decompressed, as wire labels ending with the root byte; null when malformed
 * (out of bounds, a pointer loop, longer than 255 bytes, a reserved label type).
 */
export function readName(buf: Uint8Array, off: number): Buffer | null {
  const out: number[] = [];
  let hops = 0;
  for (;;) {
    if (off >= buf.length) return null;
    const len = buf[off];
    if (len === 0) {
      out.push(0);
      return out.length > MAX_NAME ? null : Buffer.from(out);
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length || ++hops > MAX_HOPS) return null;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    if ((len & 0xc0) !== 0 || off + 1 + len > buf.length) return null;
    for (let i = off; i <= off + len; i++) out.push(buf[i]);
    if (out.length > MAX_NAME) return null;
    off += len + 1;
  }
}

/**
 * Whether the name at off decompresses (in bounds, no pointer loop, at most 255 bytes), without
 * building it: the check readName makes, for names that are only passed along.
 */
export function nameWalks(buf: Uint8Array, off: number): boolean {
  let hops = 0;
  let total = 0;
  for (;;) {
    if (off >= buf.length) return false;
    const len = buf[off];
    if (len === 0) return total < MAX_NAME;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length || ++hops > MAX_HOPS) return false;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    total += len + 1;
    if ((len & 0xc0) !== 0 || off + 1 + len > buf.length || total >= MAX_NAME) return false;
    off += len + 1;
  }
}

/** Dotted lowercase text of wire labels (for logs and name matching); escapes odd bytes. */
export function nameToText(labels: Uint8Array): string {
  const parts: string[] = [];
  let off = 0;
  while (off < labels.length && labels[off] !== 0) {
    const len = labels[off];
    let s = '';
    for (let i = off + 1; i <= off + len; i++) {
      let c = labels[i];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c === 0x2e || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
      else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += `\\${c.toString().padStart(3, '0')}`;
    }
    parts.push(s);
    off += len + 1;
  }
  return parts.length ? `${parts.join('.')}.` : '.';
}

/** Wire labels of a dotted name (no escapes needed for the names we generate). */
export function textToName(text: string): Buffer {
  const labels = text.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: number[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    if (b.length > 63) throw new Error(`label too long in ${text}`);
    parts.push(b.length, ...b);
  }
  parts.push(0);
  return Buffer.from(parts);
}

/** Case-insensitive equality of two wire names (ASCII folding only, RFC 4343). */
export function namesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i];
    let y = b[i];
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Parses count records from off into out; returns the offset after them, or -1 when one is
 * malformed or runs off the end.
 */
/** RR types whose RDATA is a single domain name: CNAME, NS, PTR, DNAME. */
const NAME_RDATA = new Set([5, 2, 12, 39]);

export function walkRRs(buf: Buffer, off: number, count: number, out: RR[]): number {
  for (let i = 0; i < count; i++) {
    const start = off;
    off = skipName(buf, off);
    if (off < 0 || off + 10 > buf.length) return -1;
    const rdLen = buf.readUInt16BE(off + 8);
    const rdOff = off + 10;
    if (rdOff + rdLen > buf.length) return -1;
    // A message whose names loop or point outside it is malformed, and is never passed on
    // (found by the soak's hostile upstream): owner names, and the RDATA that is one name.
    const type = buf.readUInt16BE(off);
    if (!nameWalks(buf, start)) return -1;
    if (NAME_RDATA.has(type) && (rdLen === 0 || !nameWalks(buf, rdOff))) return -1;
    out.push({
      start,
      type: buf.readUInt16BE(off),
      klass: buf.readUInt16BE(off + 2),
      ttl: buf.readUInt32BE(off + 4),
      ttlOff: off + 4,
      rdOff,
      rdLen,
      end: rdOff + rdLen,
    });
    off = rdOff + rdLen;
  }
  return off;
}

export interface Parsed {
  id: number;
  flags: number;
  rcode: number;
  /** End of the (single) question; the question is buf[12, qEnd). */
  qEnd: number;
  qtype: number;
  qclass: number;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** The OPT record, if any (RFC 6891). */
  opt: RR | null;
}

/**
 * Parses a whole message with exactly one question. Returns null when it is malformed (the
 * caller then answers FORMERR or drops it, or treats an upstream reply as a failure).
 */
export function parseMessage(buf: Buffer): Parsed | null {
  if (buf.length < 12) return null;
  if (buf.readUInt16BE(4) !== 1) return null;
  const nameEnd = skipQuestionName(buf);
  if (nameEnd < 0 || nameEnd + 4 > buf.length) return null;
  const qEnd = nameEnd + 4;
  const answer: RR[] = [];
  const authority: RR[] = [];
  const additional: RR[] = [];
  let off = walkRRs(buf, qEnd, buf.readUInt16BE(6), answer);
  if (off >= 0) off = walkRRs(buf, off, buf.readUInt16BE(8), authority);
  if (off >= 0) off = walkRRs(buf, off, buf.readUInt16BE(10), additional);
  if (off < 0) return null;
  let opt: RR | null = null;
  for (const rr of additional) {
    if (rr.type !== TYPE.OPT) continue;
    // RFC 6891 §6.1.1: one OPT at most, owned by the root.
    if (opt || buf[rr.start] !== 0) return null;
    opt = rr;
  }
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    flags,
    rcode: (flags & 0xf) | (opt ? buf[opt.ttlOff] << 4 : 0),
    qEnd,
    qtype: buf.readUInt16BE(nameEnd),
    qclass: buf.readUInt16BE(nameEnd + 2),
    answer,
    authority,
    additional,
    opt,
  };
}

/**
 * End of the question's name at offset 12. Question names must not be compressed: at offset 12
 * a pointer could only point into the header, so one means a malformed message.
 */
export function skipQuestionName(buf: Uint8Array): number {
  let off = 12;
  let total = 0;
  for (;;) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if (len > 63) return -1;
    total += len + 1;
    if (total > MAX_NAME) return -1;
    off += len + 1;
  }
}

/** Writes an OPT RR (RFC 6891 §6.1.2) at off; returns the offset after it (11 bytes). */
export function writeOpt(buf: Buffer, off: number, udpSize: number, dnssecOk: boolean, extRcode = 0): number {
  buf[off] = 0;
  buf.writeUInt16BE(TYPE.OPT, off + 1);
  buf.writeUInt16BE(udpSize, off + 3);
  buf[off + 5] = extRcode;
  buf[off + 6] = 0; // version 0
  buf.writeUInt16BE(dnssecOk ? 0x8000 : 0, off + 7);
  buf.writeUInt16BE(0, off + 9);
  return off + 11;
}

/** RDATA layouts whose names may be compressed and so must be expanded when copied (RFC 3597 §4). */
function compressedRdata(type: number): 'name' | 'soa' | 'mx' | 'minfo' | null {
  switch (type) {
    case TYPE.NS:
    case TYPE.MD:
    case TYPE.MF:
    case TYPE.CNAME:
    case TYPE.MB:
    case TYPE.MG:
    case TYPE.MR:
    case TYPE.PTR:
      return 'name';
    case TYPE.SOA:
      return 'soa';
    case TYPE.MX:
      return 'mx';
    case TYPE.MINFO:
      return 'minfo';
    default:
      return null;
  }
}

/**
 * Assembles a new message from pieces of others. Names from other messages are expanded and
 * compressed again against this message's own names (RFC 1035 §4.1.4), so copied records stay
 * valid wherever they land, and answers stay as small as the upstream's (which matters for the
 * 512-byte limit of clients without EDNS). Only owner names and the RDATA names RFC 3597 §4
 * allows are compressed. Throws when the result would pass 65535 bytes or a copied record is
 * malformed; callers turn that into SERVFAIL.
 */
export class Builder {
  private buf = Buffer.allocUnsafe(512);
  private len = 12;
  private readonly counts = [0, 0, 0, 0];
  /** Lowercased wire suffixes already written, and where. */
  private readonly names = new Map<string, number>();

  constructor(id: number, flags: number) {
    this.buf.writeUInt16BE(id, 0);
    this.buf.writeUInt16BE(flags, 2);
  }

  private room(n: number): void {
    if (this.len + n > 65535) throw new Error('message too large');
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.min(65535, Math.max(this.buf.length * 2, this.len + n)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  /** Question section: raw question bytes (name + type + class). */
  question(raw: Uint8Array): void {
    const at = this.len;
    this.bytes(raw);
    const end = skipName(raw, 0);
    if (end > 0) this.remember(Buffer.from(raw.subarray(0, end)), at);
    this.counts[0]++;
  }

  /** Records where each suffix of labels (a whole name) starts, for suffixes before limit. */
  private remember(labels: Buffer, at: number, limit = labels.length): void {
    for (let off = 0; off < limit && labels[off] !== 0 && at + off < 0x4000; off += labels[off] + 1) {
      const key = lowerKey(labels, off);
      if (!this.names.has(key)) this.names.set(key, at + off);
    }
  }

  /** Writes wire labels (uncompressed, root-terminated), pointing at an earlier copy of a suffix. */
  name(labels: Buffer, compress = true): void {
    const at = this.len;
    if (compress) {
      for (let off = 0; off < labels.length && labels[off] !== 0; off += labels[off] + 1) {
        const ptr = this.names.get(lowerKey(labels, off));
        if (ptr === undefined) continue;
        this.bytes(labels.subarray(0, off));
        this.u16(0xc000 | ptr);
        this.remember(labels, at, off);
        return;
      }
    }
    this.bytes(labels);
    this.remember(labels, at);
  }

  private nameFrom(src: Buffer, off: number, compress: boolean): void {
    const n = readName(src, off);
    if (!n) throw new Error('malformed name');
    this.name(n, compress);
  }

  /** Copies a record of src into section (1 answer, 2 authority, 3 additional), names expanded. */
  copy(section: 1 | 2 | 3, src: Buffer, rr: RR, ttl = rr.ttl): void {
    this.nameFrom(src, rr.start, true);
    this.u16(rr.type);
    this.u16(rr.klass);
    this.u32(ttl);
    const lenAt = this.len;
    this.u16(0);
    const kind = compressedRdata(rr.type);
    const end = rr.rdOff + rr.rdLen;
    if (kind === null) {
      this.bytes(src.subarray(rr.rdOff, end));
    } else {
      let off = rr.rdOff;
      if (kind === 'mx') {
        if (rr.rdLen < 3) throw new Error('malformed MX');
        this.bytes(src.subarray(off, off + 2));
        off += 2;
      }
      const names = kind === 'soa' || kind === 'minfo' ? 2 : 1;
      for (let i = 0; i < names; i++) {
        this.nameFrom(src, off, true);
        off = skipName(src, off);
        if (off < 0 || off > end) throw new Error('malformed rdata');
      }
      if (kind === 'soa') {
        if (off + 20 !== end) throw new Error('malformed SOA');
        this.bytes(src.subarray(off, end));
      } else if (off !== end) throw new Error('malformed rdata');
    }
    this.buf.writeUInt16BE(this.len - lenAt - 2, lenAt);
    this.counts[section]++;
  }

  /** A record with owner copied from src at ownerOff and the given type and RDATA. */
  record(section: 1 | 2 | 3, owner: Buffer, type: number, ttl: number, rdata: Uint8Array): void {
    this.name(owner);
    this.u16(type);
    this.u16(CLASS_IN);
    this.u32(ttl);
    this.u16(rdata.length);
    this.bytes(rdata);
    this.counts[section]++;
  }

  ownerOf(src: Buffer, rr: RR): Buffer {
    const n = readName(src, rr.start);
    if (!n) throw new Error('malformed name');
    return n;
  }

  finish(): Buffer {
    for (let i = 0; i < 4; i++) this.buf.writeUInt16BE(this.counts[i], 4 + i * 2);
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** Map key of the name suffix at off: the rest of the labels, ASCII lowercased. */
function lowerKey(labels: Uint8Array, off: number): string {
  let k = '';
  for (let i = off; i < labels.length; i++) {
    const c = labels[i];
    k += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return k;
}

/** Negative-caching TTL of a response: min(SOA TTL, SOA MINIMUM) of an authority SOA (RFC 2308 §5). */
export function negativeTtl(buf: Buffer, authority: RR[]): number | null {
  for (const rr of authority) {
    if (rr.type !== TYPE.SOA || rr.rdLen < 22) continue;
    const minimum = buf.readUInt32BE(rr.rdOff + rr.rdLen - 4);
    return Math.min(rr.ttl, minimum);
  }
  return null;
}
