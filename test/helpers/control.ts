// The engine's real control server (engine/control/server.ts) with a backend made of a status
// function, for tests of the clients (CLI, app) that need an engine to talk to but not a CLAT.
// The per-network methods answer "unsupported", as the foreground engine's do.
import { ControlServer } from '../../src-main/engine/control/server.js';
import { LogRing } from '../../src-main/engine/control/log-ring.js';
import { foregroundBackend } from '../../src-main/engine/control/foreground.js';
import type { EngineBackend } from '../../src-main/shared/control.js';
import type { EngineStatusDoc } from '../../src-main/shared/status.js';

export function statusBackend(status: () => unknown, ring = new LogRing(() => {})): EngineBackend {
  return foregroundBackend(
    { status: () => status() as EngineStatusDoc, onPrefixChange: () => () => {} },
    ring,
  );
}

/** A control server on path answering `status` with status(); log lines go to `lines`. */
export function serveStatus(
  path: string,
  status: () => unknown,
  opts: { group?: string; lines?: string[]; backend?: Partial<EngineBackend>; ring?: LogRing } = {},
): Promise<ControlServer> {
  return ControlServer.listen({
    path,
    backend: { ...statusBackend(status, opts.ring), ...opts.backend },
    group: opts.group,
    log: (l) => opts.lines?.push(l.text),
  });
}
