// The one typed contract between the Electron main process and the renderer (the preload
// exposes exactly ClatbarApi as window.clatbar). Types only, plus two constant tables (IPC
// channel names, drop reasons in words) that main, preload, renderer and CLI must agree on.

// The one typed contract between the Electron main process and the renderer: the view of the
// engine both show (EngineStatus, AppState), and the IPC calls with a zod schema for each call's
// arguments (IPC_CALLS). Main validates every call against it; the preload exposes one function
// per call (preload.cts); the development bridge serves the same calls over a WebSocket.
import { z } from 'zod';
import { en } from './locales/en.js';
import {
  Dns64ModeSchema,
  InboundSchema,
  NetworkRefSchema,
  PolicySchema,
  type Dns64Mode,
  type Inbound,
  type Policy,
} from './control.js';
import type { Message, LogLine, NetworkRecord } from './status.js';

/** What the engine is doing, as the tray and the windows show it. */
export type EngineState =
  /** The app cannot reach the engine (not running, or a socket it may not open). */
  | 'disconnected'
  /** Turned off for this network, by policy or by the user. */
  | 'off'
  /** Running, but not needed here: native IPv4, no NAT64, a system CLAT (reason says which). */
  | 'standby'
  /** Translating. */
  | 'active'
  /** Wanted but failing, or an engine the app cannot work with; `problem` says what to do. */
  | 'attention'
  /** Putting the network back on its way out. */
  | 'stopping';

export type PrefixSource = 'pref64' | 'ipv4only.arpa' | 'configured';

export interface Transition {
  /** ISO time. */
  time: string;
  from?: string;
  to: string;
  reason: Message;
}

export interface NetworkView {
  id: string;
  name: string;
  /** offline, dual-stack, ipv6-only, ipv6-only-nat64, system-clat, ... as the engine names it. */
  classification?: string;
  policy?: Policy;
  /** Where the policy came from: user, default, admin. */
  policySource?: string;
  /** The user's enable/disable for this network, when one is in force. */
  override?: 'enabled' | 'disabled';
}

export interface EngineStatus {
  state: EngineState;
  /** Why the state is what it is, for people (translatable: code + params + English text). */
  reason: Message;
  /** What to do about it. */
  problem?: Message;
  /** Things that work but may bite (a firewall that would drop translated packets). */
  warnings?: string[];
  /** The engine process this status came from. */
  engine?: { pid?: number; startedAt?: string; controlSocket: string; version?: string };
  network?: NetworkView;
  uplink?: string;
  /** Why this uplink, in the engine's words. */
  uplinkWhy?: Message;
  prefix?: {
    prefix: string;
    source: PrefixSource;
    /** When the prefix's lifetime runs out (ms since the epoch); absent when it does not. */
    expiresAt?: number;
  };
  clat?: {
    ipv4: string;
    ipv6: string;
    tun: string;
    /** MTU of the TUN and of the IPv6 side. */
    mtu: number;
    /** MTU IPv4 apps see on the default route (mtu - 20, or - 28 with fragment headers). */
    ipv4Mtu?: number;
    /** The IPv6 address was chosen so translation leaves TCP/UDP checksums unchanged. */
    checksumNeutral?: boolean;
  };
  traffic?: Traffic;
  /**
   * Packets dropped, by reason, as the translator and the data path name them (kebab-case keys
   * of DROP_REASONS; an unknown key is shown as it is). Only reasons seen so far are present.
   */
  drops?: Record<string, number>;
  /** The DNS64 stub, when the engine runs one. */
  dns64?: Dns64Activity;
  /**
   * Which inbound policy is in force: deny lets in only replies to this host's own flows,
   * allow lets anyone on the IPv6 network reach IPv4 services on this host through the CLAT.
   */
  inbound?: 'allow' | 'deny';
  /** The last transitions, oldest first. */
  transitions?: Transition[];
  /** The engine's settings the windows show (global default, DNS64 mode) and what the admin forces. */
  settings?: EngineSettings;
}

export interface EngineSettings {
  defaultPolicy?: Policy;
  dns64Mode?: Dns64Mode;
  /** Values /etc/clatbar/policy.json forces, by setting name ("defaultPolicy", "dns64Mode"), with why. */
  locked?: Record<string, Message>;
}

/** The app's own settings (stored by the app for this user, not by the engine). */
export interface AppSettings {
  notifications: boolean;
  startAtLogin: boolean;
}
export const AppSettingsPatchSchema = z
  .object({ notifications: z.boolean().optional(), startAtLogin: z.boolean().optional() })
  .strict();

/** Everything a window needs to draw itself: pushed on every change. */
export interface AppState {
  status: EngineStatus;
  /**
   * May this user change the engine: 'allowed' (root or the control group), 'denied' (the engine
   * refused a change or the network list), 'unknown' until the engine has said.
   */
  access: 'unknown' | 'allowed' | 'denied';
  /** The control group and this user's name, for the "how to get permission" words. */
  group: string;
  user: string;
  settings: AppSettings;
  /** Can this app start the engine (pkexec/systemctl present)? */
  canStartEngine: boolean;
  language: 'en' | 'ko';
}

