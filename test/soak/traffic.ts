// Stage 6, long traffic: while the lab stages run (and until the run's end), rounds of
// traffic-probe.js in the laptop namespace: an HTTP download checked against the file's
// sha256, an upload whose sha256 the server answers, UDP echoes compared byte for byte. A
// transfer cut by a kill -9 or a flap is "interrupted", never "corrupted"; corrupted must stay 0.
// At the end the engine's counters are checked against each other (counters.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_V4 } from '../helpers/clat-lab.js';
import { run } from '../../src-main/engine/lab/proc.js';
import { sleep, type SoakLab } from './lab.js';
import type { StageResult } from './report.js';
import { emptyRound, type TrafficRound } from './traffic-round.js';

const PROBE = new URL('./traffic-probe.js', import.meta.url).pathname;

type Round = TrafficRound;

export class Traffic {
  private stopped = false;
  private loop: Promise<void> | null = null;
  readonly total: Round = emptyRound();
  rounds = 0;
  cleanRounds = 0;
  private readonly t0 = Date.now();
  constructor(private readonly lab: SoakLab) {}

  start(): void {
    const sha = createHash('sha256')
      .update(readFileSync(join(this.lab.cl.wwwDir, 'blob.bin')))
      .digest('hex');
    this.loop = (async () => {
      while (!this.stopped) {
        await this.round(sha);
        await sleep(1000);
      }
    })();
  }

  private async round(sha: string): Promise<boolean> {
    const out = await run(
      ['/usr/sbin/ip', 'netns', 'exec', this.lab.cl.laptop, process.execPath, PROBE, SERVER_V4, sha],
      60000,
    ).catch(() => '');
    this.rounds++;
    let r: Round;
    try {
      r = JSON.parse(out) as Round;
    } catch {
      this.total.interrupted++;
      return false;
    }
    for (const k of Object.keys(this.total) as (keyof Round)[])
      if (k === 'notes') this.total.notes.push(...r.notes.slice(0, 5));
      else this.total[k] += r[k];
    const clean = r.interrupted === 0 && r.corrupted === 0 && r.udpEchoed === r.udpSent;
    if (clean) this.cleanRounds++;
    return clean;
  }

  /** Stops the loop; one last round must then go through cleanly (IPv4 working). */
  async stop(): Promise<{ lastRoundClean: boolean }> {
    this.stopped = true;
    await this.loop;
    const sha = createHash('sha256')
      .update(readFileSync(join(this.lab.cl.wwwDir, 'blob.bin')))
      .digest('hex');
    let lastRoundClean = false;
    for (let i = 0; i < 3 && !lastRoundClean; i++) lastRoundClean = await this.round(sha);
    return { lastRoundClean };
  }

  result(extra: { lastRoundClean: boolean; counters: Record<string, unknown> }): StageResult {
    const t = this.total;
    const ok =
      t.corrupted === 0 &&
      extra.lastRoundClean &&
      this.cleanRounds > 0 &&
      extra.counters.consistent !== false;
    return {
      stage: 'traffic',
      ok,
      summary: `${this.rounds} rounds beside the lab stages (${this.cleanRounds} without interruption): ${t.downloads} downloads (${(t.downloadBytes / 2 ** 20).toFixed(0)} MiB) + ${t.uploads} uploads (${(t.uploadBytes / 2 ** 20).toFixed(0)} MiB) sha256-checked, ${t.udpEchoed}/${t.udpSent} UDP echoes compared; ${t.corrupted} corrupted, ${t.interrupted} interrupted (kill -9, flaps); counters ${extra.counters.verdict}`,
      ms: Date.now() - this.t0,
      data: { ...t, rounds: this.rounds, cleanRounds: this.cleanRounds, ...extra },
    };
  }
}
