// Internet checksum arithmetic: RFC 1071 (the sum) and RFC 1624 (incremental update).
// Sums are kept as plain numbers below 2^32 and folded on demand: a packet is at most 64 KiB,
// so 32768 words of 0xffff never overflow that range.

/** Adds the 16-bit big-endian words of buf[off, off+len) to `sum` (RFC 1071 §4.1); odd tail padded. */
export function sum16(buf: Uint8Array, off: number, len: number, sum: number): number {
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i === end) sum += buf[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

/** The checksum field value for a running sum: ~fold(sum). */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Sum of the two 16-bit halves of an IPv4 address held as a uint32. */
export function sumAddr4(a: number): number {
  return (a >>> 16) + (a & 0xffff);
}

/** Sum of the eight 16-bit words of an IPv6 address at b[off]. */
export function sumAddr6(b: Uint8Array, off: number): number {
  return (
    ((b[off] << 8) | b[off + 1]) +
    ((b[off + 2] << 8) | b[off + 3]) +
    ((b[off + 4] << 8) | b[off + 5]) +
    ((b[off + 6] << 8) | b[off + 7]) +
    ((b[off + 8] << 8) | b[off + 9]) +
    ((b[off + 10] << 8) | b[off + 11]) +
    ((b[off + 12] << 8) | b[off + 13]) +
    ((b[off + 14] << 8) | b[off + 15])
  );
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m and m' the sums of the words that were removed
 * and added. A checksum that was wrong before stays wrong by the same amount, which is the point:
 * the translator never launders a corrupt segment into a valid one.
 */
export function adjust(check: number, oldSum: number, newSum: number): number {
  const s = (~check & 0xffff) + (~fold(oldSum) & 0xffff) + fold(newSum);
  return ~fold(s) & 0xffff;
}

/**
 * The same update for a CHECKSUM_PARTIAL field (virtio-net NEEDS_CSUM / GSO): the field holds the
 * folded pseudo-header sum, not its complement, so the difference is applied with the other sign.
 */
export function adjustPartial(field: number, oldSum: number, newSum: number): number {
  return fold(field + (~fold(oldSum) & 0xffff) + fold(newSum));
}

/** Sum of an IPv6 pseudo-header (RFC 8200 §8.1) for `len` bytes of upper layer `nh`. */
export function pseudo6(b: Uint8Array, srcOff: number, dstOff: number, len: number, nh: number): number {
  return sumAddr6(b, srcOff) + sumAddr6(b, dstOff) + (len >>> 16) + (len & 0xffff) + nh;
}

/**
 * Copies len bytes between two different buffers without creating a view (subarray() allocates
 * an object per call; the data path must not).
 */
export function copy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
}
