// Internet checksum and byte helpers for the soak's packet generator and checker, written here
// on purpose: the checker must not share a line of code with the translator it checks
// (src-main/engine/siit/), or a bug in one would hide in the other.

/** One's-complement sum of bytes [off, off+len) (odd length padded with a zero byte), unfolded. */
export function sum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

/** Folds a sum to 16 bits and complements it: the value that goes into a checksum field. */
export function complement(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** True when the bytes (checksum field included) sum to 0xffff, i.e. the checksum is right. */
export function verifies(b: Uint8Array, off: number, len: number, init = 0): boolean {
  return complement(sum(b, off, len, init)) === 0;
}

export const get16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const get32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
}

/** Pseudo-header sums (RFC 768 / RFC 8200 §8.1), without the length and protocol. */
export const addrSum4 = (b: Uint8Array, srcOff: number): number => sum(b, srcOff, 8);
export const addrSum6 = (b: Uint8Array, srcOff: number): number => sum(b, srcOff, 32);

export function eqBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** 2001:db8::1 style text to 16 bytes (full or :: forms; no embedded dotted quads). */
export function v6(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => put16(out, i * 2, parseInt(g, 16)));
  return out;
}

/** 192.0.2.1 to a uint32. */
export const v4 = (text: string): number => text.split('.').reduce((a, x) => a * 256 + Number(x), 0) >>> 0;

/** Deterministic PRNG (xorshift32): the same seed gives the same packets on every machine. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor((this.u32() / 0x100000000) * max);
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  fill(b: Uint8Array, off: number, len: number): void {
    for (let i = 0; i < len; i++) b[off + i] = this.u32() & 0xff;
  }
}

/** A seed for batch k of a run seeded with `run` (splitmix-style mixing, 32 bits). */
export function batchSeed(run: number, k: number): number {
  let z = (run + Math.imul(k + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0 || 1;
}
