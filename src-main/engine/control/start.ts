// The control server as an engine starts it: the backend (the foreground engine today, the
// daemon's Supervisor in daemon mode), plus the self-test and diagnostics the server runs
// itself, with the latest self-test kept for the next diagnostics report. One call for both
// modes of `clatbar run`.
import { ControlServer } from './server.js';
import { selfTest, type SelfTestReport, type SelfTestTargets } from './selftest.js';
import { diagnostics } from './diagnostics.js';
import type { LogLine } from '../../shared/status.js';
import type { EngineBackend } from '../../shared/control.js';
import type { Say } from '../../shared/say.js';

export interface StartControlOptions {
  path: string;
  backend: EngineBackend;
  /** The control group (run --control-group). */
  group: string;
  /** Where the engine's log lines are kept (logs, diagnostics). */
  ring: { since(since?: number, limit?: number): LogLine[] };
  targets: SelfTestTargets;
  log: Say;
}

export function startControlServer(o: StartControlOptions): Promise<ControlServer> {
  let lastSelfTest: SelfTestReport | null = null;
  const status = () => o.backend.status();
  return ControlServer.listen({
    path: o.path,
    backend: o.backend,
    group: o.group,
    log: o.log,
    selfTest: async () => (lastSelfTest = await selfTest(o.targets, status)),
    diagnostics: () =>
      diagnostics({ status, logs: () => o.ring.since(0, 500), lastSelfTest: () => lastSelfTest }),
  });
}
