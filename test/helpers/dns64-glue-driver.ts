// Runs clat/dns64-glue.ts startDns64 against a stand-in engine, so a test can change the NAT64
// prefix at exactly the moment it wants: while the stub starts.
//
//   node dns64-glue-driver.js STATE_DIR PREFIX_AT_START NEW_PREFIX
//       PREFIX_AT_START may be "" (the network's prefix went away after bring-up). NEW_PREFIX is
//       announced right after startDns64 first reads the prefix, i.e. while the stub starts.
//       Prints {"ready":true} once started (or {"error":...} and exits 3); SIGTERM stops the
//       stub, undoes the journal, prints {"stopped":true} and exits 0.
import { startDns64 } from '../../src-main/engine/clat/dns64-glue.js';
import type { ClatEngine } from '../../src-main/engine/clat/engine.js';
import { Journal } from '../../src-main/engine/system/journal.js';
import type { Said } from '../../src-main/shared/say.js';

const [stateDir, atStart, next] = process.argv.slice(2);
let prefix = atStart;
let announced = false;
const cbs: ((p: string | null) => void)[] = [];
const journal = Journal.create(stateDir);
const engine = {
  options: { uplink: 'up0', clatIpv4: '192.0.0.4', tun: 'clat0' },
  journal,
  status: () => {
    if (!announced) {
      announced = true;
      // As soon as startDns64 awaits next, i.e. while the stub starts (an RA handled then).
      queueMicrotask(() => {
        prefix = next;
        for (const cb of cbs) cb(next);
      });
    }
    return { prefix };
  },
  onPrefixChange: (cb: (p: string | null) => void) => {
    cbs.push(cb);
    return () => cbs.splice(cbs.indexOf(cb), 1);
  },
  setDns64Status: () => {},
};
const log = (l: Said): void => void process.stderr.write(`${l.text}\n`);
let stop: () => Promise<void>;
try {
  // Only the members startDns64 uses are there (options, journal, status, onPrefixChange,
  // setDns64Status).
  stop = await startDns64(engine as unknown as ClatEngine, 'on', log);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  await journal.undoAll();
  process.exit(3);
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await stop();
await journal.undoAll();
process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
