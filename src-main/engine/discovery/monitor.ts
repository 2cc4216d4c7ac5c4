// NAT64 prefix discovery on the uplink, at start and for as long as the CLAT runs.
//
// Sources, best first (RFC 9872 §4: use PREF64 when the network announces it, RFC 7050 only
// without; Android's Nat464Xlat likewise prefers the RA's prefix over the DNS one, and
// NetworkManager's ipv4.clat takes only PREF64):
//   1. --prefix (the user knows better; no discovery at all);
//   2. PREF64 in Router Advertisements (RFC 8781), with its lifetime;
//   3. the AAAA records the uplink's own resolvers synthesize for ipv4only.arpa (RFC 7050).
//
// At start a Router Solicitation (RFC 4861 §6.3.7) asks the routers for an RA now rather than
// at their next periodic one (up to MaxRtrAdvInterval, 600 s by default), and the RFC 7050
// query runs at the same time. The wait is bounded: a PREF64 ends it at once; an RA without
// PREF64 means the router does not announce one, so the RFC 7050 answer is taken as soon as it
// is in; otherwise whatever is known when waitMs runs out.
import { parsePref64Options, type Pref64Option } from './pref64.js';
import { prefixesFromAnswers } from './rfc7050.js';
import { Upstreams, formatServer, type UpstreamServer } from '../dns/upstream.js';
import { RCODE, TYPE } from '../dns/wire.js';
import type { PrefixSource } from '../../shared/ipc.js';
import { envNumber } from '../system/env-override.js';
import { say, type Said, type Say } from '../../shared/say.js';

export type { PrefixSource };

export interface Nat64Prefix {
  /** "2001:db8:64::/96" */
  prefix: string;
  source: PrefixSource;
  /** pref64: the lifetime the last RA gave, seconds. */
  lifetime?: number;
  /** pref64: when it runs out unless an RA refreshes it (ms since the epoch). */
  expiresAt?: number;
  /** pref64: the router (link-local address) that announced it; ipv4only.arpa: the resolvers. */
  from?: string;
}

/** What the monitor needs of an RA socket (tun/ra-socket.ts RaSocket has exactly this). */
export interface RaSource {
  onMessage(cb: (ra: { source: string; payload: Uint8Array }) => void): void;
  onError(cb: (err: Error) => void): void;
  solicit(): void;
  close(): void;
}

export interface MonitorOptions {
  uplink: string;
  /** The uplink's resolvers, learned before any hooking (never our own stub). */
  resolvers: UpstreamServer[];
  /** Opens the RA socket on the uplink; null when raw ICMPv6 is not available. */
  openRa: () => RaSource | null;
  log: Say;
  /** Longest wait at start, ms. default 4000 */
  waitMs?: number;
  /** Per-attempt timeout of the ipv4only.arpa query, ms. default 1000 */
  dnsTimeoutMs?: number;
  /**
   * How often ipv4only.arpa is asked again while no PREF64 is in use, ms. Default: when the
   * answer's TTL runs out (RFC 7050 §3: the prefix is valid for the TTL of the records it came
   * from; a DNS64 that changes its prefix is followed, not only one whose answer goes away), at
   * least minRecheckMs apart; 10 min when the answer had no records to take a TTL from.
   */
  recheckMs?: number;
  /** The shortest TTL-driven re-ask, ms (default 60 s): a TTL of 0 must not become a loop. */
  minRecheckMs?: number;
  /**
   * The least time between two changes of the prefix in use, ms (default 250, or
   * CLATBAR_PREF64_HOLD_MS for tests that flap the lab's network on purpose; 0: none). A change
   * that comes sooner waits, and the next wait is twice as long, up to 32 times this: a router
   * flapping between prefixes is followed ever more slowly, a renumbering at once.
   */
  holdMs?: number;
  /** For tests: the RFC 7050 query. default askIpv4OnlyArpa below */
  ask?: (servers: UpstreamServer[], opts: AskOptions) => Promise<Ipv4OnlyAnswers | null>;
}

/** The AAAA records of an ipv4only.arpa answer, and the lowest TTL among them (seconds). */
export type Ipv4OnlyAnswers = Buffer[] & { ttl?: number };

