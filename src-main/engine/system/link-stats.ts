// The kernel's own byte counters of one interface, split by address family where the kernel
// splits them: the link's totals (/sys/class/net/IF/statistics) and its IPv6 MIB
// (/proc/net/dev_snmp6/IF, RFC 4293 ipIfStatsTable). IPv4 has no per-interface MIB, so its
// share is the total less IPv6's. Read on demand; nothing is added to the packet path.
import { readFileSync } from 'node:fs';

export interface FamilyBytes {
  /** Bytes the kernel sent out through the interface (for a TUN: what its reader was handed). */
  ipv4Out: number;
  ipv6Out: number;
  /** Bytes the kernel received on it (for a TUN: what its reader wrote). */
  ipv4In: number;
  ipv6In: number;
}

function readNumber(path: string): number {
  const n = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isFinite(n)) throw new Error(`${path}: not a number`);
  return n;
}

/** Ip6InOctets / Ip6OutOctets and friends of one interface's /proc/net/dev_snmp6 file. */
export function parseSnmp6(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The interface's bytes by family, or null when it is gone or has IPv6 off (no MIB file). */
export function familyBytes(iface: string): FamilyBytes | null {
  if (!/^[\w.-]{1,15}$/.test(iface)) throw new Error(`not an interface name: ${iface}`);
  try {
    const six = parseSnmp6(readFileSync(`/proc/net/dev_snmp6/${iface}`, 'utf8'));
    const tx = readNumber(`/sys/class/net/${iface}/statistics/tx_bytes`);
    const rx = readNumber(`/sys/class/net/${iface}/statistics/rx_bytes`);
    const ipv6Out = six.Ip6OutOctets ?? 0;
    const ipv6In = six.Ip6InOctets ?? 0;
    // Both are read at slightly different moments: never report a negative share.
    return { ipv6Out, ipv6In, ipv4Out: Math.max(0, tx - ipv6Out), ipv4In: Math.max(0, rx - ipv6In) };
  } catch {
    return null;
  }
}
