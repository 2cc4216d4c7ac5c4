// Reverse-mapping names: ip6.arpa (RFC 3596 §2.5) and in-addr.arpa (RFC 1035 §3.5), which the
// DNS64 reads and writes for PTR queries (RFC 6147 §5.3.1).

/** The ip6.arpa name of a 16-byte address, without the trailing dot. */
export function ip6ArpaName(v6: Uint8Array): string {
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((v6[i] & 0xf).toString(16), (v6[i] >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** The 16 bytes named by a full 32-nibble ip6.arpa name, or null for anything else. */
export function parseIp6Arpa(name: string): Uint8Array | null {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length !== 34 || labels[32] !== 'ip6' || labels[33] !== 'arpa') return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 32; i++) {
    const l = labels[i];
    if (!/^[0-9a-f]$/.test(l)) return null;
    const v = parseInt(l, 16);
    const byte = 15 - (i >> 1);
    out[byte] |= i & 1 ? v << 4 : v;
  }
  return out;
}

/** The in-addr.arpa name of the 4 bytes of an IPv4 address, without the trailing dot. */
export function inAddrArpaName(v4: Uint8Array): string {
  return `${v4[3]}.${v4[2]}.${v4[1]}.${v4[0]}.in-addr.arpa`;
}
