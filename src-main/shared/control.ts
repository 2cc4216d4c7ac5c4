// The control protocol between the engine and its clients (CLI, Electron main, dev bridge):
// JSON-RPC 2.0 over a Unix socket, one object per line. This file is the one home of its
// method names, parameter schemas, error codes and limits; engine/control/ serves it,
// cli/ and app/ call it. The engine's status document lives in ./status.ts.
//
// Coordination contract (written before the daemon and control-API work started, so both
// build against the same names): the daemon's Supervisor implements EngineBackend; the control
// server authorizes each call from the peer's credentials and then calls the backend.
import { z } from 'zod';
import {
  LogLineSchema,
  MessageSchema,
  type EngineStatusDoc,
  type LogLine,
  type NetworkRecord,
  type EngineEvent,
} from './status.js';

export const PROTOCOL_VERSION = 1;
/** Where the installed engine listens. Root-owned directory (tmpfiles.d), so no user can swap it. */
export const DEFAULT_CONTROL_SOCKET = '/run/clatbar/engine.sock';
/** The largest request line the engine reads; longer ones get an error and the connection is closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** The largest reply line a client accepts (a diagnostics report is big). */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;
/** A call not answered within this is a hung engine. */
export const CALL_TIMEOUT_MS = 3000;
/**
 * A change (enable, disable, setPolicy, ...) is answered once the engine has acted on it: a CLAT
 * taken down or brought up (duplicate address detection, the inbound filter, the resolver hook)
 * takes seconds, more on a loaded machine. Clients wait this long for those.
 */
export const CHANGE_TIMEOUT_MS = 30_000;
/**
 * Replies and notifications queued for one client that does not read: past this it is dropped
 * (a diagnostics report, the largest reply, fits).
 */
export const MAX_CLIENT_QUEUE_BYTES = 2 * MAX_REPLY_BYTES;
/** Requests of one client in the engine's hands at once; reading pauses while it has this many. */
export const MAX_CLIENT_INFLIGHT = 8;
/** A client that sends part of a line and then nothing for this long is closed. */
export const HALF_LINE_TIMEOUT_MS = 5000;
/** Connections the engine holds at once, and how many of them one non-root uid may hold. */
export const MAX_CONNECTIONS = 512;
export const MAX_CONNECTIONS_PER_UID = 64;
/** Kept free of users who are neither root nor in the group, so the admin can always get in. */
export const RESERVED_FOR_ADMINS = 64;

/**
 * Where the engine of a network namespace listens, and so where the CLI looks by default: the
 * host's engine at DEFAULT_CONTROL_SOCKET; the engine run inside a named namespace (`ip netns
 * exec NAME clatbar run ...`, as `ip netns identify` names it) at /run/clatbar-netns/NAME/
 * engine.sock. Unix socket paths are in the filesystem, which namespaces share, so without a
 * per-namespace path every engine of a lab would fight over one socket.
 */
export function controlSocketPath(netns?: string | null): string {
  if (!netns) return DEFAULT_CONTROL_SOCKET;
  if (!/^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,200}$/.test(netns))
    throw new Error(`'${netns}' is not a network namespace name (letters, digits, '.', '_', '-')`);
  return `/run/clatbar-netns/${netns}/engine.sock`;
}
/** The group whose members (besides root) may change things and read history. */
export const DEFAULT_CONTROL_GROUP = 'clatbar';

/** JSON-RPC 2.0 error codes: the standard ones and ours (-32000..-32099, server errors). */
export const RPC_ERROR = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** The caller's uid/groups do not allow this method. */
  notAllowed: -32001,
  /** /etc/clatbar/policy.json forces this value; the user cannot change it. */
  adminForced: -32002,
  /** `current` was named but the engine is on no network now. */
  noCurrentNetwork: -32003,
  /** Too many requests queued or connections open. */
  busy: -32004,
  /** The method exists but the engine cannot do it in its mode (foreground `run --uplink`). */
  unsupported: -32005,
} as const;
export type RpcErrorCode = (typeof RPC_ERROR)[keyof typeof RPC_ERROR];

export const PolicySchema = z.enum(['auto', 'always', 'never']);
export type Policy = z.infer<typeof PolicySchema>;
export const Dns64ModeSchema = z.enum(['off', 'auto', 'on']);
export type Dns64Mode = z.infer<typeof Dns64ModeSchema>;
export const InboundSchema = z.enum(['allow', 'deny']);
export type Inbound = z.infer<typeof InboundSchema>;
/** A network id from listNetworks, or 'current'. */
export const NetworkRefSchema = z.string().min(1).max(128);