export interface AskOptions {
  timeoutMs: number;
  attempts: number;
  /** Aborted by close(): the query ends at once and holds no socket or timer after. */
  signal: AbortSignal;
}

/**
 * RFC 7050 §3: AAAA ipv4only.arpa asked of the network's resolvers. The AAAA records of a
 * NOERROR answer ([] for NODATA); [] for NXDOMAIN (no DNS64 synthesizes there). Null when there
 * is no answer to go by: every attempt timed out, or only SERVFAIL/REFUSED/other errors came
 * back, which say the resolver is unwell now, not that it stopped synthesizing (a prefix learned
 * before is kept through them).
 */
export async function askIpv4OnlyArpa(
  servers: UpstreamServer[],
  opts: AskOptions,
): Promise<Ipv4OnlyAnswers | null> {
  if (opts.signal.aborted) return null;
  const up = new Upstreams(servers, { timeoutMs: opts.timeoutMs, attempts: opts.attempts });
  // Upstreams.close() settles what is pending with null and clears its timers.
  const onAbort = (): void => up.close();
  opts.signal.addEventListener('abort', onAbort);
  try {
    const name = Buffer.from([8, ...Buffer.from('ipv4only'), 4, ...Buffer.from('arpa'), 0]);
    const r = await up.query(name, TYPE.AAAA, 1, false, false);
    if (!r || opts.signal.aborted) return null;
    if (r.msg.rcode === RCODE.NXDOMAIN) return [];
    if (r.msg.rcode !== RCODE.NOERROR) return null;
    const rrs = r.msg.answer.filter((rr) => rr.type === TYPE.AAAA && rr.rdLen === 16);
    const out: Ipv4OnlyAnswers = rrs.map((rr) => Buffer.from(r.wire.subarray(rr.rdOff, rr.rdOff + 16)));
    if (rrs.length) out.ttl = Math.min(...rrs.map((rr) => rr.ttl));
    return out;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    up.close();
  }
}

export interface MonitorStats {
  /** Valid RAs seen on the uplink. */
  ras: number;
  /** RAs that carried at least one usable PREF64. */
  rasWithPref64: number;
  /** PREF64 options not used (bad length, unknown PLC, not an RFC 6052 prefix). */
  pref64Ignored: number;
  /** PREF64 options whose bits past the prefix length were set (cleared and used). */
  pref64HostBitsCleared: number;
  /** RAs whose option area was broken. */
  malformedRas: number;
  /** Router Solicitations sent. */
  solicitations: number;
  /** ipv4only.arpa queries made. */
  rfc7050Queries: number;
}

/**
 * One prefix as one router announces it. Kept per (router, prefix): with two routers on the link
 * announcing the same prefix, one withdrawing it (or its lifetime running out) leaves the other's
 * announcement standing (RFC 8781 §5.1 has hosts expect PREF64s from several routers).
 */
interface Pref64Entry {
  opt: Pref64Option;
  router: string;
  expiresAt: number;
  refreshedAt: number;
}

function entryKey(router: string, prefix: string): string {
  return `${router} ${prefix}`;
}

/**
 * Bounds on what RAs can make us keep: anyone on the link can send RAs from any number of
 * made-up link-local sources (there is no RA guard on most Wi-Fi), and neither the table nor the
 * set of problems already logged may grow with them.
 */
const MAX_ENTRIES = 32;
const MAX_NOTES = 100;

/** Re-ask ipv4only.arpa without a TTL to go by (no records), and at the latest (a day). */
const RECHECK_DEFAULT_MS = 600_000;
const RECHECK_MAX_MS = 86_400_000;
/** Re-ask ipv4only.arpa when the PREF64 goes away, but not more often than this. */
const REQUERY_MIN_MS = 2000;
/** A second solicitation if the first got no RA (it may leave before the link is ready). */
const SECOND_RS_MS = 1500;
/**
 * Prefix changes are damped (like BGP's route flap damping): anyone on the link can send RAs,
 * and one switching the PREF64 with every RA, a thousand a second, made as many translator
 * switches, DNS64 cache flushes, status pushes to every client and log lines (the log ring's
 * 2000 lines gone in a second, journald's rate limit hit). A change within the hold of the last
 * waits for it to end (then the table as it is then counts); each such wait doubles the hold,
 * up to HOLD_MAX_FACTOR times the base; a change after twice the hold of quiet resets it.
 * A router keeping to RFC 4861 (§6.2.6: multicast RAs at least 3 s apart) is never held once
 * the hold is back at its base; the largest hold, 8 s, still bounds a flood to a switch (and
 * three log lines) every 8 s, and is shorter than any wait of the lab's tests.
 */
