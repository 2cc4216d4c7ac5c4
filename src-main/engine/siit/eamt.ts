// RFC 7757 Explicit Address Mapping Table: the translator's own address mapping beside RFC 6052
// (ip/rfc6052.ts). A CLAT has one entry, 192.0.0.1/32 <-> its IPv6 /128.
import { mask4, prefixMatch6, type Prefix4, type Prefix6 } from '../ip/address.js';

export interface EamEntry {
  v4: Prefix4;
  v6: Prefix6;
}

interface Eam {
  a4: number;
  m4: number;
  len4: number;
  p6: Uint8Array;
  len6: number;
}

function matchEam6(e: Eam, b: Uint8Array, off: number): boolean {
  return prefixMatch6(e.p6, e.len6, b, off);
}

/**
 * RFC 7757 Explicit Address Mapping Table. Lookups are longest-prefix matches on either side; the
 * IPv4 suffix bits are copied to the bits right after the IPv6 prefix (§3.2), the rest are zero.
 */
export class Eamt {
  private readonly by4: Eam[];
  private readonly by6: Eam[];

  constructor(entries: EamEntry[]) {
    for (const e of entries) {
      if (128 - e.v6.len < 32 - e.v4.len) {
        throw new Error('the IPv6 suffix must be at least as long as the IPv4 suffix (RFC 7757 §3.2)');
      }
    }
    const all: Eam[] = entries.map((e) => ({
      a4: e.v4.addr | 0,
      m4: mask4(e.v4.len) | 0,
      len4: e.v4.len,
      p6: e.v6.addr,
      len6: e.v6.len,
    }));
    this.by4 = [...all].sort((a, b) => b.len4 - a.len4);
    this.by6 = [...all].sort((a, b) => b.len6 - a.len6);
  }

  get size(): number {
    return this.by4.length;
  }

  private find4(v4: number): Eam | null {
    const t = this.by4;
    const x = v4 | 0;
    for (let i = 0; i < t.length; i++) if ((x & t[i].m4) === t[i].a4) return t[i];
    return null;
  }

  has4(v4: number): boolean {
    return this.find4(v4) !== null;
  }

  /** Maps v4 into out[off..off+16); false when no entry covers it. */
  map4to6(v4: number, out: Uint8Array, off: number): boolean {
    const e = this.find4(v4);
    if (e === null) return false;
    const p = e.p6;
    for (let k = 0; k < 16; k++) out[off + k] = p[k];
    const bits = 32 - e.len4;
    for (let k = 0; k < bits; k++) {
      if ((v4 >>> (bits - 1 - k)) & 1) {
        const bit = e.len6 + k;
        out[off + (bit >> 3)] |= 0x80 >> (bit & 7);
      }
    }
    return true;
  }

  /** The IPv4 address (int32) for b[off..off+16), or -1 when no entry covers it. */
  map6to4(b: Uint8Array, off: number): number {
    const t = this.by6;
    for (let i = 0; i < t.length; i++) {
      const e = t[i];
      if (!matchEam6(e, b, off)) continue;
      const bits = 32 - e.len4;
      let suffix = 0;
      for (let k = 0; k < bits; k++) {
        const bit = e.len6 + k;
        suffix = (suffix << 1) | ((b[off + (bit >> 3)] >> (7 - (bit & 7))) & 1);
      }
      return e.a4 | suffix;
    }
    return -1;
  }
}
