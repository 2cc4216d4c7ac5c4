// The engine's status document (JSON-RPC `status`, `clatbar status --json`, the app) and the
// shapes the control API pushes (log lines, network records, events). One zod schema that the
// engine builds against, the CLI and the app validate with, and later issues extend.
//
// States:
//   off        the policy (`never`) or the user's `disable` keeps the CLAT off on this network
//   standby    running and watching, but not translating: the network does not need or allow a
//              CLAT now (offline, native IPv4, no NAT64 prefix, another CLAT); `reason` says which.
//              Just after native IPv4 arrived the CLAT is kept for a while without its IPv4
//              default route (clatKeptUntil), ready to take IPv4 back at once
//   active     translating; every field of the foreground engine's status is present
//   attention  wanted but failing; `fix` says what to do
//   stopping   the engine is putting the host back as it was
import { z } from 'zod';

/** A message meant for a person: a stable code and its parameters beside the English text. */
export const MessageSchema = z.object({
  code: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  text: z.string(),
});
export type Message = z.infer<typeof MessageSchema>;

export const ENGINE_STATES = ['off', 'standby', 'active', 'attention', 'stopping'] as const;
export const EngineStateSchema = z.enum(ENGINE_STATES);
export type EngineStateName = z.infer<typeof EngineStateSchema>;

export const PrefixSourceSchema = z.enum(['pref64', 'ipv4only.arpa', 'configured', 'admin']);

/** What kind of network the uplink is on, as the daemon sees it. */
export const CLASSIFICATIONS = [
  /** No IPv6 default route with a global address (and no native IPv4 either). */
  'offline',
  /** A native IPv4 default route that is not ours. */
  'dual-stack',
  /** IPv6 only, and no NAT64 prefix found (PREF64, ipv4only.arpa, admin file). */
  'ipv6-only',
  /** IPv6 only with a NAT64 prefix: what a CLAT is for. */
  'ipv6-only-nat64',
  /** Another CLAT (NetworkManager ipv4.clat, clatd, tayga, 192.0.0.0/29 elsewhere) is present. */
  'system-clat',
] as const;
export const ClassificationSchema = z.enum(CLASSIFICATIONS);
export type Classification = z.infer<typeof ClassificationSchema>;

export const PolicyValueSchema = z.enum(['auto', 'always', 'never']);
/** Where the policy in force came from. */
export const PolicySourceSchema = z.enum(['default', 'user-default', 'user', 'admin-default', 'admin']);
export type PolicySource = z.infer<typeof PolicySourceSchema>;

/**
 * The policy of networks without one of their own (the daemon's): its value and who chose it.
 * `admin-default` cannot be changed by the user; `adminFile` names the file it is written in (the
 * engine's --admin-policy), for the settings window's lock.
 */
export const DefaultPolicySchema = z.object({
  value: PolicyValueSchema,
  source: z.enum(['default', 'user-default', 'admin-default']),
  adminFile: z.string().optional(),
});
export type DefaultPolicy = z.infer<typeof DefaultPolicySchema>;

export const TransitionSchema = z.object({
  time: z.string(),
  from: EngineStateSchema.nullable(),
  to: EngineStateSchema,
  reason: MessageSchema,
});
export type Transition = z.infer<typeof TransitionSchema>;
export const MAX_TRANSITIONS = 20;

const Dns64StatusSchema = z
  .object({
    mode: z.enum(['auto', 'on']).optional(),
    listen: z.array(z.string()).optional(),
    queries: z.number(),
  })
  .loose();

/** The fields the foreground engine's status had; present (same names, same meaning) while active. */
export const ActiveFieldsSchema = z.object({
  tun: z.string(),
  prefix: z.string(),
  clatIpv4: z.string(),
  clatIpv6: z.string(),
  checksumNeutral: z.boolean(),
  ipv6Mtu: z.number(),
  ipv4Mtu: z.number(),
  forwarding: z.string(),
  firewallWarnings: z.array(z.string()),
  counters: z.record(z.string(), z.number()),
});

