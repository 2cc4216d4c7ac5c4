// Whether this process may change the network: root, or CAP_NET_ADMIN in its effective set
// (a systemd unit with AmbientCapabilities=CAP_NET_ADMIN runs the engine without full root).
import { readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12n;

export function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n : false;
  } catch {
    return false;
  }
}