export interface Traffic {
  /** When the engine's counters were read (ms since the epoch): rates come from two of these. */
  sampledAt: number;
  /** IPv4 packets from this host's apps translated to IPv6 (outgoing). */
  packets4to6: number;
  /** IPv6 packets for the CLAT address translated to IPv4 (incoming). */
  packets6to4: number;
  /** Per direction bytes, when the engine counts them (it does not yet). */
  bytes4to6?: number;
  bytes6to4?: number;
  /** Everything the TUN device handed the engine (both families) and took back from it. */
  tunIn?: { packets: number; bytes: number };
  tunOut?: { packets: number; bytes: number };
  /** ICMP errors the translator sent itself (Packet Too Big, Time Exceeded, ...). */
  icmpErrorsSent?: number;
  /** Fragments the translator made of packets too big for the other side. */
  fragmentsEmitted?: number;
}

export interface Dns64Activity {
  mode?: 'auto' | 'on';
  /** Where the stub listens, "192.0.0.4:53". */
  listen?: string[];
  queries: number;
  /** AAAA answers made from A records (RFC 6147 §5.1.7). */
  synthesized: number;
  ptrSynthesized?: number;
  cacheHits?: number;
  /** Answered by the upstream unchanged (it had AAAA, or mode auto found it does DNS64). */
  passedThrough?: number;
  servfail?: number;
  /** Mode auto's finding; null before the first probe. */
  upstreamDoesDns64?: boolean | null;
  upstreamTimeouts?: number;
}

/**
 * Drop reasons in English words: the translator's (engine/siit/counters.ts REASONS) and the data
 * path's own, for `clatbar status`. Their one home is the message catalog (locales/en.ts
 * `drops`; the windows show them in the user's language).
 */
export const DROP_REASONS: Readonly<Record<string, string>> = en.drops;

/**
 * The calls the renderer can make, one per function of the preload's API, with the schema of
 * their arguments (a tuple). Main checks the sender's frame, then the arguments, then calls the
 * app service; anything else is refused. Channel names are `clatbar:NAME`.
 */
const none = z.tuple([]);
export const IPC_CALLS = {
  getState: none,
  enable: none,
  disable: none,
  setPolicy: z.tuple([NetworkRefSchema, z.union([PolicySchema, z.literal('default')])]),
  setDefaultPolicy: z.tuple([PolicySchema]),
  setDns64Mode: z.tuple([Dns64ModeSchema]),
  setInbound: z.tuple([NetworkRefSchema, z.union([InboundSchema, z.literal('default')])]),
  forgetNetwork: z.tuple([NetworkRefSchema]),
  listNetworks: none,
  selfTest: none,
  diagnostics: none,
  logs: z.tuple([z.number().int().nonnegative().optional(), z.number().int().min(1).max(5000).optional()]),
  copyReport: none,
  saveReport: none,
  setAppSettings: z.tuple([AppSettingsPatchSchema]),
  startEngine: none,
  openSettings: none,
  openDiagnostics: none,
} as const;
export type IpcCall = keyof typeof IPC_CALLS;

/** Pushes from main to the renderer. */
export const IPC_EVENTS = { state: 'clatbar:state', log: 'clatbar:log' } as const;

export function ipcChannel(call: IpcCall): `clatbar:${IpcCall}` {
  return `clatbar:${call}`;
}

/** One self-test's outcome, as the engine reports it (control API `selfTest`). */
export interface SelfTestResult {
  name: string;
  result: 'pass' | 'fail' | 'skipped';
  text: Message | string;
  fix?: Message | string;
}

/** The API the preload exposes to the renderer as window.clatbar: one function per call. */
export interface ClatbarApi {
  getState(): Promise<AppState>;
  enable(): Promise<void>;
  disable(): Promise<void>;
  setPolicy(network: string, policy: Policy | 'default'): Promise<void>;
  setDefaultPolicy(policy: Policy): Promise<void>;
  setDns64Mode(mode: Dns64Mode): Promise<void>;
  /** Whether the network lets IPv4 connections in through the CLAT; 'default' drops its own choice. */
  setInbound(network: string, inbound: Inbound | 'default'): Promise<void>;
  forgetNetwork(network: string): Promise<void>;
  listNetworks(): Promise<NetworkRecord[]>;
  selfTest(): Promise<unknown>;
  diagnostics(): Promise<unknown>;
  logs(since?: number, limit?: number): Promise<LogLine[]>;
  copyReport(): Promise<void>;
  /** Asks where and saves; resolves with the path, or null when the user cancelled. */
  saveReport(): Promise<string | null>;
  setAppSettings(patch: z.infer<typeof AppSettingsPatchSchema>): Promise<AppSettings>;
  startEngine(): Promise<void>;
  openSettings(): Promise<void>;
  openDiagnostics(): Promise<void>;
  /** Every new AppState; returns the unsubscribe function. */
  onState(listener: (state: AppState) => void): () => void;
  /** Every new engine log line. */
  onLog(listener: (line: LogLine) => void): () => void;
}

/** The preload's API must have exactly one function per call, plus the two subscriptions. */
export type ApiMatchesCalls = [Exclude<keyof ClatbarApi, 'onState' | 'onLog'>] extends [IpcCall]
  ? [IpcCall] extends [Exclude<keyof ClatbarApi, 'onState' | 'onLog'>]
    ? true
    : never
  : never;
export const apiMatchesCalls: ApiMatchesCalls = true;
