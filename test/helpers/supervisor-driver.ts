// Runs the daemon's Supervisor in the namespace it is started in and exposes its EngineBackend
// (shared/control.ts) over stdin/stdout, one JSON object a line, so a test can call it as the
// control server will (tests of the engine side without the control socket, which is the
// control-API issue's):
//
//   node supervisor-driver.js '{"stateDir":..,"dataDir":..,"adminPolicyPath":..,"controlSocket":..}'
//   in:  {"id": 1, "method": "setPolicy", "args": ["current", "never"]}   (the Caller is added: root)
//   out: {"id": 1, "result": ...} | {"id": 1, "error": {"code": .., "message": ..}}
//        {"event": {...}} for every EngineEvent; {"ready": true} once started
// SIGTERM: supervisor.stop(), {"stopped": ok}, exit 0. SIGHUP: reload().
import { createInterface } from 'node:readline';
import { Supervisor } from '../../src-main/engine/daemon/supervisor.js';
import { LogRing } from '../../src-main/engine/control/log-ring.js';
import { loadDataPath } from '../../src-main/engine/clat/datapath-loader.js';
import { ControlError, type Caller } from '../../src-main/shared/control.js';
import { keepYoungGenerationSmall } from '../../src-main/engine/daemon/resident.js';

// As `clatbar run` does first.
keepYoungGenerationSmall();

const cfg = JSON.parse(process.argv[2]) as {
  stateDir: string;
  dataDir: string;
  adminPolicyPath: string;
  controlSocket: string;
  overrideGraceMs?: number;
  routeGraceMs?: number;
  dns64?: 'off' | 'auto' | 'on';
};
const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const ring = new LogRing((t) => process.stderr.write(`${new Date().toISOString().slice(17, 23)} ${t}\n`));
const sup = new Supervisor({
  ...cfg,
  tun: 'clat0',
  clatIpv4: '192.0.0.4',
  dns64: cfg.dns64 ?? 'off',
  makeDataPath: await loadDataPath(),
  ring,
});
sup.onEvent((event) => out({ event }));
const root: Caller = { uid: 0, gid: 0, pid: process.pid, admin: true };
process.on('SIGTERM', () => {
  void sup.stop().then((ok) => {
    out({ stopped: ok });
    process.exit(0);
  });
});
process.on('SIGHUP', () => void sup.reload());
await sup.start();
out({ ready: true });
createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line) as { id: number; method: string; args?: unknown[] };
  // memory: the driver's process.memoryUsage(), for the growth test (what RSS consists of);
  // ["gc"] collects garbage first when node runs with --expose-gc.
  if (req.method === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (req.args?.[0] === 'gc' && gc) gc();
    out({ id: req.id, result: process.memoryUsage() });
    return;
  }
  const fn = (sup as unknown as Record<string, (...a: unknown[]) => unknown>)[req.method];
  const takesCaller = !['status', 'listNetworks', 'logs', 'settled'].includes(req.method);
  Promise.resolve()
    .then(() => fn.apply(sup, takesCaller ? [...(req.args ?? []), root] : (req.args ?? [])))
    .then(
      (result) => out({ id: req.id, result: result ?? null }),
      (err: Error) =>
        out({
          id: req.id,
          error: { code: err instanceof ControlError ? err.code : 0, message: err.message },
        }),
    );
});
