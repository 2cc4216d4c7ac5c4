// The one typed contract between the Electron main process and the renderer (the preload
// exposes exactly ClatbarApi as window.clatbar). Types only: no behaviour lives here.

/** What the engine is doing, as the tray and the diagnostics window show it. */
export type EngineState =
  /** The app cannot reach the engine (not running, or no permission). */
  | 'disconnected'
  /** Turned off by the user for this network. */
  | 'off'
  /** Running, but not needed: the network has native IPv4, or the OS has its own CLAT. */
  | 'standby'
  /** Translating. */
  | 'active'
  /** Wanted but failing; `problem` says why and what to do. */
  | 'error';

export type PrefixSource = 'pref64' | 'ipv4only.arpa' | 'configured';

export interface EngineStatus {
  state: EngineState;
  /** One sentence for people: why the state is what it is. */
  reason: string;
  problem?: string;
  uplink?: string;
  prefix?: { prefix: string; source: PrefixSource };
  clat?: { ipv4: string; ipv6: string; tun: string; mtu: number };
  traffic?: { packets4to6: number; packets6to4: number; bytes4to6: number; bytes6to4: number };
  /** Drop counters by reason, as the translator names them. */
  drops?: Record<string, number>;
}

export type NetworkPolicy = 'auto' | 'always' | 'never';

/** The API the preload script exposes to the renderer. */
export interface ClatbarApi {
  getStatus(): Promise<EngineStatus>;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: EngineStatus) => void): () => void;
  setPolicy(policy: NetworkPolicy): Promise<void>;
}

/** IPC channel names, shared so main and preload cannot drift apart. */
export const IPC = {
  getStatus: 'clatbar:get-status',
  status: 'clatbar:status',
  setPolicy: 'clatbar:set-policy',
} as const;
