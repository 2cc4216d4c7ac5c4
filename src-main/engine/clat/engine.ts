// The CLAT engine: checks, journaled bring-up, the data path, and a teardown that puts the host
// back exactly as it was. Every step is logged in plain words; every change is in the journal
// before it is made, so a crash or kill -9 is undone by the next start (or `run --cleanup`).
import { envNumber } from '../system/env-override.js';
import { Journal, type UndoOutcome } from '../system/journal.js';
import { findFirewallProblems } from '../system/firewall.js';
import { generateClatIpv6, isChecksumNeutral } from '../net/clat-address.js';
import { dadProbe } from '../net/dad.js';
import { formatPrefix6, parsePrefix6 } from '../ip/address.js';
import {
  planClat,
  DEFAULTS,
  checkBeforeDiscovery,
  CheckFailed,
  StartAborted,
  type ClatOptions,
  type ClatPlan,
} from './plan.js';
import {
  configureTun,
  configureUplink,
  configureAddressing,
  defaultRouteStep,
  ipBatch,
  type HostSetup,
} from './host.js';
import type { DataPath, DataPathFactory } from './datapath-types.js';
import { familyBytes } from '../system/link-stats.js';
import type { PrefixSource } from '../../shared/ipc.js';
import { PrefixMonitor, type MonitorStats, type Nat64Prefix } from '../discovery/monitor.js';
import { learnResolvers, learnUplinkResolvers } from '../dns64/system-resolver.js';
import { formatServer } from '../dns/upstream.js';
import { RaSocket } from '../discovery/ra-socket.js';
import { watchUplink } from '../net/uplink-watch.js';
import {
  InboundFilter,
  checkInbound,
  DROP_REASON,
  type InboundMode,
  type InboundFilterStatus,
} from './inbound-filter.js';
import { say, type Said, type Say } from '../../shared/say.js';
import { nestedParams } from '../../shared/engine-words.js';

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
   * Where the prefix came from: 'configured' (--prefix), 'pref64' (RFC 8781, router
   * advertisements) or 'ipv4only.arpa' (RFC 7050). Always sent; optional because engines before
   * discovery did not, and clients read a missing one as 'configured'.
   */
  prefixSource?: PrefixSource;
  /** pref64: the lifetime the last RA gave (s), and when it runs out without a new RA. */
  prefixLifetime?: number;
  prefixExpiresAt?: string;
  /** pref64: the router that announced it; ipv4only.arpa: the resolvers that synthesized it. */
  prefixFrom?: string;
  /**
   * Set while there is no prefix (prefix is then ""): the announced one expired or was
   * withdrawn and nothing replaced it. IPv4 is not translated until one comes back.
   */
  prefixProblem?: string;
  /** Discovery's counters (RAs, PREF64 options ignored, solicitations, queries); discovery only. */
  discovery?: MonitorStats;
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
  /** Which inbound policy is in force (--inbound, or the network's in the daemon). */
  inbound?: InboundMode;
  /** How the filter does it, what it dropped and when that was counted. */
  inboundFilter?: InboundFilterStatus;
}

export class ClatEngine {
  private stopping: Promise<UndoOutcome[]> | null = null;
  private dns64: (() => Dns64Status) | null = null;
  private monitor: PrefixMonitor | null = null;
  private readonly prefixCbs: ((prefix: string | null) => void)[] = [];
  private inbound: InboundFilter | null = null;
  /** The IPv4 default route into the TUN is in place (bring-up makes it; see withdrawDefaultRoute). */
  private routed = true;

  private constructor(
    private readonly plan: ClatPlan,
    /** The undo journal, for parts started after bring-up (DNS64's resolver hook). */
    readonly journal: Journal,
    private readonly dataPath: DataPath,
    private readonly info: Omit<ClatStatus, 'state' | 'counters'>,
    private readonly log: Say,
    private readonly extras: Array<() => Promise<void> | void>,
  ) {}

  /** Undoes what an earlier run left in stateDir (after a crash or kill -9). */
  static recover(stateDir: string, log: Say): Promise<UndoOutcome[]> {
    return Journal.recover(stateDir, log);
  }

