// Stage 3, kill -9 cycles: the daemon runs, IPv4 works, iperf3 pushes traffic through it, and
// it is killed with SIGKILL mid-transfer; a new daemon undoes what the dead one left (its
// journal) and comes back; IPv4 works again; stopped with SIGTERM, the laptop namespace
// (links, addresses, routes, rules, proxy neighbours, sysctls, nftables, resolv.conf) equals
// the snapshot taken before the first start.
import { isDeepStrictEqual } from 'node:util';
import { SERVER_V4 } from '../helpers/clat-lab.js';
import { sleep, type SoakLab } from './lab.js';
import { Prng } from './inet.js';
import type { StageResult } from './report.js';

/** The keys of two snapshots that differ. */
function differs(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys({ ...a, ...b }).filter((k) => !isDeepStrictEqual(a[k], b[k]));
}

export async function kill9Stage(
  lab: SoakLab,
  opts: { cycles: number; seed: number; say: (s: string) => void },
): Promise<StageResult> {
  const t0 = Date.now();
  const r = new Prng(opts.seed ^ 0x9);
  const before = lab.snapshot();
  const cycles: Record<string, unknown>[] = [];
  const problems: string[] = [];
  for (let i = 0; i < opts.cycles; i++) {
    const cyc: Record<string, unknown> = { cycle: i + 1 };
    try {
      lab.startDaemon();
      await lab.until('active', (s) => s.state === 'active');
      cyc.ipv4Ms = await lab.untilIpv4();
      // iperf3 through the CLAT (TCP, or UDP at 50 Mbit/s), killed mid-transfer.
      // A fresh one-test iperf3 server per cycle: one left busy by a killed client would refuse.
      const udp = r.chance(0.5);
      const port = String(5300 + (i % 500));
      const server = lab.cl.lab.spawn(lab.cl.server, 'iperf3', ['-s', '-1', '-B', SERVER_V4, '-p', port]);
      server.stdout?.resume();
      server.stderr?.resume();
      await lab.untilListening(port);
      const client = lab.cl.lab.spawn(lab.cl.laptop, 'iperf3', [
        '-c',
        SERVER_V4,
        '-p',
        port,
        '-t',
        '10',
        '--forceflush',
        ...(udp ? ['-u', '-b', '50M'] : []),
      ]);
      let iperfOut = '';
      client.stdout?.on('data', (d: Buffer) => (iperfOut += d.toString()));
      client.stderr?.on('data', (d: Buffer) => (iperfOut += d.toString()));
      // Killed 0-2 s after iperf3's first one-second report, so that traffic is flowing: a fixed
      // 1.5-3.5 s from its start was before the first report once on the loaded machine (its
      // connection took longer to come up), and the cycle counted as "no traffic flowing".
      const flowing = () => /sec\s+[\d.]+\s+[KMG]Bytes/.test(iperfOut);
      const t0 = Date.now();
      while (!flowing() && Date.now() - t0 < 8000 && client.exitCode === null) await sleep(50);
      await sleep(r.int(2000));
      cyc.traffic = udp ? 'iperf3 UDP 50M' : 'iperf3 TCP';
      cyc.killedAfterMs = Date.now() - t0;
      cyc.trafficFlowing = flowing() && client.exitCode === null;
      await lab.killDaemon();
      cyc.leftBehind = differs(lab.snapshot(), before);
      client.kill('SIGKILL');
      server.kill('SIGKILL');
      // The next daemon recovers and comes back.
      const second = lab.startDaemon();
      await lab.until('active again', (s) => s.state === 'active');
      cyc.ipv4AgainMs = await lab.untilIpv4();
      cyc.recovered = /recover(ed|ing)/.test(second.log());
      const code = await lab.stopDaemon();
      cyc.exitCode = code;
      const diff = differs(lab.snapshot(), before);
      cyc.differsAfterStop = diff;
      if (diff.length)
        problems.push(`cycle ${i + 1}: after stop the namespace differs in ${diff.join(', ')}`);
      if (code !== 0) problems.push(`cycle ${i + 1}: the recovering daemon exited ${code}`);
      if (!cyc.trafficFlowing) problems.push(`cycle ${i + 1}: no iperf3 traffic was flowing when killed`);
    } catch (err) {
      problems.push(`cycle ${i + 1}: ${(err as Error).message.slice(0, 1500)}`);
      await lab.killDaemon().catch(() => {});
    }
    cycles.push(cyc);
    opts.say(
      `  cycle ${i + 1}: IPv4 ${cyc.ipv4Ms} ms, ${cyc.traffic} killed after ${cyc.killedAfterMs} ms (flowing: ${cyc.trafficFlowing}), left behind: ${(cyc.leftBehind as string[] | undefined)?.join(',') || 'nothing'}; new daemon ${cyc.recovered ? 'recovered' : 'did not say it recovered'}, IPv4 again ${cyc.ipv4AgainMs} ms; after stop ${(cyc.differsAfterStop as string[] | undefined)?.length === 0 ? 'equal to the snapshot' : `DIFFERS ${JSON.stringify(cyc.differsAfterStop)}`}`,
    );
    if (problems.length > 3) break;
  }
  for (const p of problems) opts.say(`  problem: ${p}`);
  const done = cycles.filter(
    (c) => Array.isArray(c.differsAfterStop) && (c.differsAfterStop as string[]).length === 0,
  ).length;
  return {
    stage: 'kill9',
    ok: problems.length === 0 && done === opts.cycles,
    summary: `${cycles.length} kill -9 cycles during iperf3: ${done} back to the snapshot after stop (links, addresses, routes, rules, proxy neighbours, sysctls, nftables, resolv.conf), IPv4 back within max ${Math.max(...cycles.map((c) => Number(c.ipv4AgainMs ?? 0)))} ms; ${problems.length} problems`,
    ms: Date.now() - t0,
    data: { cycles, problems },
  };
}
