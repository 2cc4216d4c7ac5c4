// Watches the kernel's link, address and route changes without polling: `ip -o monitor` (by
// absolute path) is only a trigger, each burst of its lines is debounced into one callback, and
// the supervisor then reads the whole state again (simpler and never out of step, unlike
// applying each event). A wall-clock jump against the monotonic clock (a suspend and resume)
// triggers too, so the network is asked again after the laptop wakes up. The clocks are compared
// whenever netlink speaks (after a resume it does within seconds: links come back, and the next
// router advertisement refreshes address lifetimes) and by a fallback timer every 10 minutes for
// a link that stays silent; a timer every minute was the one thing that woke an idle daemon.
import { spawn, type ChildProcess } from 'node:child_process';
import { commandEnv, commandPath } from '../system/exec.js';
import { say, type Said, type Say } from '../../shared/say.js';

export interface NetWatchOptions {
  /** After a burst of events: why (the first reason of the burst, a clock jump ahead of netlink). */
  onChange: (why: Said) => void;
  log: Say;
  /** Quiet time after the last event before onChange, ms. default 100 */
  debounceMs?: number;
  /**
   * How often the wall clock is compared with the monotonic one when netlink is silent, ms.
   * default 600000
   */
  clockCheckMs?: number;
}

export interface NetWatch {
  stop(): void;
}

/** A wall-clock step bigger than this beside the monotonic clock is a suspend (or a clock set). */
const CLOCK_JUMP_MS = 5000;

export function watchNetwork(opts: NetWatchOptions): NetWatch {
  const debounceMs = opts.debounceMs ?? 100;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let child: ChildProcess | null = null;
  let why: Said | null = null;

  const schedule = (reason: Said): void => {
    if (stopped) return;
    why ??= reason;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      const w = why;
      why = null;
      if (!stopped && w) opts.onChange(w);
    }, debounceMs);
  };

  let wall = Date.now();
  let mono = performance.now();
  /** Compares the clocks since the last look; a jump is a reason of its own, ahead of netlink's. */
  const checkClock = (): void => {
    const w = Date.now();
    const m = performance.now();
    const jump = w - wall - (m - mono);
    wall = w;
    mono = m;
    if (Math.abs(jump) <= CLOCK_JUMP_MS) return;
    why = null; // the jump wins over netlink lines of the same burst: it restarts discovery
    schedule(say('why.clock-jump', { seconds: Math.round(jump / 1000) }));
  };

  const start = (): void => {
    if (stopped) return;
    // A long-running child, so spawned here; found like every other command (system/exec.ts).
    let ip: string;
    try {
      ip = commandPath('ip');
    } catch (err) {
      opts.log(say('netwatch.failed', { error: (err as Error).message }));
      return;
    }
    const c = spawn(ip, ['-o', 'monitor', 'link', 'address', 'route'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: commandEnv(),
    });
    child = c;
    c.stdout?.setEncoding('utf8');
    // Any line is a reason to look again; its text is not parsed (the full re-read is the truth).
    c.stdout?.on('data', (chunk: string) => {
      checkClock();
      schedule(say('why.netlink', { event: chunk.split('\n')[0].slice(0, 120) }));
    });
    c.on('error', (err) => opts.log(say('netwatch.monitor-failed', { command: ip, error: err.message })));
    c.on('exit', () => {
      if (child === c) child = null;
      if (!stopped) {
        // ip monitor does not end by itself; if it does, look once and start it again.
        schedule(say('why.monitor-ended'));
        setTimeout(start, 1000).unref();
      }
    });
  };
  start();

  const clock = setInterval(checkClock, opts.clockCheckMs ?? 600_000);
  clock.unref();

  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(clock);
      child?.kill('SIGTERM');
      child = null;
    },
  };
}
