// The CLAT engine: checks, journaled bring-up, the data path, and a teardown that puts the host
// back exactly as it was. Every step is logged in plain words; every change is in the journal
// before it is made, so a crash or kill -9 is undone by the next start (or `run --cleanup`).
import { Journal, type UndoOutcome } from '../system/journal.js';
import { findFirewallProblems } from '../system/firewall.js';
import { generateClatIpv6, isChecksumNeutral } from '../net/clat-address.js';
import { dadProbe } from '../net/dad.js';
import { formatPrefix6 } from '../net/addr.js';
import { planClat, CheckFailed, type ClatOptions, type ClatPlan } from './plan.js';
import { configureTun, configureUplink, configureAddressing, type HostSetup } from './host.js';
import type { DataPath, DataPathFactory } from './datapath-types.js';
import { familyBytes } from '../system/link-stats.js';
import type { PrefixSource } from '../../shared/ipc.js';

/** The DNS64 stub's part of the status: its mode, where it listens, and its counters. */
export interface Dns64Status {
  mode: 'auto' | 'on';
  /** "192.0.0.4:53" ("[addr]:port" for IPv6). */
  listen: string[];
  queries: number;
  [counter: string]: unknown;
}

export interface ClatStatus {
  state: 'running' | 'stopping';
  pid: number;
  startedAt: string;
  uplink: string;
  tun: string;
  prefix: string;
  /**
   * Where the prefix came from; `clatbar run --prefix` is the only source until discovery lands.
   * Always sent; optional because engines before it did not, and clients read it as 'configured'.
   */
  prefixSource?: PrefixSource;
  clatIpv4: string;
  clatIpv6: string;
  checksumNeutral: boolean;
  ipv6Mtu: number;
  ipv4Mtu: number;
  forwarding: HostSetup['forwarding'];
  firewallWarnings: string[];
  /**
   * The data path's counters, plus bytes46/bytes64: bytes of the packets that went into the
   * translator each way (IPv4 from this host's apps, IPv6 for the CLAT address).
   */
  counters: Record<string, number>;
  /** Present while the DNS64 stub runs (--dns64 auto|on). */
  dns64?: Dns64Status;
}

export class ClatEngine {
  private stopping: Promise<UndoOutcome[]> | null = null;
  private dns64: (() => Dns64Status) | null = null;

  private constructor(
    private readonly plan: ClatPlan,
    /** The undo journal, for parts started after bring-up (DNS64's resolver hook). */
    readonly journal: Journal,
    private readonly dataPath: DataPath,
    private readonly info: Omit<ClatStatus, 'state' | 'counters'>,
    private readonly log: (l: string) => void,
    private readonly extras: Array<() => Promise<void> | void>,
  ) {}

  /** Undoes what an earlier run left in stateDir (after a crash or kill -9). */
  static recover(stateDir: string, log: (l: string) => void): UndoOutcome[] {
    return Journal.recover(stateDir, log);
  }

