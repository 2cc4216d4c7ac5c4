// Runs the engine's resolver integration as a separate process, so tests can run it inside a
// network namespace (ifindexes are per namespace), as another user, and kill it with SIGKILL.
//
//   node resolved-driver.js learn IFACE
//       prints the learned upstreams as one JSON line
//   node resolved-driver.js hook IFACE ADDRESS STATE_DIR [UPLINK [RESOLV_CONF]]
//       hooks (journal in STATE_DIR), prints {"hooked":...} and waits; SIGTERM undoes everything
//       (journal.undoAll, as the engine's stop does), prints {"undone":[...],"timers":N} (timers
//       still pending once the undo is done: nothing should keep the process alive) and exits 0; log
//       lines after the first line come as {"log":...}. A
//       failed hook prints {"error":..., "journal":N} and exits 3.
import { Journal } from '../../src-main/engine/system/journal.js';
import {
  hookSystemResolver,
  learnUplinkResolvers,
  type Hooked,
} from '../../src-main/engine/dns64/system-resolver.js';
import type { Said } from '../../src-main/shared/say.js';

const [verb, iface, address, stateDir, uplink, resolvConfPath] = process.argv.slice(2);

if (verb === 'learn') {
  process.stdout.write(`${JSON.stringify(await learnUplinkResolvers({ iface }))}\n`);
} else if (verb === 'hook') {
  const journal = Journal.create(stateDir, { restorable: resolvConfPath ? [resolvConfPath] : [] });
  const log: string[] = [];
  let first = true;
  const logLine = (m: Said): void => {
    if (first) log.push(m.text);
    else process.stdout.write(`${JSON.stringify({ log: m.text })}\n`);
  };
  let hooked: Hooked;
  try {
    // After the first line, log lines (the keeper's) go out as they come.
    hooked = await hookSystemResolver({ journal, address, iface, uplink, resolvConfPath, log: logLine });
    const { how, what } = hooked;
    process.stdout.write(
      `${JSON.stringify({ hooked: { how, what }, log, journal: journal.entries.length })}\n`,
    );
    first = false;
  } catch (err) {
    process.stdout.write(
      `${JSON.stringify({ error: (err as Error).message, journal: journal.entries.length })}\n`,
    );
    process.exit(3);
  }
  // Nothing else keeps the process alive while it waits, as the engine's sockets would.
  const alive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  clearInterval(alive);
  hooked.close();
  const undone = await journal.undoAll();
  // Let settled promises run their finally blocks (they clear their timers) before counting.
  await new Promise((r) => setImmediate(r));
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  process.stdout.write(`${JSON.stringify({ undone, timers })}\n`);
} else {
  process.stderr.write(
    'usage: resolved-driver learn IFACE | hook IFACE ADDRESS STATE_DIR [UPLINK [RESOLV_CONF]]\n',
  );
  process.exit(2);
}