const HOLD_DEFAULT_MS = 250;
const HOLD_MAX_FACTOR = 32;

export class PrefixMonitor {
  readonly stats: MonitorStats = {
    ras: 0,
    rasWithPref64: 0,
    pref64Ignored: 0,
    pref64HostBitsCleared: 0,
    malformedRas: 0,
    solicitations: 0,
    rfc7050Queries: 0,
  };
  private readonly ra: RaSource | null;
  private readonly table = new Map<string, Pref64Entry>();
  /** The table key (router and prefix) of the PREF64 in use, or null. */
  private pref64: string | null = null;
  private rfc7050: Nat64Prefix | null = null;
  /** What the last ipv4only.arpa query found out, in words, for the error message. */
  private rfc7050Outcome = 'not asked yet';
  /** The TTL (s) of the last ipv4only.arpa answer with records; null: none to go by. */
  private rfc7050Ttl: number | null = null;
  private rfc7050Done = false;
  private rfc7050Pending: Promise<void> | null = null;
  private lastQueryAt = 0;
  private sawRa = false;
  private sawRaWithoutPref64 = false;
  private effective: Nat64Prefix | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private rsTimer: NodeJS.Timeout | null = null;
  private recheckTimer: NodeJS.Timeout | null = null;
  /** Flap damping: when the prefix in use last changed, the hold now, a change waiting for it. */
  private lastChangeAt = -Infinity;
  private readonly holdBaseMs: number;
  private holdMs: number;
  private holdTimer: NodeJS.Timeout | null = null;
  /** A change waited for the hold to end: the next hold is longer. */
  private flapping = false;
  private readonly changeCbs: ((next: Nat64Prefix | null, prev: Nat64Prefix | null) => void)[] = [];
  private readonly settleCbs: (() => void)[] = [];
  private readonly loggedProblems = new Set<string>();
  private closed = false;
  /** Aborts a pending ipv4only.arpa query at close(). */
  private readonly closing = new AbortController();
  private readonly waitMs: number;
  private readonly ask: NonNullable<MonitorOptions['ask']>;

  constructor(private readonly opts: MonitorOptions) {
    this.waitMs = opts.waitMs ?? 4000;
    this.holdBaseMs = opts.holdMs ?? envNumber('CLATBAR_PREF64_HOLD_MS', HOLD_DEFAULT_MS, 0, 10_000);
    this.holdMs = this.holdBaseMs;
    this.ask = opts.ask ?? askIpv4OnlyArpa;
    let ra: RaSource | null = null;
    try {
      ra = opts.openRa();
    } catch (err) {
      opts.log(say('discovery.ra-unreadable', { uplink: opts.uplink, error: (err as Error).message }));
    }
    this.ra = ra;
    if (ra) {
      ra.onError((err) =>
        opts.log(say('discovery.ra-read-error', { uplink: opts.uplink, error: err.message })),
      );
      ra.onMessage((m) => this.onRa(m.source, m.payload));
      this.solicit();
      this.rsTimer = setTimeout(() => {
        if (!this.sawRa) this.solicit();
      }, SECOND_RS_MS);
      this.rsTimer.unref();
    }
    this.query();
  }

  /** The prefix in use now (PREF64 over RFC 7050), or null. */
  get current(): Nat64Prefix | null {
    return this.effective;
  }

  /** Called with every change of the prefix in use, after start. */
  onChange(cb: (next: Nat64Prefix | null, prev: Nat64Prefix | null) => void): void {
    this.changeCbs.push(cb);
  }

