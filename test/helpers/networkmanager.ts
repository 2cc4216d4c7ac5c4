// Starts the FAKE NetworkManager (fake-networkmanager.ts) on a private bus for a test, and gives
// what it reports: every Device.Reapply it took, and a way to tell it what NetworkManager's
// DHCPv4 client saw or that the device was activated anew (its stdin commands).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { waitFor } from './clat-lab.js';

const FAKE = new URL('./fake-networkmanager.js', import.meta.url).pathname;

export interface FakeNetworkManager {
  proc: ChildProcessByStdio<Writable, Readable, null>;
  /** Every Reapply the fake took: the interface and the ipv4 setting sent (plain values). */
  reapplies: Array<{ reapply: string; ipv4: Record<string, unknown> }>;
  /** Sends one stdin command ({"dhcp4": ...} or {"activate": ...}); resolves once it is taken. */
  send(cmd: object): Promise<void>;
  /** Resolves once the fake reported n Reapply calls in all. */
  reapplied(n: number): Promise<void>;
  stop(): void;
}

/** env: the private bus's (PrivateBus.env); devices and version as fake-networkmanager.ts takes them. */
export async function startFakeNetworkManager(
  env: NodeJS.ProcessEnv,
  devices: object,
  version: string,
): Promise<FakeNetworkManager> {
  const proc = spawn(process.execPath, [FAKE, JSON.stringify(devices), JSON.stringify({ version })], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let oks = 0;
  let owning = false;
  const reapplies: FakeNetworkManager['reapplies'] = [];
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('{')) reapplies.push(JSON.parse(l) as FakeNetworkManager['reapplies'][number]);
      else if (l === 'ok') oks++;
      else if (l.includes('owning')) owning = true;
    }
  });
  await waitFor('the fake NetworkManager to own its name', () => owning || proc.exitCode !== null);
  if (!owning) throw new Error(`the fake NetworkManager exited (${proc.exitCode})`);
  return {
    proc,
    reapplies,
    async send(cmd) {
      const want = oks + 1;
      proc.stdin.write(`${JSON.stringify(cmd)}\n`);
      await waitFor('the fake NetworkManager to take the command', () => oks >= want);
    },
    reapplied: (n) => waitFor(`the fake NetworkManager to report Reapply ${n}`, () => reapplies.length >= n),
    stop: () => void proc.kill(),
  };
}
