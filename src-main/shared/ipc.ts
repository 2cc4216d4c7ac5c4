// The one typed contract between the Electron main process and the renderer (the preload
// exposes exactly ClatbarApi as window.clatbar). Types only, plus two constant tables (IPC
// channel names, drop reasons in words) that main, preload, renderer and CLI must agree on.

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
  /** Things that work but may bite (a firewall that would drop translated packets). */
  warnings?: string[];
  /** The engine process this status came from. */
  engine?: { pid: number; startedAt: string; controlSocket: string };
  uplink?: string;
  prefix?: { prefix: string; source: PrefixSource };
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
 * Drop reasons in words: the translator's (engine/siit/counters.ts REASONS) and the data
 * path's own. The diagnostics window and `clatbar status` both show these.
 */
export const DROP_REASONS: Readonly<Record<string, string>> = {
  'not-ip': 'not an IP packet',
  truncated: 'shorter than its own headers say',
  'bad-ipv4-header': 'malformed IPv4 header',
  'bad-ipv4-checksum': 'IPv4 header checksum wrong',
  'bad-ipv6-header': 'malformed IPv6 header',
  'ext-header-chain': 'IPv6 extension headers malformed or cut short',
  'transport-truncated': 'TCP, UDP or ICMP header cut short',
  'illegal-source': 'from an address that must never be a source (loopback, multicast, unspecified)',
  'src-untranslatable': 'source address has no form in the other IP version',
  'dst-untranslatable':
    'destination has no form in the other IP version (multicast, broadcast, outside the prefix)',
  'ttl-expired': 'hop limit ran out (Time Exceeded sent back)',
  'too-big': 'too big for the IPv6 path with Don’t Fragment set (Fragmentation Needed sent back)',
  'source-route': 'IPv4 source route option (not translatable)',
  'routing-header': 'IPv6 routing header with hops left (not translatable)',
  'ext-header-after-fragment': 'extension header after the Fragment header',
  'udp-checksum-zero': 'UDP with a zero checksum (invalid in IPv6, RFC 8200 §8.1)',
  'udp-checksum-zero-fragment': 'fragmented IPv4 UDP without checksum (cannot be computed)',
  'icmp-fragmented': 'fragmented ICMP message',
  'icmp-fragment-expired': 'first fragment of a fragmented ping whose last fragment never came',
  'icmp-rate-limited':
    "ICMP errors not sent: over the translator's rate limit (RFC 4443 §2.4(f)); the packets are counted under their own reason too",
  'icmp-untranslatable': 'ICMP type with no counterpart in the other IP version',
  'icmp-checksum': 'ICMP checksum wrong',
  'icmp-inner-invalid': 'ICMP error quoting a malformed packet',
  'icmp-inner-untranslatable': 'ICMP error quoting a packet that cannot be translated',
  'icmp-error-nested': 'ICMP error about an ICMP error',
  'hairpin-loop': 'would loop back into the CLAT',
  'write-refused': 'the TUN’s write queue was full',
  'write-errors': 'writing to the TUN failed',
  'staged-overflow': 'no room left for packets the translator made itself',
  'inbound-unsolicited':
    'came in from the network through the CLAT unasked (no flow this host started; --inbound deny), or a DNS query for the stub from the network',
};

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

export interface EngineClientOptions {
  /** The engine's control socket (run.ts's --control-socket; default /run/clatbar/engine.sock). */
  socketPath: string;
  /** How often to ask for status while connected. default 1000 ms */
  pollMs?: number;
  /** First and longest wait before reconnecting; doubles in between. default 250 / 5000 ms */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A request not answered within this is a hung engine: reconnect. default 3000 ms */
  timeoutMs?: number;
}

export interface EngineStatusSource {
  /** The latest status (disconnected until the first answer). */
  readonly status: EngineStatus;
  /** Connects and keeps connecting until close(). */
  start(): void;
  onStatus(listener: (status: EngineStatus) => void): () => void;
  close(): void;
}
