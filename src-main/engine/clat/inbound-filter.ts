// The inbound filter: nothing comes in through the CLAT that this host did not ask for.
//
// Without it, anyone on the IPv6 link can forge packets from inside the NAT64 prefix to the
// CLAT's IPv6 address; the translator turns them into IPv4 for 192.0.0.4 and a listener bound
// to 0.0.0.0 (a dev server, a database, the DNS64 stub) answers. On IPv4 networks a home NAT44
// shielded those listeners; the CLAT must not open them up (docs/clat.md, "Inbound filter").
//
// Mechanism: the kernel's connection tracking, through an nftables table of our own on the IPv4
// side of the TUN (`table ip clatbar`). The laptop's own IPv4 flows are tracked when they leave
// (OUTPUT), so replies and ICMP errors about them (RELATED: Packet Too Big, unreachable, time
// exceeded, so PMTUD and traceroute work) come back in; everything else from the TUN is counted
// and dropped. Conntrack entries of dropped packets are never confirmed, so a SYN flood does not
// fill the table; and no per-packet work is added to the engine's JavaScript.
//
// The table is journaled before it is made and removed on stop, by crash recovery and by the
// next start (which also replaces a leftover table of the same name, never anyone else's). Its
// drop counter is read with an asynchronous `nft` run, never on the packet path.
import { existsSync } from 'node:fs';
import type { Journal } from '../system/journal.js';
import { execOut } from '../system/exec.js';
import { CheckFailed } from '../net/uplink.js';
import { say, type Say } from '../../shared/say.js';

export type InboundMode = 'allow' | 'deny';

/** nft by absolute path: the engine runs as root and never looks tools up in PATH. */
export const NFT = '/usr/sbin/nft';
/** Our table's family and name: IPv4 only, so the host's native IPv6 is not tracked for it. */
export const TABLE = ['ip', 'clatbar'] as const;
/** The counter every drop of the filter adds to; DROP_REASONS' key for it. */
export const DROP_REASON = 'inbound-unsolicited';
const COUNTER = 'inbound_drops';
/** A counter read that takes longer than this is killed (a hung nft must not pile up). */
const READ_TIMEOUT_MS = 5000;
/** status() starts a new read when the last one is older than this. */
const READ_EVERY_MS = 1000;

/** The filter's part of the status (`inboundFilter`; the mode itself is `inbound`). */
export interface InboundFilterStatus {
  /** How it is done, in words for the status. */
  how: string;
  /** Packets from the network the filter dropped (also in counters as drop.inbound-unsolicited). */
  drops?: number;
  /** When `drops` was read from the kernel (the read runs in the background). */
  countedAt?: string;
  /** Set when the filter could not be put in place or its counter could not be read. */
  problem?: string;
}

/**
 * The table as one nft script (applied in one transaction). The first line creates the table if
 * missing so that the delete never fails, and the delete drops a leftover of an earlier run
 * before the new one is made: our own name only, never anyone else's table.
 *
 * - Plain IPv4 to the CLAT address that arrives on any interface but the TUN and lo is dropped
 *   in both modes: Linux takes a packet for any of its addresses on any interface (and, with
 *   rp_filter 0, answers ARP for them there), so without this a neighbour on the IPv6-only link
 *   sent IPv4 straight to 192.0.0.4 on the uplink and reached a listener on 0.0.0.0 (replies
 *   go out through the CLAT to wherever the source says), past --inbound deny. Only this host
 *   (lo) and the translator (the TUN) ever send to that address.
 * - DNS to the CLAT address from the TUN is dropped in both modes: the DNS64 stub listens on
 *   that address and must answer only this host's queries (which arrive on lo).
 * - deny: from the TUN, established/related accept, everything else counted and dropped. The
 *   forward chain covers IPv4 this host forwards (containers NATed behind the CLAT address).
 */
