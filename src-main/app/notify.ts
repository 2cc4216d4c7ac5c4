// Which engine transitions deserve a desktop notification, rate-limited and switchable off.
// Pure (time is passed in), so the rules are tested without Electron; main.ts shows the notices.
//
// Worth a notice: IPv4 through clatbar turned on for a network (also when the laptop moves to
// another network and it is on there too); stood down to standby from active (native IPv4
// arrived, the prefix went away); attention, and the engine going away while it was running.
// Not: the first status after the app (re)connects (the user did not just cause it), counters,
// changes within one state. Rate limit: one notice per kind per minGapMs, and at most burst in
// any windowMs, so a flapping network does not flood the desktop.
import type { EngineStatus } from '../shared/ipc.js';
import type { Translator } from '../shared/i18n.js';

/** The engine's reason code while it brings the CLAT up again (engine/daemon/supervisor.ts bringUp). */
const RESTARTING = 'standby.restarting';

export type NoticeKind = 'active' | 'standby' | 'attention';

export interface Notice {
  kind: NoticeKind;
  title: string;
  body: string;
}

export interface NotifyOptions {
  /** default 60 s */
  minGapMs?: number;
  /** default 4 notices ... */
  burst?: number;
  /** ... per 10 minutes */
  windowMs?: number;
}

/** The kind of notice a transition from prev to next deserves, before rate limits. */
export function noticeKind(prev: EngineStatus, next: EngineStatus): NoticeKind | null {
  if (prev.state === 'disconnected') return null;
  // The engine bringing the CLAT up again (another DNS64 mode or inbound choice, often the user's
  // own click): a moment of standby between two actives on one network is no news.
  const restarting = (s: EngineStatus) => s.state === 'standby' && s.reason.code === RESTARTING;
  if (restarting(next) && prev.state === 'active') return null;
  if (next.state === 'active' && restarting(prev) && prev.network?.id === next.network?.id) return null;
  if (next.state === 'active')
    return prev.state !== 'active' || prev.network?.id !== next.network?.id ? 'active' : null;
  if (next.state === 'standby' && prev.state === 'active') return 'standby';
  if (next.state === 'attention' && prev.state !== 'attention') return 'attention';
  if (next.state === 'disconnected' && prev.state !== 'stopping') return 'attention';
  return null;
}

export class Notifier {
  private readonly minGapMs: number;
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly lastOfKind = new Map<NoticeKind, number>();
  private sent: number[] = [];

  constructor(options: NotifyOptions = {}) {
    this.minGapMs = options.minGapMs ?? 60_000;
    this.burst = options.burst ?? 4;
    this.windowMs = options.windowMs ?? 600_000;
  }

  /** The notice to show for this transition now, or null (none deserved, switched off, or rate-limited). */
  decide(
    prev: EngineStatus,
    next: EngineStatus,
    now: number,
    enabled: boolean,
    tr: Translator,
  ): Notice | null {
    const kind = noticeKind(prev, next);
    if (!kind || !enabled) return null;
    const last = this.lastOfKind.get(kind);
    if (last !== undefined && now - last < this.minGapMs) return null;
    this.sent = this.sent.filter((t) => now - t < this.windowMs);
    if (this.sent.length >= this.burst) return null;
    this.sent.push(now);
    this.lastOfKind.set(kind, now);
    const network = next.network?.name ?? prev.network?.name ?? tr.t('tray.thisNetwork');
    // Attention says what to do, too.
    const fix = kind === 'attention' && next.problem ? ` ${tr.msg(next.problem)}` : '';
    const reason = `${tr.msg(next.reason)}${fix}`;
    return {
      kind,
      title: tr.t(`notify.${kind}Title`),
      body: tr.t(`notify.${kind}Body`, { network, reason }),
    };
  }
}
