// The control API's backend while the engine runs in the foreground (`clatbar run --uplink`):
// one CLAT on one uplink, started and stopped by the person who ran it. It answers status,
// logs and events; the per-network methods belong to the daemon (no --uplink), so they are
// refused with RPC_ERROR.unsupported and a sentence saying so.
import { ControlError, RPC_ERROR, type EngineBackend } from '../../shared/control.js';
import type { EngineEvent, EngineStatusDoc } from '../../shared/status.js';
import type { LogRing } from './log-ring.js';

/** What the foreground backend needs of the running engine (ClatEngine has it). */
export interface ForegroundEngine {
  status(): EngineStatusDoc;
  onPrefixChange(cb: (prefix: string | null) => void): () => void;
}

function unsupported(what: string): never {
  throw new ControlError(
    RPC_ERROR.unsupported,
    `${what} needs the engine in daemon mode; this one runs in the foreground (clatbar run --uplink) and does what its command line says. Stop it and start the service: sudo systemctl start clatbar-engine`,
  );
}

export function foregroundBackend(engine: ForegroundEngine, ring: LogRing): EngineBackend {
  return {
    status: () => engine.status(),
    enable: async () => unsupported('enable'),
    disable: async () => unsupported('disable'),
    clearOverride: async () => unsupported('clearOverride'),
    setPolicy: async () => unsupported('a per-network policy'),
    setDefaultPolicy: async () => unsupported('a default policy'),
    setDns64Mode: async () => unsupported('changing the DNS64 mode (restart with --dns64)'),
    setNetworkOption: async () => unsupported('a per-network option'),
    forgetNetwork: async () => unsupported('forgetting a network'),
    listNetworks: () => [],
    logs: (since, limit) => ring.since(since, limit),
    onEvent(listener: (e: EngineEvent) => void): () => void {
      const offLog = ring.onLine((line) => listener({ type: 'log', line }));
      const offPrefix = engine.onPrefixChange(() => listener({ type: 'state', status: engine.status() }));
      return () => {
        offLog();
        offPrefix();
      };
    },
  };
}