export function inboundRuleset(p: { tun: string; clatIpv4: string; mode: InboundMode }): string {
  const [family, name] = TABLE;
  const iif = `iif ${JSON.stringify(p.tun)}`;
  const drop = `counter name ${COUNTER} drop`;
  const offLink = `iif != { "lo", ${JSON.stringify(p.tun)} } ip daddr ${p.clatIpv4} ${drop}`;
  const dns = `${iif} ip daddr ${p.clatIpv4} meta l4proto { tcp, udp } th dport 53 ${drop}`;
  const ct = [`${iif} ct state established,related accept`, `${iif} ${drop}`];
  const chain = (hook: 'input' | 'forward', rules: string[]) => [
    `  chain ${hook} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
  ];
  return [
    `table ${family} ${name} {}`,
    `delete table ${family} ${name}`,
    `table ${family} ${name} {`,
    `  counter ${COUNTER} {}`,
    ...chain('input', p.mode === 'deny' ? [offLink, dns, ...ct] : [offLink, dns]),
    ...(p.mode === 'deny' ? chain('forward', ct) : []),
    '}',
    '',
  ].join('\n');
}

/**
 * The command that removes our table: the journal's undo step. A table that is already gone
 * answers "No such file or directory", which the journal counts as undone.
 */
const DELETE = ['nft', 'delete', 'table', ...TABLE];

/**
 * Refuses, before anything is changed, a deny that cannot be enforced: failing open would leave
 * the user's IPv4 services reachable from the link while the status says they are not.
 */
export function checkInbound(mode: InboundMode): void {
  if (mode === 'deny' && !existsSync(NFT))
    throw new CheckFailed(
      `--inbound deny needs nftables, and ${NFT} is not installed`,
      'install it (apt install nftables / dnf install nftables), or pass --inbound allow to let anyone on the IPv6 network reach IPv4 services on this host through the CLAT',
    );
}

export class InboundFilter {
  private dropCount: number | undefined;
  private countedAt: number | undefined;
  /** When the last read started, successful or not: at most one per READ_EVERY_MS. */
  private lastRead = 0;
  private reading: Promise<void> | null = null;
  private problem: string | undefined;

  private constructor(
    readonly mode: InboundMode,
    /** The table exists (false: allow without nftables, nothing to read). */
    private readonly installed: boolean,
    problem?: string,
  ) {
    this.problem = problem;
  }

  /**
   * Puts the table in place for the TUN (which must exist: rules match its index), journaled
   * first. deny: the kernel refusing it (no conntrack, no nf_tables) is a CheckFailed, and the
   * journal entry is undone at once. allow without nft: the DNS guard is missing, said in the log.
   */
  static async install(
    journal: Journal,
    p: { tun: string; clatIpv4: string; mode: InboundMode },
    log: Say,
  ): Promise<InboundFilter> {
    if (p.mode === 'allow' && !existsSync(NFT)) {
      const problem = `${NFT} is not installed: DNS queries from the network through the CLAT are not blocked`;
      log(say('inbound.allow-without-nft', { nft: NFT }));
      return new InboundFilter(p.mode, false, problem);
    }
    const what = `nftables table ${TABLE.join(' ')} (inbound ${p.mode} on ${p.tun})`;
    try {
      await journal.apply(what, { kind: 'exec', argv: DELETE }, () =>
        execOut([NFT, '-f', '-'], { input: inboundRuleset(p) }),
      );
    } catch (err) {
      throw new CheckFailed(
        `the kernel refused the inbound filter: ${(err as Error).message.split('\n')[0]}`,
        p.mode === 'deny'
          ? 'it needs nf_tables and connection tracking (modprobe nf_conntrack nft_ct); or pass --inbound allow to let unsolicited IPv4 in through the CLAT'
          : 'it needs nf_tables (modprobe nf_tables)',
      );
    }
    log(
      p.mode === 'deny'
        ? say('inbound.deny', { tun: p.tun, table: TABLE.join(' ') })
        : say('inbound.allow', { tun: p.tun, table: TABLE.join(' ') }),
    );
    return new InboundFilter(p.mode, true);
  }

  /** The status part; starts a background read of the counter when the last is over a second old. */
  status(): InboundFilterStatus {
    if (this.installed && !this.reading && Date.now() - this.lastRead >= READ_EVERY_MS) void this.refresh();
    const s: InboundFilterStatus = {
      how:
        this.mode === 'deny'
          ? 'only replies to flows this host started come in (kernel connection tracking, nftables table ip clatbar)'
          : 'anyone on the IPv6 network reaches IPv4 services on this host through the CLAT (--inbound allow)',
    };
    if (this.dropCount !== undefined) s.drops = this.dropCount;
    if (this.countedAt !== undefined) s.countedAt = new Date(this.countedAt).toISOString();
    if (this.problem) s.problem = this.problem;
    return s;
  }

  /** Reads the drop counter (one nft run, asynchronous, bounded in time); one read at a time. */
  refresh(): Promise<void> {
    if (!this.installed) return Promise.resolve();
    if (!this.reading) this.lastRead = Date.now();
    this.reading ??= readCounter()
      .then((n) => {
        this.dropCount = n;
        this.countedAt = Date.now();
        this.problem = undefined;
      })
      .catch((err: unknown) => {
        // The last good count stays, with its own countedAt; lastRead keeps a broken nft from
        // being run on every status().
        this.problem = `could not read the drop counter: ${(err as Error).message.split('\n')[0]}`;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}

/** `nft -j list counter ip clatbar inbound_drops` -> its packet count. */
async function readCounter(): Promise<number> {
  // Asynchronous with a timeout, never on the packet path.
  return parseCounter(
    await execOut([NFT, '-j', 'list', 'counter', ...TABLE, COUNTER], { timeoutMs: READ_TIMEOUT_MS }),
  );
}

/** The packet count in `nft -j list counter` output; throws when it is not there. */
export function parseCounter(json: string): number {
  const doc = JSON.parse(json) as { nftables?: Array<{ counter?: { name?: string; packets?: unknown } }> };
  for (const o of doc.nftables ?? [])
    if (o.counter?.name === COUNTER && typeof o.counter.packets === 'number') return o.counter.packets;
  throw new Error(`no counter ${COUNTER} in nft's answer`);
}
