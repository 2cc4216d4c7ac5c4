// Per-call flags of Translator.translate*(), in their own module so that the direction modules
// can use them without a runtime import cycle through translator.ts.

/** Per-call flags. */
export const FLAG = {
  /** Internal: second pass of a hairpinned packet (RFC 7757 §4.2). */
  hairpin: 1,
  /** A GSO super-packet: never fragment, never answer Packet Too Big / Fragmentation Needed. */
  gso: 2,
  /** The TCP/UDP checksum field is a partial (pseudo-header) sum: VIRTIO_NET_HDR_F_NEEDS_CSUM. */
  csumPartial: 4,
} as const;