  /**
   * The prefix to start with: waits at most waitMs (less when the answer is clear sooner) and
   * resolves with null when the network announces none, or at once with null after close()
   * (whoever closed it wants no prefix any more, e.g. a SIGINT during the wait).
   */
  initial(): Promise<Nat64Prefix | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), this.waitMs);
      const done = () => {
        clearTimeout(timer);
        const i = this.settleCbs.indexOf(check);
        if (i >= 0) this.settleCbs.splice(i, 1);
        resolve(this.closed ? null : this.effective);
      };
      const check = () => {
        if (this.closed || this.pref64) return done();
        // No PREF64 to wait for: the router's RA came without one, or RAs cannot be read.
        const noPref64Coming = this.sawRaWithoutPref64 || this.ra === null;
        if (this.rfc7050Done && noPref64Coming) done();
      };
      this.settleCbs.push(check);
      check();
    });
  }

  /**
   * Why nothing was found, in words: "no PREF64 in the router advertisements on up0,
   * ipv4only.arpa not synthesized by [2001:db8:1::1]:53".
   */
  whyNone(): string {
    const ra = this.ra
      ? this.sawRa
        ? `no PREF64 in the router advertisements on ${this.opts.uplink}`
        : `no router advertisement on ${this.opts.uplink} within ${this.waitMs / 1000} s of a solicitation`
      : `router advertisements on ${this.opts.uplink} could not be read`;
    return `${ra}, ${this.rfc7050Outcome}`;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.rsTimer) clearTimeout(this.rsTimer);
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.ra?.close();
    for (const cb of [...this.settleCbs]) cb();
  }

  private solicit(): void {
    try {
      this.ra?.solicit();
      this.stats.solicitations++;
    } catch (err) {
      this.opts.log(say('discovery.rs-failed', { uplink: this.opts.uplink, error: (err as Error).message }));
    }
  }

  private query(): void {
    if (this.rfc7050Pending || this.closed) return;
    const servers = this.opts.resolvers;
    if (servers.length === 0) {
      this.rfc7050Outcome = `no resolvers known for ${this.opts.uplink} to ask for ipv4only.arpa`;
      this.rfc7050Done = true;
      this.settle();
      return;
    }
    const names = servers.map(formatServer).join(', ');
    this.stats.rfc7050Queries++;
    this.lastQueryAt = Date.now();
    const timeoutMs = this.opts.dnsTimeoutMs ?? 1000;
    this.rfc7050Pending = this.ask(servers, {
      timeoutMs,
      attempts: Math.min(4, 2 * servers.length),
      signal: this.closing.signal,
    })
      .then(
        (answers) => {
          if (this.closed) return;
          this.rfc7050Ttl = answers?.ttl ?? null;
          if (answers === null) {
            // Silence is not an answer: a prefix learned before stays (the resolvers may be
            // busy or briefly unreachable); only a reply without synthesis takes it away.
            this.rfc7050Outcome = `no answer for ipv4only.arpa from ${names}`;
            if (this.rfc7050)
              this.note(say('discovery.rfc7050-silent', { servers: names, prefix: this.rfc7050.prefix }));
            return;
          }
          const r = prefixesFromAnswers(answers);
          for (const why of r.rejected) this.note(say('discovery.rfc7050-rejected', { reason: why }));
          if (r.prefixes.length === 0) {
            this.rfc7050Outcome =
              answers.length === 0
                ? `ipv4only.arpa not synthesized by ${names}`
                : `no usable NAT64 prefix in the ipv4only.arpa answers from ${names}`;
            this.rfc7050 = null;
            return;
          }
          if (r.prefixes.length > 1)
            this.note(
              say('discovery.rfc7050-several', {
                count: r.prefixes.length,
                prefixes: r.prefixes.map((p) => p.prefix).join(', '),
              }),
            );
          this.rfc7050Outcome = `ipv4only.arpa synthesized by ${names} as ${r.prefixes[0].prefix}`;
          this.rfc7050 = { prefix: r.prefixes[0].prefix, source: 'ipv4only.arpa', from: names };
        },
        (err: Error) => {
          this.rfc7050Outcome = `asking ${names} for ipv4only.arpa failed: ${err.message}`;
        },
      )
      .finally(() => {
        this.rfc7050Pending = null;
        this.rfc7050Done = true;
        this.recompute();
        this.settle();
        this.scheduleRecheck();
      });
  }

  private scheduleRecheck(): void {
    if (this.closed) return;
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      // While a PREF64 is in use the DNS answer does not matter; it is asked again when the
      // PREF64 goes away (recompute).
      if (this.effective?.source === 'pref64') this.scheduleRecheck();
      else this.query();
    }, this.recheckDelay());
    this.recheckTimer.unref();
  }

  private recheckDelay(): number {
    if (this.opts.recheckMs !== undefined) return this.opts.recheckMs;
    if (this.rfc7050Ttl === null) return RECHECK_DEFAULT_MS;
    const min = this.opts.minRecheckMs ?? 60_000;
    return Math.min(Math.max(this.rfc7050Ttl * 1000, min), RECHECK_MAX_MS);
  }

  /** Logs a problem once (RAs repeat every few minutes; the log should not). */
  private note(m: Said): void {
    if (this.loggedProblems.has(m.text)) return;
    if (this.loggedProblems.size >= MAX_NOTES) {
      if (this.loggedProblems.size === MAX_NOTES)
        this.opts.log(say('discovery.too-many-problems', { max: MAX_NOTES }));
      this.loggedProblems.add('');
      return;
    }
    this.loggedProblems.add(m.text);
    this.opts.log(m);
  }

  private onRa(router: string, payload: Uint8Array): void {
    if (this.closed) return;
    this.stats.ras++;
    this.sawRa = true;
    const parsed = parsePref64Options(payload);
    if (parsed.malformed) {
      this.stats.malformedRas++;
      return;
    }
    this.stats.pref64Ignored += parsed.ignored.length;
    this.stats.pref64HostBitsCleared += parsed.hostBitsCleared;
    for (const i of parsed.ignored)
      this.note(say('discovery.pref64-ignored', { router, detail: i.detail, problem: i.problem }));
    const now = Date.now();
    let newest: string | null = null; // table key
    if (parsed.options.some((o) => o.lifetime > 0)) {
      // An RA with PREF64 states the router's whole current set: a prefix it announced before
      // and has now dropped from its configuration is not kept alive by the old lifetime (it
      // would come back, stale, when the new one is withdrawn). An RA without PREF64 says
      // nothing (RFC 4861 §6.2.3 lets routers leave options out of some RAs).
      for (const [k, e] of this.table)
        if (e.router === router && !parsed.options.some((o) => o.prefix === e.opt.prefix)) {
          this.table.delete(k);
          if (this.pref64 === k) this.pref64 = null;
        }
    }
    for (const opt of parsed.options) {
      const key = entryKey(router, opt.prefix);
      if (opt.lifetime === 0) {
        // RFC 8781 §4: lifetime 0 withdraws the prefix, as far as this router is concerned.
        if (this.table.delete(key))
          this.opts.log(say('discovery.pref64-withdrawn', { router, prefix: opt.prefix }));
        if (this.pref64 === key) this.pref64 = null;
        continue;
      }
      if (!this.table.has(key) && this.table.size >= MAX_ENTRIES) this.evictOne();
      this.table.set(key, { opt, router, expiresAt: now + opt.lifetime * 1000, refreshedAt: now });
      newest ??= key;
    }
    if (newest) this.stats.rasWithPref64++;
    // No usable PREF64 in it (none, or only withdrawals): this router does not announce one.
    else this.sawRaWithoutPref64 = true;
    // The prefix in use stays while some router still announces it: with two routers announcing
    // different prefixes, taking whichever RA came last would switch the translator (and flush
    // the DNS64 cache) with every RA. A router that renumbers drops the old prefix from its RAs
    // (the whole-set rule above), so its new one takes over with the next RA, as with Android's
    // IpClient; during a graceful renumbering (both in one RA, RFC 8781 §5) the old one is kept
    // until it is withdrawn.
    if (!this.pref64 || !this.table.has(this.pref64)) this.pref64 = newest ?? this.bestLeft();
    this.armExpiry();
    this.recompute();
    this.settle();
  }

  /** Makes room in a full table: the least recently refreshed entry other than the one in use. */
  private evictOne(): void {
    let oldest: [string, Pref64Entry] | null = null;
    for (const [k, e] of this.table)
      if (k !== this.pref64 && (!oldest || e.refreshedAt < oldest[1].refreshedAt)) oldest = [k, e];
    if (oldest) this.table.delete(oldest[0]);
  }

  /** The most recently refreshed PREF64 still alive, if any. */
  private bestLeft(): string | null {
    let best: [string, Pref64Entry] | null = null;
    for (const [k, e] of this.table) if (!best || e.refreshedAt > best[1].refreshedAt) best = [k, e];
    return best ? best[0] : null;
  }

  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    let next = Infinity;
    for (const e of this.table.values()) next = Math.min(next, e.expiresAt);
    if (next === Infinity || this.closed) return;
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, next - Date.now()));
    this.expiryTimer.unref();
  }

  private expire(): void {
    const now = Date.now();
    for (const [k, e] of this.table)
      if (e.expiresAt <= now) {
        this.table.delete(k);
        this.opts.log(
          say('discovery.pref64-expired', {
            prefix: e.opt.prefix,
            router: e.router,
            lifetime: e.opt.lifetime,
          }),
        );
        if (this.pref64 === k) this.pref64 = null;
      }
    if (!this.pref64) this.pref64 = this.bestLeft();
    this.armExpiry();
    this.recompute();
  }

  private recompute(): void {
    if (this.closed) return;
    let next: Nat64Prefix | null = null;
    if (this.pref64) {
      const e = this.table.get(this.pref64);
      if (e)
        next = {
          prefix: e.opt.prefix,
          source: 'pref64',
          lifetime: e.opt.lifetime,
          expiresAt: e.expiresAt,
          from: e.router,
        };
    }
    if (!next) {
      next = this.rfc7050;
      // PREF64 went away (or never came): the DNS64 may know; ask again, not in a loop.
      // Within REQUERY_MIN_MS of the last query, it is asked once that much time has passed
      // (a PREF64 withdrawn twice in a row must not leave the DNS64's answer unasked).
      if (this.effective?.source === 'pref64') {
        const wait = this.lastQueryAt + REQUERY_MIN_MS - Date.now();
        if (wait < 0) this.query();
        else {
          if (this.recheckTimer) clearTimeout(this.recheckTimer);
          this.recheckTimer = setTimeout(() => {
            this.recheckTimer = null;
            if (this.effective?.source !== 'pref64') this.query();
          }, wait + 1);
          this.recheckTimer.unref();
        }
      }
    }
    const prev = this.effective;
    if (prev?.prefix === next?.prefix && prev?.source === next?.source) {
      // Same prefix (a lifetime refreshed): nothing to wait for, the details go in at once.
      this.effective = next;
      return;
    }
    // A PREF64 where there was none (no prefix, or only ipv4only.arpa's) is taken at once: the
    // network's own announcement, and bring-up waits for it (RA to first ping: 1 s). Damping
    // still bounds a router that announces and withdraws: every withdrawal waits.
    const gaining = next?.source === 'pref64' && prev?.source !== 'pref64';
    const wait = gaining ? 0 : this.lastChangeAt + this.holdMs - Date.now();
    if (wait > 0) {
      // Within the hold of the last change: decided again when it ends, from the table then.
      this.holdTimer ??= setTimeout(() => {
        this.holdTimer = null;
        this.flapping = true;
        this.recompute();
      }, wait);
      this.holdTimer.unref();
      return;
    }
    // Quiet for twice the hold: not flapping, the next change waits only the base. Otherwise,
    // if this change had to wait, the next one waits twice as long.
    if (Date.now() - this.lastChangeAt > 2 * this.holdMs) this.holdMs = this.holdBaseMs;
    else if (this.flapping) this.holdMs = Math.min(this.holdMs * 2, this.holdBaseMs * HOLD_MAX_FACTOR);
    this.flapping = false;
    this.lastChangeAt = Date.now();
    this.effective = next;
    for (const cb of this.changeCbs) cb(next, prev);
  }

  private settle(): void {
    for (const cb of [...this.settleCbs]) cb();
  }
}