  static async start(opts: ClatOptions, log: Say, makeDataPath: DataPathFactory): Promise<ClatEngine> {
    // A journal left by a crashed run goes first: its TUN would otherwise look like another CLAT.
    const recovered = await Journal.recover(opts.stateDir, log);
    if (recovered.length)
      log(
        say('journal.recovered', { undone: recovered.filter((o) => o.ok).length, total: recovered.length }),
      );
    let monitor: PrefixMonitor | null = null;
    let chosen: Nat64Prefix = { prefix: opts.prefix ?? '', source: 'configured' };
    let plan: ClatPlan;
    try {
      if (opts.discovered) chosen = opts.discovered;
      else if (!opts.prefix) {
        monitor = await ClatEngine.discover(opts, log);
        chosen = monitor.current as Nat64Prefix;
      }
      plan = await planClat({ ...opts, prefix: chosen.prefix });
      checkInbound(opts.inbound ?? DEFAULTS.inbound);
    } catch (err) {
      monitor?.close();
      throw err;
    }
    const up = plan.uplink;
    log(
      say('clat.uplink', {
        uplink: up.name,
        address: up.address,
        subnet: up.subnet64,
        gateway: up.defaultRoute.gateway ?? 'link',
        mtu: up.mtu,
      }),
    );
    if (opts.mtu !== undefined && opts.mtu > up.mtu)
      log(say('clat.mtu-capped', { mtu: opts.mtu, uplink: up.name, linkMtu: up.mtu, using: plan.ipv6Mtu }));
    log(
      say('clat.prefix', { prefix: formatPrefix6(plan.prefix), ...nestedParams('from', prefixFrom(chosen)) }),
    );
    const journal = Journal.create(opts.stateDir);
    let dataPath: DataPath | null = null;
    try {
      // 1. The CLAT IPv6 address, probed with DAD while nothing else points at it yet.
      let clatIpv6 = opts.clatIpv6;
      for (let attempt = 0; !clatIpv6; attempt++) {
        const candidate = generateClatIpv6(up.subnet64, opts.clatIpv4, plan.prefix, up.allAddresses).address;
        const dad = await dadProbe(journal, up.name, candidate);
        if (dad === 'duplicate') {
          log(say('clat.dad-duplicate', { address: candidate, uplink: up.name }));
          if (attempt >= 4)
            throw new CheckFailed(
              'five random addresses in a row were taken',
              'check the link for a misbehaving proxy-ND',
            );
          continue;
        }
        log(
          dad === 'unique'
            ? say('clat.dad-free', { address: candidate })
            : say('clat.dad-off', { address: candidate, uplink: up.name }),
        );
        clatIpv6 = candidate;
      }
      // A prepared address (the daemon probed it in standby) skips the 1-2 s of DAD here.
      if (opts.clatIpv6 && !opts.clatIpv6Probed) {
        const dad = await dadProbe(journal, up.name, clatIpv6);
        if (dad === 'duplicate')
          throw new CheckFailed(
            `--clat-ipv6 ${clatIpv6} is already in use on ${up.name}`,
            'omit --clat-ipv6 to get a free random one',
          );
      }
      const neutral = isChecksumNeutral(clatIpv6, opts.clatIpv4, plan.prefix);
      log(
        neutral
          ? say('clat.addresses-neutral', { ipv4: opts.clatIpv4, ipv6: clatIpv6 })
          : say('clat.addresses', { ipv4: opts.clatIpv4, ipv6: clatIpv6 }),
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
        linkMtu: up.mtu,
        log,
      });
      log(
        dataPath.describe
          ? say('clat.tun-up-details', { tun: opts.tun, mtu: up.mtu, details: dataPath.describe() })
          : say('clat.tun-up', { tun: opts.tun, mtu: up.mtu }),
      );
      configureTun(plan, log);
      // Before any route or proxy entry points traffic at the TUN: never a moment unfiltered.
      const inbound = await InboundFilter.install(
        journal,
        { tun: opts.tun, clatIpv4: opts.clatIpv4, mode: opts.inbound ?? DEFAULTS.inbound },
        log,
      );

      // 3. Sysctls on the uplink, in the order that keeps RAs working.
      const setup = await configureUplink(journal, plan, log);

      // 4. Addresses, routes, proxy neighbour, IPv4 default route.
      await configureAddressing(journal, plan, clatIpv6, log);

      // The data path first: everything is in place, and the firewall check below (nft, a
      // subprocess) need not stand between a router advertisement and the first packet.
      dataPath.start();

      // 5. Firewalls: report, never rewrite.
      const findings = await findFirewallProblems(opts.tun, up.name);
      // Two lines, two calls: the log writes one call as one line (control characters escaped).
      for (const f of findings) {
        log(say('firewall.warning', { where: f.where, problem: f.problem }));
        log(say('firewall.to-allow', { fix: f.fix }));
      }
      if (findings.length === 0) log(say('firewall.nothing-found'));

      // Linux drops a device's proxy-ND entries when it goes down (suspend, roaming, a cable
      // out and in): the watch puts ours back, or IPv4 would stay dead after the first down/up.
      const uplinkWatch = await watchUplink({ uplink: up.name, clatIpv6, subnet64: up.subnet64, log });
      log(say('clat.up'));
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
          ...prefixFields(chosen),
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
      engine.inbound = inbound;
      engine.onStop(() => uplinkWatch.stop());
      // The daemon's supervisor found the prefix and keeps following it (followPrefix).
      if (monitor) engine.watch(monitor, chosen);
      else if (!opts.discovered) engine.watchConfigured(chosen.prefix);
      return engine;
    } catch (err) {
      monitor?.close();
      log(say('clat.bring-up-failed', { error: (err as Error).message.split('\n')[0] }));
      if (dataPath) await dataPath.stop();
      await journal.undoAll(log);
      throw err;
    }
  }

  /**
   * No --prefix: the checks that need none, then PREF64 / ipv4only.arpa on the uplink with a
   * bounded wait. Returns the running monitor (its current is the prefix to start with), or
   * throws CheckFailed saying what the network did and did not announce.
   */
  private static async discover(opts: ClatOptions, log: Say): Promise<PrefixMonitor> {
    await checkBeforeDiscovery(opts);
    // The network's resolvers as they are now, before the DNS64 stub hooks the system
    // resolver: RFC 7050 asks the network's DNS64, never our own. The same per-link answer the
    // stub will forward to (systemd-resolved over D-Bus, else resolv.conf).
    let resolvers;
    try {
      resolvers = (await learnUplinkResolvers({ iface: opts.uplink, exclude: [opts.clatIpv4] })).upstreams;
    } catch (err) {
      log(say('resolvers.uplink-unreadable', { uplink: opts.uplink, error: (err as Error).message }));
      resolvers = learnResolvers({ exclude: [opts.clatIpv4] });
    }
    log(
      resolvers.length
        ? say('discovery.looking', { uplink: opts.uplink, servers: resolvers.map(formatServer).join(', ') })
        : say('discovery.looking-no-resolvers', { uplink: opts.uplink }),
    );
    const aborted = (): StartAborted => new StartAborted(say('clat.aborted-discovery'));
    if (opts.signal?.aborted) throw aborted();
    const monitor = new PrefixMonitor({
      uplink: opts.uplink,
      resolvers,
      openRa: () => RaSocket.open({ ifname: opts.uplink }),
      log,
      waitMs: opts.discoveryWaitMs,
      // For tests and troubleshooting (docs/clat.md, "Prefix discovery").
      recheckMs: envNumber('CLATBAR_RFC7050_RECHECK_S', 0, 0, 86_400) * 1000 || undefined,
    });
    // A signal ends the wait at once: close() settles initial() with null and frees the RA
    // socket and the pending ipv4only.arpa query.
    const onAbort = (): void => monitor.close();
    opts.signal?.addEventListener('abort', onAbort);
    let found: Nat64Prefix | null;
    try {
      found = await monitor.initial();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (opts.signal?.aborted) {
      monitor.close();
      throw aborted();
    }
    if (!found) {
      const why = monitor.whyNone();
      monitor.close();
      throw new CheckFailed(
        `no NAT64 prefix: the network announces none (${why})`,
        'pass --prefix PFX/LEN if you know the NAT64 prefix (e.g. --prefix 64:ff9b::/96); without a NAT64 on the network a CLAT cannot help',
      );
    }
    return monitor;
  }

  /** Keeps following the network's prefix while running (PREF64 changes, lifetimes). */
  private watch(monitor: PrefixMonitor, startedWith: Nat64Prefix): void {
    this.monitor = monitor;
    monitor.onChange((next, prev) => this.followPrefix(next, prev));
    // It may have changed during bring-up, before anyone listened.
    const now = monitor.current;
    if (now?.prefix !== startedWith.prefix || now?.source !== startedWith.source)
      this.followPrefix(now, startedWith);
  }

  /**
   * --prefix wins, but a network that announces another PREF64 is worth a line in the log: a
   * mistyped or outdated --prefix is the usual reason IPv4 does not work through a CLAT.
   */
  private watchConfigured(configured: string): void {
    const monitor = new PrefixMonitor({
      uplink: this.info.uplink,
      resolvers: [],
      openRa: () => RaSocket.open({ ifname: this.info.uplink }),
      log: () => {},
    });
    this.monitor = monitor;
    monitor.onChange((next) => {
      if (next?.source === 'pref64' && next.prefix !== configured)
        this.log(say('clat.prefix-differs', { prefix: next.prefix, router: next.from ?? '?', configured }));
    });
  }

  /**
   * Switches the translator (and whoever follows onPrefixChange) to another NAT64 prefix, or to
   * none. The engine's own monitor calls it; so does the daemon's supervisor, which owns discovery.
   */
  followPrefix(next: Nat64Prefix | null, prev: Nat64Prefix | null): void {
    if (this.stopping) return;
    const was = prev?.prefix ?? '';
    delete this.info.prefixLifetime;
    delete this.info.prefixExpiresAt;
    delete this.info.prefixFrom;
    delete this.info.prefixProblem;
    if (!next) {
      this.dataPath.setPrefix?.(null);
      this.info.prefix = '';
      // What the monitor knows now, not a guess: the resolvers may have said nothing at all.
      this.info.prefixProblem = `the NAT64 prefix ${prev?.prefix ?? ''} went away and the network announces no other (${this.monitor?.whyNone() ?? 'no PREF64'})`;
      this.log(prev ? say('clat.prefix-gone', { was }) : say('clat.prefix-none'));
    } else {
      if (!this.dataPath.setPrefix) {
        this.log(say('clat.prefix-fixed', { prefix: next.prefix }));
        return;
      }
      this.dataPath.setPrefix(next.prefix);
      Object.assign(this.info, prefixFields(next));
      this.info.prefix = next.prefix;
      const neutral = isChecksumNeutral(this.info.clatIpv6, this.info.clatIpv4, parsePrefix6(next.prefix));
      this.info.checksumNeutral = neutral;
      this.log(
        prev
          ? say('clat.prefix-changed', {
              was,
              wasSource: prev.source,
              prefix: next.prefix,
              ...nestedParams('from', prefixFrom(next)),
            })
          : say('clat.prefix-arrived', { prefix: next.prefix, ...nestedParams('from', prefixFrom(next)) }),
      );
      if (!neutral) this.log(say('clat.prefix-not-neutral'));
    }
    for (const cb of this.prefixCbs) {
      try {
        cb(next ? next.prefix : null);
      } catch (err) {
        this.log(say('clat.prefix-switch-failed', { error: (err as Error).message }));
      }
    }
  }

  /**
   * Takes the IPv4 default route into the TUN out and keeps everything else (TUN, data path,
   * addresses, proxy-ND, inbound filter): the daemon's grace period after native IPv4 arrived
   * (docs/daemon.md, "Native IPv4 comes and goes"). This host's IPv4 no longer goes into the
   * CLAT. The route's journal entry goes with it; throws, leaving both in place, if it could not
   * be removed.
   */
  async withdrawDefaultRoute(): Promise<void> {
    if (!this.routed || this.stopping) return;
    const step = defaultRouteStep(this.plan);
    const outcome = await this.journal.undoEntry(step.what);
    if (outcome && !outcome.ok) throw new Error(`could not remove the ${step.what}: ${outcome.detail ?? ''}`);
    this.routed = false;
    this.log(say('clat.default-route-withdrawn', { tun: this.plan.opts.tun }));
  }

  /** Puts the IPv4 default route back after withdrawDefaultRoute: one `ip`, journaled first. */
  async restoreDefaultRoute(): Promise<void> {
    if (this.routed || this.stopping) return;
    const step = defaultRouteStep(this.plan);
    await ipBatch(this.journal, [step]);
    this.routed = true;
    this.log(say('clat.default-route-restored', { tun: this.plan.opts.tun }));
  }

  /** cb(prefix) after each change of the NAT64 prefix (null: none for now); returns an unsubscribe. */
  onPrefixChange(cb: (prefix: string | null) => void): () => void {
    this.prefixCbs.push(cb);
    return () => {
      const i = this.prefixCbs.indexOf(cb);
      if (i >= 0) this.prefixCbs.splice(i, 1);
    };
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
    if (this.inbound) {
      s.inbound = this.inbound.mode;
      s.inboundFilter = this.inbound.status();
      // Under drop.* with the translator's reasons, so every list of drops shows it.
      if (s.inboundFilter.drops !== undefined) counters[`drop.${DROP_REASON}`] = s.inboundFilter.drops;
    }
    if (this.monitor) {
      s.discovery = { ...this.monitor.stats };
      // Lifetime and expiry move with every RA that refreshes the same prefix.
      const cur = this.monitor.current;
      if (cur && cur.prefix === s.prefix && s.prefixSource !== 'configured')
        Object.assign(s, prefixFields(cur));
    }
    return s;
  }

  get options(): ClatOptions {
    return this.plan.opts;
  }

  /** Stops the data path and undoes every change, newest first. Safe to call twice. */
  stop(): Promise<UndoOutcome[]> {
    this.stopping ??= (async () => {
      this.log(say('clat.stopping'));
      this.monitor?.close();
      for (const fn of this.extras.reverse()) {
        try {
          await fn();
        } catch (err) {
          this.log(say('clat.stop-step-failed', { error: (err as Error).message }));
        }
      }
      await this.dataPath.stop();
      const outcomes = await this.journal.undoAll(this.log);
      const failed = outcomes.filter((o) => !o.ok).length;
      this.log(failed ? say('clat.stopped-incomplete', { failed }) : say('clat.stopped'));
      return outcomes;
    })();
    return this.stopping;
  }
}

/** Where a NAT64 prefix came from, in the log's words ("from PREF64 in router advertisements ..."). */
function prefixFrom(p: Nat64Prefix): Said {
  switch (p.source) {
    case 'configured':
      return say('prefix-from.configured');
    case 'pref64':
      return p.from
        ? say('prefix-from.pref64', { router: p.from, lifetime: p.lifetime ?? 0 })
        : say('prefix-from.pref64-unknown-router', { lifetime: p.lifetime ?? 0 });
    case 'ipv4only.arpa':
      return p.from
        ? say('prefix-from.rfc7050', { servers: p.from })
        : say('prefix-from.rfc7050-unknown-servers');
  }
}

function prefixFields(
  p: Nat64Prefix,
): Pick<ClatStatus, 'prefixSource' | 'prefixLifetime' | 'prefixExpiresAt' | 'prefixFrom'> {
  const f: ReturnType<typeof prefixFields> = { prefixSource: p.source };
  if (p.lifetime !== undefined) f.prefixLifetime = p.lifetime;
  if (p.expiresAt !== undefined) f.prefixExpiresAt = new Date(p.expiresAt).toISOString();
  if (p.from !== undefined) f.prefixFrom = p.from;
  return f;
}