export const EngineStatusDocSchema = z
  .object({
    state: EngineStateSchema,
    /** 'daemon' (`clatbar run`) or 'foreground' (`clatbar run --uplink IFACE`). */
    mode: z.enum(['daemon', 'foreground']),
    pid: z.number().int(),
    /** When the engine process started (not the CLAT: that is the latest transition to active). */
    startedAt: z.string(),
    /** Why the state is what it is. */
    reason: MessageSchema,
    /** What the user can do (attention, and standby/off when something can be done). */
    fix: MessageSchema.optional(),
    network: z
      .object({
        id: z.string(),
        name: z.string(),
        /** 'networkmanager' (connection UUID) or 'hash' (uplink, router MAC, /64). */
        idSource: z.enum(['networkmanager', 'hash', 'uplink']),
      })
      .nullable()
      .optional(),
    classification: ClassificationSchema.optional(),
    classificationText: MessageSchema.optional(),
    /**
     * RFC 8925 where NetworkManager manages the uplink: whether its DHCPv4 client asks for option
     * 108 ("IPv6-only preferred") on the network, and why (engine/daemon/v6only-preferred.ts).
     */
    dhcpV6OnlyPreferred: MessageSchema.optional(),
    policy: z
      .object({
        value: PolicyValueSchema,
        source: PolicySourceSchema,
        /** The user's manual enable/disable for this network, while it lasts. */
        override: z.enum(['enable', 'disable']).nullable(),
        /** The admin file decides this network's policy; the user cannot change it. */
        adminForced: z.boolean(),
      })
      .optional(),
    /** The uplink's name (while active: the CLAT's uplink, as before). */
    uplink: z.string().optional(),
    uplinkWhy: MessageSchema.optional(),
    /** The NAT64 prefix ("" while active without one; absent in standby without one). */
    prefix: z.string().optional(),
    prefixSource: PrefixSourceSchema.optional(),
    prefixLifetime: z.number().optional(),
    /** pref64: seconds until it runs out without a new RA. */
    prefixLifetimeLeft: z.number().optional(),
    prefixExpiresAt: z.string().optional(),
    prefixFrom: z.string().optional(),
    prefixProblem: z.string().optional(),
    /**
     * Standby: the CLAT IPv6 address that passed DAD in advance, so bring-up needs none (the
     * RA-to-first-packet target is 1 s; DAD alone takes 1-2 s on Linux).
     */
    preparedClatIpv6: z.string().optional(),
    /**
     * Standby after native IPv4 arrived (reason `standby.dual-stack-kept`): the CLAT instance is
     * kept, without its IPv4 default route and without the DNS64 resolver hook, until this time
     * (ISO 8601); native IPv4 going before then puts the route back instead of a whole bring-up.
     * Afterwards it is torn down. Absent otherwise.
     */
    clatKeptUntil: z.string().optional(),
    dns64Mode: z.enum(['off', 'auto', 'on']).optional(),
    /** The daemon's default policy for networks without one of their own. */
    defaultPolicy: DefaultPolicySchema.optional(),
    inbound: z.enum(['allow', 'deny']).optional(),
    /** The inbound filter (clat/inbound-filter.ts): how it works, its drop count and when it was read. */
    inboundFilter: z
      .object({
        how: z.string(),
        drops: z.number().optional(),
        countedAt: z.string().optional(),
        problem: z.string().optional(),
      })
      .optional(),
    transitions: z.array(TransitionSchema).max(MAX_TRANSITIONS),
    discovery: z.record(z.string(), z.number()).optional(),
    dns64: Dns64StatusSchema.optional(),
  })
  .extend(ActiveFieldsSchema.partial().shape)
  .loose()
  .superRefine((doc, ctx) => {
    if (doc.state !== 'active') return;
    for (const key of Object.keys(ActiveFieldsSchema.shape))
      if ((doc as Record<string, unknown>)[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `an active status has "${key}"` });
    if (doc.uplink === undefined)
      ctx.addIssue({ code: 'custom', path: ['uplink'], message: 'an active status has "uplink"' });
  });
export type EngineStatusDoc = z.infer<typeof EngineStatusDocSchema>;

export const LogLineSchema = z.object({
  seq: z.number().int(),
  time: z.string(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  text: z.string(),
  code: z.string().optional(),
  params: MessageSchema.shape.params,
});
export type LogLine = z.infer<typeof LogLineSchema>;

/** A network the engine has a record of (listNetworks). */
export const NetworkRecordSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** The user's policy for it, if any (absent: the default applies). */
    policy: PolicyValueSchema.optional(),
    /** The admin file's policy for it, if any (wins). */
    adminPolicy: PolicyValueSchema.optional(),
    /** With adminPolicy: the file it is written in (the engine's --admin-policy), for the user to see. */
    adminFile: z.string().optional(),
    inbound: z.enum(['allow', 'deny']).optional(),
    lastSeen: z.string().optional(),
    current: z.boolean(),
  })
  .loose();
export type NetworkRecord = z.infer<typeof NetworkRecordSchema>;

export type EngineEvent = { type: 'state'; status: EngineStatusDoc } | { type: 'log'; line: LogLine };
