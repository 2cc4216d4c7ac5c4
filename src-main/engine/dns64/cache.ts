// Answer cache: wire-format responses keyed by the question (lowercased name, type, class and
// the CD/DO bits, which change what the answer is). Serving a hit copies the stored bytes and
// patches the ID, the client's own question spelling and the aged TTLs: no decode, no encode.
//
// Bounded by entries and bytes; on overflow the oldest insertions go first (FIFO), which keeps
// the hit path free of bookkeeping. Expired entries are dropped when met and by a sweep.
import { parseMessage, type RR, TYPE } from '../dns/wire.js';
import type { AnswerTable } from '../native/batch-socket.js';

export interface CacheEntry {
  /** Response without OPT; ID 0; question as first asked. Its TTL fields are patched in place. */
  wire: Buffer;
  /** Offsets of every TTL field and the TTLs as received. */
  ttlOffs: Uint32Array;
  ttls: Uint32Array;
  /** Extended RCODE bits for the OPT we add (RFC 6891 §6.1.3). */
  extRcode: number;
  storedAt: number;
  expiresAt: number;
  /** Whole seconds of ageing already written into wire. */
  agedSec: number;
}

/**
 * A copy of the cache kept elsewhere (the native sockets' AnswerTable, which answers hits
 * without JS): told of every insertion, removal and flush, so it never holds what this does not.
 */
export type CacheMirror = Pick<AnswerTable, 'set' | 'delete' | 'clear'>;

export interface CacheOptions {
  maxEntries?: number;
  maxBytes?: number;
  /** Longest time anything is kept, seconds. */
  maxTtl?: number;
}

export class AnswerCache {
  private readonly map = new Map<string, CacheEntry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  readonly maxTtl: number;
  private mirror: CacheMirror | null = null;

  constructor(opts: CacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10000;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.maxTtl = opts.maxTtl ?? 86400;
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /**
   * Keeps m in step with this cache (null stops it). m starts as a copy of what is held now;
   * the stored TTL fields may be aged already, which does not matter: m ages from ttls itself.
   */
  setMirror(m: CacheMirror | null): void {
    this.mirror?.clear();
    this.mirror = m;
    if (!m) return;
    m.clear();
    for (const [k, e] of this.map)
      m.set(keyBytes(k), e.wire, e.ttlOffs, e.ttls, e.extRcode, e.storedAt, e.expiresAt);
  }

  /** The live entry for key with its TTLs aged to now, or undefined. */
  get(key: string, now: number): CacheEntry | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.delete(key, e);
      return undefined;
    }
    const age = ((now - e.storedAt) / 1000) | 0;
    if (age !== e.agedSec) {
      e.agedSec = age;
      const { wire, ttlOffs, ttls } = e;
      for (let i = 0; i < ttlOffs.length; i++) {
        const t = ttls[i] - age;
        wire.writeUInt32BE(t > 0 ? t : 0, ttlOffs[i]);
      }
    }
    return e;
  }

  /** Stores wire (a parseable response without OPT) for ttlSec seconds. */
  set(key: string, wire: Buffer, ttlSec: number, extRcode: number, now: number): void {
    if (ttlSec <= 0) return;
    const msg = parseMessage(wire);
    if (!msg) return;
    const rrs: RR[] = [...msg.answer, ...msg.authority, ...msg.additional].filter((r) => r.type !== TYPE.OPT);
    const ttlOffs = new Uint32Array(rrs.length);
    const ttls = new Uint32Array(rrs.length);
    rrs.forEach((r, i) => {
      ttlOffs[i] = r.ttlOff;
      ttls[i] = r.ttl;
    });
    const old = this.map.get(key);
    if (old) this.delete(key, old);
    const entry: CacheEntry = {
      wire: Buffer.from(wire),
      ttlOffs,
      ttls,
      extRcode,
      storedAt: now,
      expiresAt: now + Math.min(ttlSec, this.maxTtl) * 1000,
      agedSec: 0,
    };
    this.map.set(key, entry);
    this.bytes += entry.wire.length + key.length + 64;
    this.mirror?.set(keyBytes(key), entry.wire, ttlOffs, ttls, extRcode, entry.storedAt, entry.expiresAt);
    this.evict();
  }

  private delete(key: string, e: CacheEntry): void {
    this.map.delete(key);
    this.bytes -= e.wire.length + key.length + 64;
    this.mirror?.delete(keyBytes(key));
  }

  private evict(): void {
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const first = this.map.entries().next();
      if (first.done) break;
      this.delete(first.value[0], first.value[1]);
    }
  }

  /** Drops expired entries (called from a timer so memory does not wait for lookups). */
  sweep(now: number): void {
    for (const [k, e] of this.map) if (now >= e.expiresAt) this.delete(k, e);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
    this.mirror?.clear();
  }
}

/** Keys are byte strings held as latin1 text (one char per byte). */
function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}
