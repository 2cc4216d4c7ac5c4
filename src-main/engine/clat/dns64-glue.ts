// Placeholder until the DNS64 stub (issue 6) lands: --dns64 is accepted and reported.
import type { ClatEngine } from './engine.js';

export async function startDns64(
  _engine: ClatEngine,
  mode: 'auto' | 'on',
  log: (l: string) => void,
): Promise<() => void> {
  log(
    `DNS64 (${mode}) is not built into this version yet; IPv4 literals work, names need the network's DNS64`,
  );
  return () => {};
}
