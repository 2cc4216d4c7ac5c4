// The DNS64 stub's options and statistics: what `clatbar dns64`, the CLAT glue and the tests
// configure and read.
import type { CacheOptions } from './cache.js';
import type { Pref64 } from '../ip/rfc6052.js';
import type { Prefix6 } from '../ip/address.js';
import type { UpstreamServer, UpstreamStats } from '../dns/upstream.js';
import type { Say } from '../../shared/say.js';

export type Dns64Mode = 'on' | 'auto';

export interface ListenAddress {
  address: string;
  /** 0 picks a free port (the same one for UDP and TCP); see boundAddresses(). */
  port: number;
}

export interface Dns64Options {
  listen: ListenAddress[];
  upstreams: UpstreamServer[];
  /** The NAT64 prefix; null passes everything through until setPrefix() gives one. */
  prefix: Pref64 | null;
  /** on: always synthesize. auto: pass through when the upstreams already do DNS64. */
  mode?: Dns64Mode;
  /** §5.1.4 exclusion set; default ::ffff:0:0/96. */
  exclude?: Prefix6[];
  /** Per-attempt upstream timeout, ms (default 1500). */
  timeoutMs?: number;
  /** Upstream attempts in total (default 2 per server). */
  attempts?: number;
  /**
   * A query waiting on the upstreams is answered SERVFAIL after this many ms, whatever the
   * attempts still have to go (default 4000: under the 5 s after which stub resolvers give up).
   */
  answerWithinMs?: number;
  cache?: CacheOptions;
  /** Idle TCP connections are closed after this many ms (RFC 7766 §6.2.3). */
  tcpIdleMs?: number;
  maxTcpConnections?: number;
  /** How often mode auto re-checks the upstreams, ms (default 5 minutes). */
  probeIntervalMs?: number;
  /**
   * UDP through the native addon's batched sockets (recvmmsg/sendmmsg), default true; false, or
   * no addon, uses node:dgram.
   */
  udpBatch?: boolean;
  /**
   * With batched UDP: cache hits are answered inside the native socket, without entering JS
   * (byte for byte what the JS path sends). Default true; the environment variable
   * CLATBAR_DNS64_FASTPATH=0 turns the default off (for measurement). See setFastPath().
   */
  udpFastPath?: boolean;
  log?: Say;
  /** Problems (upstreams not answering, internal errors); default: log. */
  warn?: Say;
}

export interface Dns64Stats {
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  cacheHits: number;
  coalesced: number;
  synthesized: number;
  ptrSynthesized: number;
  localAnswers: number;
  passedThrough: number;
  servfail: number;
  /** Answers SERVFAIL because the upstreams had not settled the question within answerWithinMs. */
  servfailAtDeadline: number;
  formerr: number;
  dropped: number;
  truncated: number;
  tcpConnections: number;
  /** UDP reads through recvmmsg (one per batch of queries); 0 on node:dgram. */
  udpBatches: number;
  /** Of the cache hits, those answered in the native socket without entering JS. */
  udpFastAnswers: number;
  /** The most queries one batch carried. */
  udpMaxBatch: number;
  cacheEntries: number;
  /** Mode auto's finding: true when the upstreams synthesize themselves, null before the first probe. */
  upstreamDoesDns64: boolean | null;
  upstream: UpstreamStats;
}
