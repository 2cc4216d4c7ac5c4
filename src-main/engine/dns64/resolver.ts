// The order in which the DNS64 asks its upstreams (RFC 6147 §5.1: AAAA and A in parallel, CNAME
// chains followed, PTR under the prefix) and which rfc6147.ts rule turns their replies into the
// answer. Asynchronous, but without sockets of its own: queries go through dns/upstream.ts.
import { CLASS_IN, RCODE, TYPE, nameToText, textToName } from '../dns/wire.js';
import type { Pref64 } from '../ip/rfc6052.js';
import type { Prefix6 } from '../ip/address.js';
import type { UpstreamReply, Upstreams } from '../dns/upstream.js';
import {
  IPV4ONLY_ARPA,
  NO_SOA_TTL,
  danglingTarget,
  excluded,
  filtered,
  ipv4onlyAnswer,
  joinChain,
  judgeAaaa,
  passthrough,
  ptrAnswer,
  ptrTarget,
  servfail,
  synthesize,
  type Query,
  type Result,
} from './rfc6147.js';

/** §5.1.5: at most this many CNAME hops are followed on the resolver's behalf. */
const MAX_CHASE = 8;

/** What the resolutions count (the server's statistics hold the same object). */
export interface ResolutionCounts {
  synthesized: number;
  ptrSynthesized: number;
  localAnswers: number;
  passedThrough: number;
  servfail: number;
}

export interface ResolverState {
  /** The NAT64 prefix in force now (it may change while a resolution waits on the upstreams). */
  prefix(): Pref64 | null;
  /** Whether AAAA synthesis is in effect now (a prefix, and mode auto has not turned it off). */
  synthesizing(): boolean;
  /** §5.1.4 exclusion set. */
  readonly exclude: readonly Prefix6[];
}

export class Dns64Resolver {
  constructor(
    private readonly up: Upstreams,
    private readonly state: ResolverState,
    private readonly c: ResolutionCounts,
  ) {}

  /** The answer to q, asking the upstreams as RFC 6147 §5 says. */
  resolve(q: Query): Promise<Result> {
    // §5: classes other than IN get no DNS64 treatment. §5.5 (3): CD=1 means the client
    // validates, so it gets the real data and never a synthesized answer.
    if (!this.state.synthesizing() || q.qclass !== CLASS_IN || q.cd) return this.forward(q);
    if (nameToText(q.qname) === IPV4ONLY_ARPA && (q.qtype === TYPE.AAAA || q.qtype === TYPE.A)) {
      this.c.localAnswers++;
      return Promise.resolve(ipv4onlyAnswer(q, this.state.prefix() as Pref64));
    }
    if (q.qtype === TYPE.AAAA) return this.aaaa(q);
    if (q.qtype === TYPE.PTR) return this.ptr(q);
    return this.forward(q);
  }

  /**
   * Mode auto (RFC 7050 §3): the addresses the upstreams give for ipv4only.arpa AAAA, outside the
   * exclusion set: some means they synthesize themselves. null when they did not answer.
   */
  async upstreamSynthesis(): Promise<Uint8Array[] | null> {
    const r = await this.up.query(textToName(IPV4ONLY_ARPA), TYPE.AAAA, CLASS_IN, false, false);
    if (!r) return null;
    if (r.msg.rcode !== RCODE.NOERROR) return [];
    return r.msg.answer
      .filter((rr) => rr.type === TYPE.AAAA && rr.rdLen === 16)
      .map((rr) => r.wire.subarray(rr.rdOff, rr.rdOff + 16))
      .filter((a) => !excluded(this.state.exclude, a));
  }

  servfail(q: Query): Result {
    this.c.servfail++;
    return servfail(q);
  }

  private passed(r: UpstreamReply, q: Query): Result {
    this.c.passedThrough++;
    return passthrough(r, q);
  }

  private async forward(q: Query): Promise<Result> {
    // Chains are completed for data types, so every type sees the same, whole chain (§5.3.3
    // still holds: the upstream's records go out unchanged, only missing links are added).
    const chase =
      q.qclass === CLASS_IN && q.qtype !== TYPE.CNAME && q.qtype !== TYPE.ANY && q.qtype !== TYPE.DNAME;
    const r = chase
      ? await this.chased(q.qname, q.qtype, q.dnssecOk, q.cd)
      : await this.up.query(q.qname, q.qtype, q.qclass, q.cd, q.dnssecOk);
    if (!r) return this.servfail(q);
    return this.passed(r, q);
  }

  private async aaaa(q: Query): Promise<Result> {
    // §5.1.8: the A query goes out at the same time, so names without AAAA cost one round trip.
    // Caught here: when the AAAA answer settles things, nobody awaits this promise.
    const aQuery = this.chased(q.qname, TYPE.A, q.dnssecOk).catch(() => null);
    const r1 = await this.chased(q.qname, TYPE.AAAA, q.dnssecOk);
    const verdict = judgeAaaa(r1, this.state.exclude);
    if (verdict.kind === 'answer') return this.passed(r1 as UpstreamReply, q);
    if (verdict.kind === 'filtered') return filtered(r1 as UpstreamReply, q, verdict.bad);
    // §5.1.3: no answer in time counts as an empty answer too; §5.1.6: now the A records.
    const r2 = await aQuery;
    if (!r2) return this.servfail(q);
    // §5.1.6: an error from the A query is the basis of the answer.
    if (r2.msg.rcode !== RCODE.NOERROR) return this.passed(r2, q);
    // The prefix in force now, not when the query came: discovery may have changed it while the
    // upstreams answered (the result is then not cached: the generation moved on). No prefix any
    // more means passing through, as a query arriving now would be.
    const prefix = this.state.prefix();
    if (!prefix) return r1 ? this.passed(r1, q) : this.servfail(q);
    const { result, made } = synthesize(r2, q, prefix, verdict.negTtl ?? NO_SOA_TTL);
    if (made > 0) this.c.synthesized++;
    return result;
  }

  /**
   * §5.1.5: the chain is followed to its end. A resolver normally does that for us; when its
   * answer stops at a CNAME whose target it did not resolve (unbound's local data does this),
   * we ask for the target ourselves, at most MAX_CHASE times, and join the answers.
   */
  private async chased(
    qname: Buffer,
    qtype: number,
    dnssecOk: boolean,
    cd = false,
  ): Promise<UpstreamReply | null> {
    let r = await this.up.query(qname, qtype, CLASS_IN, cd, dnssecOk);
    for (let hop = 0; r && hop < MAX_CHASE && r.msg.rcode === RCODE.NOERROR; hop++) {
      const target = danglingTarget(r, qname, qtype);
      if (!target) break;
      const next = await this.up.query(target, qtype, CLASS_IN, cd, dnssecOk);
      if (!next) return null;
      r = joinChain(r, next);
      // The target has no data of this type: the chain ends here, in NODATA.
      if (next.msg.answer.length === 0) break;
    }
    return r;
  }

  /**
   * §5.3.1: a PTR question for an address under our prefix gets a CNAME to the in-addr.arpa
   * name of the embedded IPv4 address, followed by what the upstreams answer for that name.
   */
  private async ptr(q: Query): Promise<Result> {
    const target = ptrTarget(q, this.state.prefix() as Pref64);
    if (!target) return this.forward(q);
    const r = await this.up.query(target, TYPE.PTR, CLASS_IN, false, q.dnssecOk);
    if (!r) return this.servfail(q);
    this.c.ptrSynthesized++;
    return ptrAnswer(q, target, r);
  }
}