/** Per method: its params schema and who may call it ('any' local user, or 'admin': root + group). */
export const METHODS = {
  hello: {
    params: z
      .object({ client: z.string().max(64).optional() })
      .strict()
      .optional(),
    access: 'any',
  },
  status: { params: z.object({}).strict().optional(), access: 'any' },
  enable: { params: z.object({}).strict().optional(), access: 'admin' },
  disable: { params: z.object({}).strict().optional(), access: 'admin' },
  clearOverride: { params: z.object({}).strict().optional(), access: 'admin' },
  setPolicy: {
    params: z
      .object({ network: NetworkRefSchema, policy: z.union([PolicySchema, z.literal('default')]) })
      .strict(),
    access: 'admin',
  },
  setDefaultPolicy: { params: z.object({ policy: PolicySchema }).strict(), access: 'admin' },
  setDns64Mode: { params: z.object({ mode: Dns64ModeSchema }).strict(), access: 'admin' },
  setNetworkOption: {
    params: z
      .object({ network: NetworkRefSchema, option: z.literal('inbound'), value: InboundSchema.nullable() })
      .strict(),
    access: 'admin',
  },
  forgetNetwork: { params: z.object({ network: NetworkRefSchema }).strict(), access: 'admin' },
  listNetworks: { params: z.object({}).strict().optional(), access: 'admin' },
  selfTest: { params: z.object({}).strict().optional(), access: 'admin' },
  diagnostics: { params: z.object({}).strict().optional(), access: 'admin' },
  logs: {
    params: z
      .object({
        /** Only lines after this sequence number (each line's seq). */
        since: z.number().int().nonnegative().optional(),
        /** Only lines written at or after this time (RFC 3339, e.g. 2026-12-04T03:00:00Z). */
        sinceTime: z.iso.datetime({ offset: true }).optional(),
        limit: z.number().int().min(1).max(5000).optional(),
      })
      .strict()
      .optional(),
    access: 'admin',
  },
  subscribe: {
    params: z
      .object({
        topics: z
          .array(z.enum(['state', 'counters', 'logs']))
          .max(3)
          .optional(),
      })
      .strict()
      .optional(),
    access: 'any',
  },
} as const;
export type MethodName = keyof typeof METHODS;

/** The methods that change something: logged with who asked, answered within CHANGE_TIMEOUT_MS. */
export const CHANGE_METHODS: ReadonlySet<string> = new Set<MethodName>([
  'enable',
  'disable',
  'clearOverride',
  'setPolicy',
  'setDefaultPolicy',
  'setDns64Mode',
  'setNetworkOption',
  'forgetNetwork',
]);

/** How long a client waits for method's answer before it calls the engine hung. */
export function callTimeoutMs(method: string): number {
  return CHANGE_METHODS.has(method) ? CHANGE_TIMEOUT_MS : CALL_TIMEOUT_MS;
}

/** The notifications `subscribe` pushes (JSON-RPC requests without an id), by method name. */
export const NOTIFICATIONS = {
  /** The status changed (state, network, prefix): sent at once, and once right after subscribe. */
  state: z.object({ status: z.object({ state: z.string() }).passthrough() }),
  /** The data path's counters, once a second while the engine runs. */
  counters: z.object({ at: z.string(), counters: z.record(z.string(), z.number()) }),
  /** A log line as it is written (root and the group only). */
  log: z.object({ line: LogLineSchema }),
} as const;
export type NotificationName = keyof typeof NOTIFICATIONS;

/** `hello`'s answer: versions, so a client can say what to do when they do not fit. */
export const HelloResultSchema = z.object({
  protocol: z.number().int(),
  engine: z.string(),
  /** What the server knows of the caller, so the client can say "ask for the group" up front. */
  caller: z.object({ uid: z.number().int(), admin: z.boolean(), group: z.string() }),
});
export type HelloResult = z.infer<typeof HelloResultSchema>;

/** One self-test check: what was checked, how it went, in a sentence, and what to do. */
export const SelfTestCheckSchema = z.object({
  id: z.string(),
  title: z.string(),
  result: z.enum(['pass', 'fail', 'skipped']),
  text: z.string(),
  fix: z.string().optional(),
  /**
   * The same three as messages with a code and parameters (shared/locales, engine.selftest_*),
   * so the app can show them in the user's language; title, text and fix stay plain English.
   */
  messages: z.object({ title: MessageSchema, text: MessageSchema, fix: MessageSchema.optional() }).optional(),
});
export type SelfTestCheck = z.infer<typeof SelfTestCheckSchema>;
export const SelfTestReportSchema = z.object({ at: z.string(), checks: z.array(SelfTestCheckSchema) });
export type SelfTestReport = z.infer<typeof SelfTestReportSchema>;

/** Who is calling, from SO_PEERCRED plus the caller's supplementary groups (/proc/PID/status). */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
  /** root, or a member of the control group. */
  admin: boolean;
}

/** Thrown by a backend method: becomes a JSON-RPC error with this code and message. */
export class ControlError extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/**
 * What the control server needs from the engine. The daemon's Supervisor implements all of it;
 * the foreground engine (`run --uplink`) implements status/logs/events and throws
 * ControlError(RPC_ERROR.unsupported, ...) for the per-network methods.
 */
export interface EngineBackend {
  status(): EngineStatusDoc;
  enable(by: Caller): Promise<void>;
  disable(by: Caller): Promise<void>;
  clearOverride(by: Caller): Promise<void>;
  setPolicy(network: string, policy: Policy | 'default', by: Caller): Promise<void>;
  setDefaultPolicy(policy: Policy, by: Caller): Promise<void>;
  setDns64Mode(mode: Dns64Mode, by: Caller): Promise<void>;
  setNetworkOption(network: string, option: 'inbound', value: Inbound | null, by: Caller): Promise<void>;
  forgetNetwork(network: string, by: Caller): Promise<void>;
  listNetworks(): NetworkRecord[];
  logs(since?: number, limit?: number): LogLine[];
  /** State changes and log lines as they happen; returns the unsubscribe. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
}