  static async start(
    opts: ClatOptions,
    log: (l: string) => void,
    makeDataPath: DataPathFactory,
  ): Promise<ClatEngine> {
    // A journal left by a crashed run goes first: its TUN would otherwise look like another CLAT.
    const recovered = Journal.recover(opts.stateDir, log);
    if (recovered.length)
      log(`recovered: ${recovered.filter((o) => o.ok).length}/${recovered.length} undone`);
    const plan = planClat(opts);
    const up = plan.uplink;
    log(
      `uplink ${up.name}: ${up.address} in ${up.subnet64}, IPv6 default route via ${up.defaultRoute.gateway ?? 'link'}, MTU ${up.mtu}`,
    );
    log(`NAT64 prefix ${formatPrefix6(plan.prefix)}`);
    const journal = Journal.create(opts.stateDir);
    let dataPath: DataPath | null = null;
    try {
      // 1. The CLAT IPv6 address, probed with DAD while nothing else points at it yet.
      let clatIpv6 = opts.clatIpv6;
      for (let attempt = 0; !clatIpv6; attempt++) {
        const candidate = generateClatIpv6(up.subnet64, opts.clatIpv4, plan.prefix, up.allAddresses).address;
        const dad = await dadProbe(journal, up.name, candidate);
        if (dad === 'duplicate') {
          log(`DAD: ${candidate} is in use on ${up.name}; trying another`);
          if (attempt >= 4)
            throw new CheckFailed(
              'five random addresses in a row were taken',
              'check the link for a misbehaving proxy-ND',
            );
          continue;
        }
        log(
          dad === 'unique'
            ? `DAD: ${candidate} is free`
            : `DAD is off on ${up.name}; using ${candidate} unprobed`,
        );
        clatIpv6 = candidate;
      }
      if (opts.clatIpv6) {
        const dad = await dadProbe(journal, up.name, clatIpv6);
        if (dad === 'duplicate')
          throw new CheckFailed(
            `--clat-ipv6 ${clatIpv6} is already in use on ${up.name}`,
            'omit --clat-ipv6 to get a free random one',
          );
      }
      const neutral = isChecksumNeutral(clatIpv6, opts.clatIpv4, plan.prefix);
      log(
        `CLAT addresses: ${opts.clatIpv4} <-> ${clatIpv6}` +
          (neutral ? ' (checksum-neutral: translation leaves TCP/UDP checksums unchanged)' : ''),
      );

      // 2. The TUN: journaled first; the data path creates it with offloads.
      journal.record(`TUN ${opts.tun}`, { kind: 'exec', argv: ['ip', 'link', 'del', opts.tun] });
      dataPath = await makeDataPath({
        tun: opts.tun,
        clatIpv4: opts.clatIpv4,
        clatIpv6,
        prefix: formatPrefix6(plan.prefix),
        ipv6Mtu: plan.ipv6Mtu,
        ipv4Mtu: plan.ipv4Mtu,
        log,
      });
      log(`${opts.tun}: up, MTU ${plan.ipv6Mtu}${dataPath.describe ? `, ${dataPath.describe()}` : ''}`);
      configureTun(plan, log);

      // 3. Sysctls on the uplink, in the order that keeps RAs working.
      const setup = configureUplink(journal, plan, log);

      // 4. Addresses, routes, proxy neighbour, IPv4 default route.
      configureAddressing(journal, plan, clatIpv6, log);

      // 5. Firewalls: report, never rewrite.
      const findings = findFirewallProblems(opts.tun, up.name);
      for (const f of findings) log(`firewall warning: ${f.where}: ${f.problem}\n  to allow it: ${f.fix}`);
      if (findings.length === 0) log('firewall: nothing found that would drop the translated traffic');

      dataPath.start();
      log('CLAT is up: IPv4 apps now reach the IPv4 internet through the NAT64');
      const engine = new ClatEngine(
        plan,
        journal,
        dataPath,
        {
          pid: process.pid,
          startedAt: new Date().toISOString(),
          uplink: up.name,
          tun: opts.tun,
          prefix: formatPrefix6(plan.prefix),
          prefixSource: 'configured',
          clatIpv4: opts.clatIpv4,
          clatIpv6,
          checksumNeutral: neutral,
          ipv6Mtu: plan.ipv6Mtu,
          ipv4Mtu: plan.ipv4Mtu,
          forwarding: setup.forwarding,
          firewallWarnings: findings.map((f) => `${f.where}: ${f.problem}`),
        },
        log,
        [],
      );
      return engine;
    } catch (err) {
      log(`bring-up failed: ${(err as Error).message.split('\n')[0]}; undoing what was done`);
      if (dataPath) await dataPath.stop();
      journal.undoAll(log);
      throw err;
    }
  }

  /** Something else to stop at teardown (DNS64 server, control socket), newest first. */
  onStop(fn: () => Promise<void> | void): void {
    this.extras.push(fn);
  }

  /** Reports the DNS64 stub in status() from now on; null when it stops. */
  setDns64Status(fn: (() => Dns64Status) | null): void {
    this.dns64 = fn;
  }

  status(): ClatStatus {
    const counters = this.dataPath.counters();
    if (counters.bytes46 === undefined || counters.bytes64 === undefined) {
      // A data path that does not pass the translator's byte counters on: the kernel's
      // per-family counters of the TUN say the same, except that they also count what the
      // translator then dropped.
      const b = familyBytes(this.info.tun);
      if (b) {
        counters.bytes46 ??= b.ipv4Out;
        counters.bytes64 ??= b.ipv6Out;
      }
    }
    const s: ClatStatus = {
      ...this.info,
      state: this.stopping ? 'stopping' : 'running',
      counters,
    };
    if (this.dns64) s.dns64 = this.dns64();
    return s;
  }

  get options(): ClatOptions {
    return this.plan.opts;
  }

  /** Stops the data path and undoes every change, newest first. Safe to call twice. */
  stop(): Promise<UndoOutcome[]> {
    this.stopping ??= (async () => {
      this.log('stopping: tearing the CLAT down');
      for (const fn of this.extras.reverse()) {
        try {
          await fn();
        } catch (err) {
          this.log(`while stopping: ${(err as Error).message}`);
        }
      }
      await this.dataPath.stop();
      const outcomes = this.journal.undoAll(this.log);
      const failed = outcomes.filter((o) => !o.ok).length;
      this.log(
        failed
          ? `stopped, but ${failed} change(s) could not be undone (see above)`
          : 'stopped; the host is as it was',
      );
      return outcomes;
    })();
    return this.stopping;
  }
}
