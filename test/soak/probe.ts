// Loaded into the soaked daemon with `node --import` (nothing in the engine changes): every
// 500 ms it writes the process's active resources by kind (timers, sockets, handles; Node's
// process.getActiveResourcesInfo()) to the file named by CLATBAR_SOAK_PROBE, so the flap stage
// can see timers grow from outside. Its own interval is one constant timer.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.CLATBAR_SOAK_PROBE;
if (file) {
  const write = () => {
    const kinds: Record<string, number> = {};
    for (const k of process.getActiveResourcesInfo()) kinds[k] = (kinds[k] ?? 0) + 1;
    try {
      writeFileSync(`${file}.new`, JSON.stringify({ pid: process.pid, at: Date.now(), kinds }));
      renameSync(`${file}.new`, file);
    } catch {
      // The soak removed its directory: nothing to report to.
    }
  };
  setInterval(write, 500).unref();
}
