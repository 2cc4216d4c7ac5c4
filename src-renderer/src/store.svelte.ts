// What both windows draw from: the latest AppState pushed by main (or the development bridge),
// five minutes of per-second traffic samples for the chart, and the engine's log lines.
import type { AppState, Traffic } from '../../src-main/shared/ipc.js';
import type { LogLine } from '../../src-main/shared/status.js';
import { appMessage } from '../../src-main/shared/i18n.js';
import { api } from './api.js';
import { i18n } from './i18n.svelte.js';

/** Five minutes of one-second samples. */
export const HISTORY_SECONDS = 300;
export const MAX_LOG_LINES = 2000;

export interface Sample {
  /** Seconds since the epoch (uPlot's x). */
  t: number;
  pktOut: number;
  pktIn: number;
  bytesOut: number | null;
  bytesIn: number | null;
}

class Store {
  app = $state<AppState>({
    status: { state: 'disconnected', reason: appMessage('app.connecting') },
    access: 'unknown',
    group: 'clatbar',
    user: '',
    settings: { notifications: true, startAtLogin: false },
    canStartEngine: false,
    language: 'en',
  });
  samples = $state<Sample[]>([]);
  logs = $state<LogLine[]>([]);
  now = $state(Date.now());
  private previous: Traffic | undefined;
  /**
   * The last few samples: each chart point is the rate over about two seconds (three samples), so
   * one sample that arrived late (a busy machine) does not make a spike and a dip.
   */
  private recent: Traffic[] = [];

  start(): () => void {
    const offState = api().onState((s) => this.receive(s));
    const offLog = api().onLog((l) => this.log(l));
    api()
      .getState()
      .then(
        (s) => this.receive(s),
        (err: Error) =>
          (this.app = {
            ...this.app,
            status: { state: 'disconnected', reason: { code: 'text', text: err.message } },
          }),
      );
    const tick = setInterval(() => (this.now = Date.now()), 1000);
    return () => {
      offState();
      offLog();
      clearInterval(tick);
    };
  }

  private log(line: LogLine): void {
    if (this.logs.length && this.logs[this.logs.length - 1].seq >= line.seq) return;
    this.logs = [...this.logs, line].slice(-MAX_LOG_LINES);
  }

  /**
   * The engine the lines come from: its log's sequence numbers start again with each engine, so
   * when another one answers (a restart, or the first connection) the view starts over with its
   * recent lines; pushed lines that arrived meanwhile are kept, in order, once each.
   */
  private engineKey = '';
  private followEngine(next: AppState): void {
    const e = next.status.engine;
    const key = e?.pid !== undefined ? `${e.pid}/${e.startedAt ?? ''}` : '';
    if (!key || key === this.engineKey) return;
    this.engineKey = key;
    this.logs = [];
    void api()
      .logs(undefined, 500)
      .then((lines) => {
        if (this.engineKey !== key) return;
        const seen = new Set(this.logs.map((l) => l.seq));
        const merged = [...lines.filter((l) => !seen.has(l.seq)), ...this.logs].sort((a, b) => a.seq - b.seq);
        this.logs = merged.slice(-MAX_LOG_LINES);
      })
      // A user outside the control group may not read the log: the view stays empty.
      .catch(() => {});
  }

  private receive(next: AppState): void {
    i18n.use(next.language);
    this.followEngine(next);
    const t = next.status.traffic;
    // getState and onState may deliver the same sample twice; only a newer one makes a rate.
    if (t && (!this.previous || t.sampledAt > this.previous.sampledAt)) {
      this.recent = [...this.recent, t].slice(-3);
      const p = this.recent[0] !== t ? this.recent[0] : undefined;
      if (p) {
        const dt = (t.sampledAt - p.sampledAt) / 1000;
        const d = (a?: number, b?: number) => (a === undefined || b === undefined ? null : (b - a) / dt);
        const pktOut = d(p.packets4to6, t.packets4to6) ?? 0;
        const pktIn = d(p.packets6to4, t.packets6to4) ?? 0;
        if (pktOut < 0 || pktIn < 0)
          this.samples = []; // a new engine: its history starts now
        else
          this.samples = [
            ...this.samples,
            {
              t: t.sampledAt / 1000,
              pktOut,
              pktIn,
              // Bytes per direction when the engine counts them, else the TUN's (IPv4 out = what
              // the TUN handed the engine; in = what the engine wrote back).
              bytesOut: d(p.bytes4to6, t.bytes4to6) ?? d(p.tunIn?.bytes, t.tunIn?.bytes),
              bytesIn: d(p.bytes6to4, t.bytes6to4) ?? d(p.tunOut?.bytes, t.tunOut?.bytes),
            },
          ].filter((s) => s.t > t.sampledAt / 1000 - HISTORY_SECONDS);
      }
      this.previous = t;
    } else if (!t) {
      this.previous = undefined;
      this.recent = [];
    }
    this.app = next;
    this.now = Date.now();
  }
}

export const store = new Store();
