// Loaded into the soaked daemon with `node --import` (nothing in the engine changes): every
// 500 ms it writes to the file named by CLATBAR_SOAK_PROBE
// - the process's active resources by kind (Node's process.getActiveResourcesInfo(): what keeps
//   the loop alive, so ref'd timers only; the engine unrefs most of its own),
// - every timer there is, ref'd or not, counted in Node's timer lists (internal/timers, which
//   the daemon is started with --expose-internals for; -1 without it). Its own interval is one
//   constant timer among them,
// - when the soak asked for it (the file `${CLATBAR_SOAK_PROBE}.gc` exists), after a full
//   garbage collection (--expose-gc): garbage waiting for V8's next mark-compact is not growth,
//   so RSS is compared after one, as test/netns/daemon.test.ts item 7 does in-process.
import { createRequire } from 'node:module';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';

interface TimerList {
  _idleNext: TimerList | null;
}

/** Node's timer lists (one per duration), or null when internals are not exposed. */
function timerLists(): Record<string, TimerList> | null {
  try {
    return (createRequire(import.meta.url)('internal/timers') as { timerListMap: Record<string, TimerList> })
      .timerListMap;
  } catch {
    return null;
  }
}

const file = process.env.CLATBAR_SOAK_PROBE;
if (file) {
  const lists = timerLists();
  const allTimers = (): number => {
    if (!lists) return -1;
    let n = 0;
    for (const list of Object.values(lists))
      for (let e = list._idleNext; e && e !== list; e = e._idleNext) n++;
    return n;
  };
  let gcAt = 0;
  const write = () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc && existsSync(`${file}.gc`)) {
      rmSync(`${file}.gc`, { force: true });
      gc();
      gcAt = Date.now();
    }
    const kinds: Record<string, number> = {};
    for (const k of process.getActiveResourcesInfo()) kinds[k] = (kinds[k] ?? 0) + 1;
    try {
      writeFileSync(
        `${file}.new`,
        JSON.stringify({ pid: process.pid, at: Date.now(), kinds, timers: allTimers(), gcAt }),
      );
      renameSync(`${file}.new`, file);
    } catch {
      // The soak removed its directory: nothing to report to.
    }
  };
  setInterval(write, 500).unref();
}
