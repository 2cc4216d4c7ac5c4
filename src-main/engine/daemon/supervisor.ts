// The daemon: one long-running engine that decides per network whether IPv4 needs the CLAT.
//
//   netlink events (debounced) / prefix changes / policy changes
//     -> one full re-read of the network (netstate.ts)
//     -> uplink choice, network id, classification, policy  -> decide() (decide.ts, pure)
//     -> the CLAT instance (engine/clat/engine.ts ClatEngine) brought up, followed or torn down;
//        or, when native IPv4 arrives, kept for a grace period without its IPv4 default route, so
//        that native IPv4 going again is one `ip route` (grace.ts instanceStep).
//
// Evaluations never overlap: a trigger during one runs another right after it. Discovery (RA
// socket for PREF64, ipv4only.arpa) runs on the uplink in every state but off-by-no-uplink, so
// the classification knows the NAT64 prefix before the CLAT is wanted; in standby it holds a raw
// ICMPv6 socket and nothing else: the host itself is left exactly as it was.
import { Journal } from '../system/journal.js';
import { findConflictingClats } from '../system/conflicts.js';
import { ClatEngine } from '../clat/engine.js';
import type { DataPathFactory } from '../clat/datapath-types.js';
import { PrefixMonitor, type Nat64Prefix } from '../discovery/monitor.js';
import { RaSocket } from '../discovery/ra-socket.js';
import { dadProbe } from '../net/dad.js';
import { generateClatIpv6 } from '../net/clat-address.js';
import { parsePrefix6 } from '../ip/address.js';
import { learnResolvers, learnUplinkResolvers } from '../dns64/system-resolver.js';
import {
  readNetState,
  pickUplink,
  nativeIpv4Defaults,
  subnet64Of,
  type NetSnapshot,
  type UplinkChoice,
} from './netstate.js';
import { watchNetwork, type NetWatch } from './netwatch.js';
import { classify, decide, type Classified, type Decision, type Override } from './decide.js';
import { ROUTE_GRACE_MS, instanceStep, keptReason } from './grace.js';
import { hashIdentity, networkManagerIdentity, type NetworkIdentity } from './identity.js';
import { ResolvedBus } from '../dns64/resolved-dbus.js';
import { V6OnlyPreferred, clatAllowed } from './v6only-preferred.js';
import type { LogRing } from '../control/log-ring.js';
import { say, type Said, type Say } from '../../shared/say.js';
import { engineMessage, nestedParams } from '../../shared/engine-words.js';
import { PolicyStore, AdminForced, type ResolvedPolicy } from '../policy/store.js';
import { clatFields } from '../clat/status-doc.js';
import {
  ControlError,
  RPC_ERROR,
  type Caller,
  type Dns64Mode,
  type EngineBackend,
  type Inbound,
  type Policy,
} from '../../shared/control.js';
import {
  MAX_TRANSITIONS,
  type EngineEvent,
  type EngineStateName,
  type EngineStatusDoc,
  type LogLine,
  type Message,
  type NetworkRecord,
  type Transition,
} from '../../shared/status.js';

export interface SupervisorOptions {
  tun: string;
  clatIpv4: string;
  mtu?: number;
  /** --dns64: the mode until the user stores another (setDns64Mode). */
  dns64: Dns64Mode;
  stateDir: string;
  dataDir: string;
  adminPolicyPath?: string;
  controlSocket: string;
  makeDataPath: DataPathFactory;
  /**
   * Called whenever a NAT64 prefix is known: starts loading what a bring-up needs and standby
   * does not (the data path), so the daemon holds it only on networks that may need the CLAT.
   */
  prefetchBringUp?: () => void;
  ring: LogRing;
  /** Quiet time after netlink events, ms. default 100 */
  debounceMs?: number;
  /** false: no system bus (network ids are always hashes). default: connect */
  systemBus?: boolean;
  /** No IPv6 default route for this long ends a manual override, ms. default 10000 */
  overrideGraceMs?: number;
  /**
   * How long the CLAT is kept without its IPv4 default route after native IPv4 arrived, ms
   * (tests shorten it). default ROUTE_GRACE_MS (grace.ts)
   */
  routeGraceMs?: number;
  /**
   * Called when evaluations have run out, with the state they left; not after netlink events that
   * changed nothing it looks at (an RA refreshing address lifetimes).
   */
  onSettled?: (state: EngineStateName) => void;
}

interface Current {
  uplink: UplinkChoice | null;
  uplinkNone?: Message;
  identity: NetworkIdentity | null;
  classified: Classified;
  policy: ResolvedPolicy;
  prefix: Nat64Prefix | null;
  decision: Decision;
}

/** The reasons to look at the network again that say nothing about links and routes. */
const PREFIX_CHANGED = 'why.prefix-changed';
const NETLINK = 'why.netlink';

/** A prepared address is used when probed this recently, and probed again in standby after. */
const PREPARED_FRESH_MS = 30 * 60_000;
const PREPARED_REFRESH_MS = 10 * 60_000;

/** What an instance was started for: a change of any of it means a new instance. */
function instanceKey(uplink: string, network: string, dns64: Dns64Mode, inbound: Inbound): string {
  return `${uplink}|${network}|${dns64}|${inbound}`;
}

/** What of the network's state the decision depends on: links, addresses, default routes. */
function fingerprint(s: NetSnapshot): string {
  const links = s.links.map((l) => [
    l.ifname,
    l.flags.includes('UP'),
    l.linkinfo?.info_kind ?? '',
    (l.addr_info ?? []).map((a) => [a.local, a.prefixlen, !!a.tentative, !!a.dadfailed, !!a.deprecated]),
  ]);
  const defaults = [...s.routes4, ...s.routes6]
    .filter((r) => r.dst === 'default')
    .map((r) => [r.dev, r.gateway, r.metric, r.type]);
  return JSON.stringify([links, defaults]);
}

export class Supervisor implements EngineBackend {
  private readonly store: PolicyStore;
  private readonly log: Say;
  private readonly startedAt = new Date().toISOString();
  private state: EngineStateName = 'standby';
  private reason: Message = { code: 'standby.starting', text: 'starting: looking at the network' };
  private fix: Message | undefined;
  private readonly transitions: Transition[] = [];
  private current: Current | null = null;
  private override: { network: string; kind: Exclude<Override, null> } | null = null;
  private overrideTimer: NodeJS.Timeout | null = null;
  private instance: ClatEngine | null = null;
  private instanceKey = '';
  private instancePrefix: Nat64Prefix | null = null;
  /**
   * The instance is kept without its IPv4 default route since native IPv4 arrived, until then
   * (grace.ts); the timer asks for the evaluation that tears it down.
   */
  private kept: { until: number; timer: NodeJS.Timeout } | null = null;
  /** Stops the instance's DNS64 stub and gives the system resolver back; null while none runs. */
  private dns64Stop: (() => Promise<void>) | null = null;
  /** The bring-up that failed, so it is not retried until something about it changes. */
  private failedKey: string | null = null;
  private prepared: { uplink: string; subnet64: string; address: string; at: number } | null = null;
  private preparing: Promise<void> = Promise.resolve();
  private preparingFor: string | null = null;
  private bus: ResolvedBus | null = null;
  /** RFC 8925: DHCPv4 option 108 through NetworkManager while the CLAT is allowed. */
  private readonly v6only: V6OnlyPreferred;
  private busWarned = false;
  private lastFingerprint = '';
  private lastSnapshot: NetSnapshot | null = null;
  private otherClats: string[] = [];
  private monitor: PrefixMonitor | null = null;
  private monitorUplink: string | null = null;
  private watch: NetWatch | null = null;
  private running: Promise<void> | null = null;
  /** Reasons to look again, by their text: every kind is kept, each once. */
  private readonly pending = new Map<string, Said>();
  private stopped = false;
  private dns64Mode: Dns64Mode;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly unring: () => void;
  /** Evaluations made (tests and the benchmark read it). */
  evaluations = 0;

  constructor(private readonly opts: SupervisorOptions) {
    this.log = opts.ring.log;
    this.store = new PolicyStore({
      dataDir: opts.dataDir,
      adminPath: opts.adminPolicyPath,
      warn: opts.ring.warn,
    });
    this.dns64Mode = opts.dns64;
    this.v6only = new V6OnlyPreferred({ stateDir: opts.stateDir, log: this.log });
    this.unring = opts.ring.onLine((line) => this.emit({ type: 'log', line }));
  }

  /** Undoes what a crashed run left, reads the policy, starts watching, and looks once. */
  async start(): Promise<void> {
    const recovered = await Journal.recover(this.opts.stateDir, this.log);
    if (recovered.length)
      this.log(
        say('journal.recovered', { undone: recovered.filter((o) => o.ok).length, total: recovered.length }),
      );
    await this.v6only.recover();
    this.store.load();
    this.dns64Mode = this.store.dns64Mode ?? this.opts.dns64;
    // One system bus connection for the process (network ids from NetworkManager); none is fine.
    if (this.opts.systemBus !== false)
      try {
        this.bus = await ResolvedBus.connect(1000);
      } catch (err) {
        this.log(say('daemon.no-system-bus', { error: (err as Error).message }));
      }
    this.watch = watchNetwork({
      onChange: (why) => this.trigger(why),
      log: this.log,
      debounceMs: this.opts.debounceMs,
    });
    this.trigger(say('why.start'));
    await this.settled();
  }

  /** Re-reads both policy files (SIGHUP) and decides again. */
  async reload(): Promise<void> {
    this.log(say('daemon.reload'));
    this.store.load();
    this.dns64Mode = this.store.dns64Mode ?? this.opts.dns64;
    this.trigger(say('why.reload'));
    await this.settled();
    // What the files say may change the status without a transition (the admin's default).
    this.emit({ type: 'state', status: this.status() });
  }

  /** Resolves once no evaluation runs or is queued. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private trigger(why: Said): void {
    if (this.stopped) return;
    // A set: bounded, and every kind of reason is kept (a prefix change must not be folded
    // into a netlink event that turns out to change nothing).
    if (this.pending.size < 16) this.pending.set(why.text, why);
    if (this.running) return;
    this.running = (async () => {
      const evaluated = this.evaluations;
      while (this.pending.size && !this.stopped) {
        const whys = [...this.pending.values()];
        this.pending.clear();
        try {
          await this.evaluate(whys);
        } catch (err) {
          this.log(say('daemon.evaluate-failed', { error: (err as Error).message }));
        }
      }
      this.running = null;
      if (!this.stopped && this.evaluations !== evaluated) this.opts.onSettled?.(this.state);
    })();
  }

  private async evaluate(whys: Said[]): Promise<void> {
    const onlyNetlink = whys.every((w) => w.code === NETLINK);
    const why = whys.find((w) => w.code !== NETLINK) ?? whys[0];
    const wasKind = this.current?.classified.kind ?? null;
    // A prefix change alone needs no re-read: links and routes changing trigger their own
    // evaluation. Spares a few subprocesses between the router advertisement and the CLAT.
    const snap =
      whys.every((w) => w.code === PREFIX_CHANGED) && this.lastSnapshot
        ? this.lastSnapshot
        : await readNetState();
    if (this.stopped) return;
    this.lastSnapshot = snap;
    // Most netlink events change nothing that matters here (an RA refreshing address lifetimes
    // is one per RA): the same links, addresses and default routes are not looked at again.
    const fp = fingerprint(snap);
    if (onlyNetlink && fp === this.lastFingerprint) return;
    this.evaluations++;
    const picked = pickUplink(snap, this.opts.tun);
    const uplink = 'none' in picked ? null : picked;
    const prevUplink = this.current?.uplink?.name ?? null;
    if (uplink?.name !== prevUplink)
      this.log(
        'none' in picked
          ? say('daemon.no-uplink', nestedParams('why', picked.none))
          : say('daemon.uplink', nestedParams('why', picked.why)),
      );
    await this.followUplink(uplink?.name ?? null, why.code === 'why.clock-jump');
    const identity = uplink ? await this.identify(uplink, whys) : null;
    const prevId = this.current?.identity?.id ?? null;
    if (identity && identity.id !== prevId) {
      this.log(say('daemon.network', { name: identity.name, id: identity.id }));
      void this.store
        .seen(identity.id, identity.name)
        .catch((err: Error) => this.opts.ring.warn(say('policy.save-failed', { error: err.message })));
    }
    this.expireOverride(identity);
    const nm = await this.v6only.observe(
      identity?.idSource === 'networkmanager' ? this.bus : null,
      uplink?.name ?? null,
      !whys.every((w) => w.code === PREFIX_CHANGED),
    );
    const policy = this.store.resolve(identity?.id ?? null);
    const prefix: Nat64Prefix | null = policy.pinnedPrefix
      ? { prefix: policy.pinnedPrefix, source: 'configured', from: 'the admin file' }
      : (this.monitor?.current ?? null);
    if (prefix) this.opts.prefetchBringUp?.();
    const nativeIpv4 = nativeIpv4Defaults(snap, this.opts.tun).map(
      (r) => `${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev ?? '?'}`,
    );
    // Another CLAT shows as a link or an address (a TUN, 192.0.0.0/29): looked for again only
    // when those changed, not on a prefix or policy change (bring-up waits for this).
    if (fp !== this.lastFingerprint)
      this.otherClats = (await findConflictingClats(this.opts.tun)).map((c) => c.what);
    this.lastFingerprint = fp;
    const otherClats = this.otherClats;
    const classified = classify({
      uplink: uplink?.name ?? null,
      nativeIpv4,
      otherClats,
      prefix,
      ipv4Withheld: nm?.withheld,
    });
    const override =
      this.override && identity && this.override.network === identity.id ? this.override.kind : null;
    const decision = decide({
      network: classified,
      havePrefix: prefix !== null,
      policy: policy.value,
      policySource: policy.source,
      override,
    });
    this.current = {
      uplink,
      uplinkNone: 'none' in picked ? picked.none : undefined,
      identity,
      classified,
      policy,
      prefix,
      decision,
    };
    const expired = !!this.kept && Date.now() >= this.kept.until;
    const step = instanceStep({
      want: decision,
      instance: !this.instance ? 'none' : this.kept ? 'kept' : 'running',
      sameInstance:
        !!uplink &&
        !!identity &&
        this.instanceKey === instanceKey(uplink.name, identity.id, this.dns64Mode, policy.inbound) &&
        this.instancePrefix?.prefix === prefix?.prefix,
      wasKind,
      expired,
    });
    if (step === 'withdraw' && (await this.withdraw(decision, why))) {
      // kept: standby without the CLAT's default route
    } else if (step === 'keep' && this.kept) {
      this.setState('standby', keptReason(decision.reason, this.kept.until), undefined, why);
    } else if (step === 'restore' && (await this.restore(decision, why))) {
      // active again on the kept instance
    } else if (decision.state === 'active' && uplink && identity && prefix) {
      // A kept instance that cannot simply take its route back goes first: bringUp would follow
      // a new prefix in place and call it active without a route.
      if (this.kept) await this.tearDown(say('daemon.why-kept-changed'));
      await this.bringUp(
        uplink.name,
        subnet64Of(uplink.address),
        identity.id,
        policy.inbound,
        prefix,
        decision,
        why,
      );
    } else {
      // The state first: 'active' always means an instance is there (status() has its fields).
      // A kept instance is not kept any more from here on.
      this.endGrace();
      this.setState(decision.state, decision.reason, undefined, why);
      await this.tearDown(expired ? say('daemon.why-grace-over') : decision.reason);
      if (uplink && decision.state !== 'off') this.prepare(uplink, prefix);
    }
    this.v6only.follow(this.bus, nm, clatAllowed({ state: this.state, classification: classified.kind }));
  }

  /**
   * The network's id: NetworkManager's connection when it manages the uplink, else the hash. A
   * prefix change alone keeps the id (no bus round trips between an RA and the CLAT); a bus that
   * fails keeps the last id on the same uplink rather than flip the network (and its override).
   */
  private async identify(uplink: UplinkChoice, whys: Said[]): Promise<NetworkIdentity> {
    const prev = this.current?.uplink?.name === uplink.name ? this.current.identity : null;
    if (prev && whys.every((w) => w.code === PREFIX_CHANGED)) return prev;
    if (this.bus) {
      try {
        const nm = await networkManagerIdentity(this.bus, uplink.name);
        if (nm) return nm;
      } catch (err) {
        if (!this.busWarned)
          this.opts.ring.warn(say('identity.networkmanager-failed', { error: (err as Error).message }));
        this.busWarned = true;
        if (prev) return prev;
      }
    }
    return hashIdentity(uplink.name, uplink.gateway, subnet64Of(uplink.address));
  }

  /**
   * Discovery follows the uplink: a new one gets its own RA socket and resolvers. After a
   * suspend (wall-clock jump) the same uplink's discovery starts afresh: a router solicitation
   * and ipv4only.arpa asked again.
   */
  private async followUplink(name: string | null, afresh: boolean): Promise<void> {
    if (name === this.monitorUplink && !afresh) return;
    this.monitor?.close();
    this.monitor = null;
    this.monitorUplink = name;
    if (!name) return;
    let resolvers;
    try {
      resolvers = (await learnUplinkResolvers({ iface: name, exclude: [this.opts.clatIpv4] })).upstreams;
    } catch (err) {
      this.log(say('resolvers.uplink-unreadable', { uplink: name, error: (err as Error).message }));
      resolvers = learnResolvers({ exclude: [this.opts.clatIpv4] });
    }
    if (this.stopped || this.monitorUplink !== name) return;
    const monitor = new PrefixMonitor({
      uplink: name,
      resolvers,
      openRa: () => RaSocket.open({ ifname: name }),
      log: this.log,
    });
    monitor.onChange((next, prev) => {
      if (this.monitor !== monitor) return;
      // Loads beside the re-read that follows, not in the bring-up's way.
      if (next) this.opts.prefetchBringUp?.();
      this.log(
        next
          ? prev
            ? say('daemon.prefix-changed', {
                uplink: name,
                was: prev.prefix,
                prefix: next.prefix,
                source: next.source,
              })
            : say('daemon.prefix-found', { uplink: name, prefix: next.prefix, source: next.source })
          : say('daemon.prefix-lost', { uplink: name, was: prev?.prefix ?? '' }),
      );
      this.trigger(say(PREFIX_CHANGED));
    });
    this.monitor = monitor;
  }

  /**
   * In standby on an uplink: pick the CLAT's IPv6 address and let DAD run on it now, so bring-up
   * needs no DAD (1-2 s on Linux) when the prefix arrives: the RA-to-ping target is 1 s. The
   * probe adds and removes the address on the uplink (journaled); the host is as before after.
   * Checksum-neutral for the prefix known now, or for 64:ff9b::/96 when none is.
   */
  private prepare(uplink: UplinkChoice, prefix: Nat64Prefix | null): void {
    const subnet64 = subnet64Of(uplink.address);
    const p = this.prepared;
    if (this.preparingFor === `${uplink.name} ${subnet64}`) return;
    if (p && p.uplink === uplink.name && p.subnet64 === subnet64 && Date.now() - p.at < PREPARED_REFRESH_MS)
      return;
    this.preparingFor = `${uplink.name} ${subnet64}`;
    this.preparing = (async () => {
      try {
        const guess = parsePrefix6(prefix?.prefix ?? '64:ff9b::/96');
        const address = generateClatIpv6(subnet64, this.opts.clatIpv4, guess, [uplink.address]).address;
        const journal = Journal.create(this.opts.stateDir);
        let result;
        try {
          result = await dadProbe(journal, uplink.name, address);
        } finally {
          await journal.undoAll(() => {});
        }
        if (result === 'unique' || result === 'skipped')
          this.prepared = { uplink: uplink.name, subnet64, address, at: Date.now() };
      } catch (err) {
        this.log(say('daemon.prepare-failed', { uplink: uplink.name, error: (err as Error).message }));
      } finally {
        this.preparingFor = null;
      }
    })();
  }

  private async bringUp(
    uplink: string,
    subnet64: string,
    network: string,
    inbound: Inbound,
    prefix: Nat64Prefix,
    decision: Decision,
    why: Said,
  ): Promise<void> {
    const key = instanceKey(uplink, network, this.dns64Mode, inbound);
    if (this.instance && this.instanceKey !== key) {
      // 'active' always means an instance is there (status() has its fields): while the old one
      // goes and the new one comes up, the state says so. The app does not notify for it.
      this.setState('standby', engineMessage('standby.restarting'), undefined, why);
      await this.tearDown(say('daemon.why-instance-changed'));
    }
    if (this.instance) {
      if (prefix.prefix !== this.instancePrefix?.prefix) {
        this.instance.followPrefix(prefix, this.instancePrefix);
        this.instancePrefix = prefix;
      }
      this.setState('active', decision.reason, undefined, why);
      return;
    }
    const attemptKey = `${key}|${prefix.prefix}`;
    if (this.failedKey === attemptKey) return; // still failing; attention says why
    await this.preparing;
    const ready =
      this.prepared?.uplink === uplink && this.prepared.subnet64 === subnet64 ? this.prepared : null;
    this.prepared = null;
    try {
      const engine = await ClatEngine.start(
        {
          uplink,
          discovered: prefix,
          ...(ready && Date.now() - ready.at < PREPARED_FRESH_MS
            ? { clatIpv6: ready.address, clatIpv6Probed: true }
            : {}),
          clatIpv4: this.opts.clatIpv4,
          tun: this.opts.tun,
          mtu: this.opts.mtu,
          dns64: this.dns64Mode,
          stateDir: this.opts.stateDir,
          controlSocket: this.opts.controlSocket,
          // The decision weighed native IPv4 already (policy "always" runs beside it), and the
          // evaluation just looked for other CLATs.
          force: true,
          hostChecked: true,
          inbound,
        },
        this.log,
        this.opts.makeDataPath,
      );
      this.instance = engine;
      this.instanceKey = key;
      this.instancePrefix = prefix;
      this.failedKey = null;
      await this.startDns64(engine);
      this.setState('active', decision.reason, undefined, why);
    } catch (err) {
      this.failedKey = attemptKey;
      const e = err as Error & { fix?: string };
      this.setState(
        'attention',
        {
          code: 'attention.bring-up-failed',
          params: { error: e.message.split('\n')[0] },
          text: `the CLAT could not start: ${e.message.split('\n')[0]}`,
        },
        e.fix
          ? { code: 'fix.bring-up', params: { fix: e.fix }, text: e.fix }
          : {
              code: 'fix.see-log',
              text: 'see `clatbar logs`; clatbar tries again when the network changes, or on `clatbar enable`',
            },
        why,
      );
    }
  }

  /**
   * Native IPv4 arrived: the instance stays, without its IPv4 default route (this host's IPv4
   * goes the native way, the inbound filter stays) and without the DNS64 resolver hook, for the
   * grace period. False when the route would not go: the caller stands down fully instead.
   */
  private async withdraw(decision: Decision, why: Said): Promise<boolean> {
    const engine = this.instance;
    if (!engine) return false;
    const graceMs = this.opts.routeGraceMs ?? ROUTE_GRACE_MS;
    try {
      await engine.withdrawDefaultRoute();
    } catch (err) {
      this.log(say('daemon.withdraw-failed', { error: (err as Error).message }));
      return false;
    }
    const until = Date.now() + graceMs;
    const timer = setTimeout(() => this.trigger(say('why.grace-over')), graceMs);
    timer.unref();
    this.kept = { until, timer };
    this.log(say('daemon.kept', { seconds: Math.round(graceMs / 1000) }));
    this.setState('standby', keptReason(decision.reason, until), undefined, why);
    await this.stopDns64();
    return true;
  }

  /**
   * Native IPv4 went again within the grace period: the kept instance's default route back (one
   * `ip`), then the DNS64 stub and its hook as the mode says. False when the route would not
   * come back: the kept instance is gone then and the caller brings up a new one.
   */
  private async restore(decision: Decision, why: Said): Promise<boolean> {
    const engine = this.instance;
    if (!engine) return false;
    this.endGrace();
    try {
      await engine.restoreDefaultRoute();
    } catch (err) {
      this.log(say('daemon.restore-failed', { error: (err as Error).message }));
      await this.tearDown(say('daemon.why-restore-failed'));
      return false;
    }
    await this.startDns64(engine);
    this.setState('active', decision.reason, undefined, why);
    return true;
  }

  private endGrace(): void {
    if (this.kept) clearTimeout(this.kept.timer);
    this.kept = null;
  }

  /** The DNS64 stub beside the instance when the mode says so; a stub that fails is a warning. */
  private async startDns64(engine: ClatEngine): Promise<void> {
    if (this.dns64Mode === 'off') return;
    try {
      const { startDns64 } = await import('../clat/dns64-glue.js');
      this.dns64Stop = await startDns64(engine, this.dns64Mode, this.log);
    } catch (err) {
      this.opts.ring.warn(say('dns64.not-started', { error: (err as Error).message }));
    }
  }

  private async stopDns64(): Promise<void> {
    const stop = this.dns64Stop;
    this.dns64Stop = null;
    try {
      await stop?.();
    } catch (err) {
      this.log(say('dns64.stop-failed', { error: (err as Error).message }));
    }
  }

  /** The instance gone, every change of it undone. Returns whether all of it could be. */
  private async tearDown(why: Message): Promise<boolean> {
    const engine = this.instance;
    if (!engine) return true;
    this.instance = null;
    this.instanceKey = '';
    this.instancePrefix = null;
    this.endGrace();
    this.log(say('daemon.clat-stopping', nestedParams('why', why)));
    // Its address was ours (answered for by proxy-ND) until now: the next bring-up on the same
    // /64 takes it again instead of waiting for DAD on a new one.
    const { uplink, clatIpv6 } = engine.status();
    await this.stopDns64();
    const outcomes = await engine.stop();
    this.prepared = { uplink, subnet64: subnet64Of(clatIpv6), address: clatIpv6, at: Date.now() };
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed) this.opts.ring.warn(say('teardown.incomplete', { failed }));
    return failed === 0;
  }

  /**
   * The override ends when the network changes: another id, or no IPv6 default route for more
   * than overrideGraceMs (a Wi-Fi roam or a short outage keeps it).
   */
  private expireOverride(identity: NetworkIdentity | null): void {
    if (!this.override) return;
    if (identity) {
      if (this.overrideTimer) clearTimeout(this.overrideTimer);
      this.overrideTimer = null;
      if (identity.id !== this.override.network) {
        this.log(say(`daemon.override-${this.override.kind}-ends-network`));
        this.override = null;
      }
      return;
    }
    if (this.overrideTimer) return;
    const graceMs = this.opts.overrideGraceMs ?? 10_000;
    this.overrideTimer = setTimeout(() => {
      this.overrideTimer = null;
      if (!this.override || this.current?.identity) return;
      this.log(say(`daemon.override-${this.override.kind}-ends-offline`, { seconds: graceMs / 1000 }));
      this.override = null;
      this.trigger(say('why.override-expired'));
    }, graceMs);
    this.overrideTimer.unref();
  }

  private setState(state: EngineStateName, reason: Message, fix: Message | undefined, why: Said): void {
    const changed =
      state !== this.state || reason.code !== this.reason.code || reason.text !== this.reason.text;
    const from = this.state;
    this.state = state;
    this.reason = reason;
    this.fix = fix;
    if (!changed && this.transitions.length) return;
    this.transitions.push({
      time: new Date().toISOString(),
      from: this.transitions.length ? from : null,
      to: state,
      reason,
    });
    if (this.transitions.length > MAX_TRANSITIONS)
      this.transitions.splice(0, this.transitions.length - MAX_TRANSITIONS);
    const said = { state, ...nestedParams('reason', reason), ...nestedParams('why', why) };
    this.log(
      fix ? say('daemon.state-fix', { ...said, ...nestedParams('fix', fix) }) : say('daemon.state', said),
    );
    this.emit({ type: 'state', status: this.status() });
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  /** Ends everything and puts the host back as it was. */
  async stop(): Promise<boolean> {
    if (this.stopped) return true;
    this.setState(
      'stopping',
      { code: 'stopping', text: 'the engine is stopping and putting the network back as it was' },
      undefined,
      say('why.stop'),
    );
    this.stopped = true;
    this.watch?.stop();
    if (this.overrideTimer) clearTimeout(this.overrideTimer);
    await this.settled();
    await this.preparing;
    this.monitor?.close();
    this.monitor = null;
    const ok = await this.tearDown(say('daemon.why-engine-stops'));
    await this.v6only.stop(this.bus);
    this.bus?.close();
    this.unring();
    return ok;
  }

  // ---- EngineBackend ----

  status(): EngineStatusDoc {
    const c = this.current;
    const doc: EngineStatusDoc = {
      state: this.state,
      mode: 'daemon',
      pid: process.pid,
      startedAt: this.startedAt,
      reason: this.reason,
      transitions: [...this.transitions],
      dns64Mode: this.dns64Mode,
      defaultPolicy: this.store.defaultPolicy(),
    };
    if (this.fix) doc.fix = this.fix;
    if (c) {
      doc.network = c.identity;
      doc.classification = c.classified.kind;
      doc.classificationText = c.classified.text;
      if (this.v6only.status) doc.dhcpV6OnlyPreferred = this.v6only.status;
      const override =
        this.override && c.identity && this.override.network === c.identity.id ? this.override.kind : null;
      doc.policy = {
        value: c.policy.value,
        source: c.policy.source,
        override,
        adminForced: c.policy.adminForced,
      };
      doc.inbound = c.policy.inbound;
      if (c.uplink) {
        doc.uplink = c.uplink.name;
        doc.uplinkWhy = c.uplink.why;
      } else if (c.uplinkNone) doc.uplinkWhy = c.uplinkNone;
      const p = this.monitor?.current && !c.policy.pinnedPrefix ? this.monitor.current : c.prefix;
      if (p) {
        doc.prefix = p.prefix;
        doc.prefixSource = c.policy.pinnedPrefix ? 'admin' : p.source;
        if (p.lifetime !== undefined) doc.prefixLifetime = p.lifetime;
        if (p.expiresAt !== undefined) {
          doc.prefixExpiresAt = new Date(p.expiresAt).toISOString();
          doc.prefixLifetimeLeft = Math.max(0, Math.round((p.expiresAt - Date.now()) / 1000));
        }
        if (p.from !== undefined) doc.prefixFrom = p.from;
      }
    }
    if (this.monitor) doc.discovery = { ...this.monitor.stats };
    if (this.prepared && !this.instance) doc.preparedClatIpv6 = this.prepared.address;
    if (this.kept) doc.clatKeptUntil = new Date(this.kept.until).toISOString();
    // A kept instance does not translate for this host: its fields are an active status's.
    if (this.instance && !this.kept) {
      const fields = clatFields(this.instance.status());
      // The instance's prefix words are its own (configured) view; the supervisor's above win.
      for (const k of ['prefixSource', 'prefixLifetime', 'prefixExpiresAt', 'prefixFrom'] as const)
        delete fields[k];
      Object.assign(doc, fields);
    }
    return doc;
  }

  private currentId(network: string): string {
    if (network === 'current') {
      const id = this.current?.identity?.id;
      if (!id)
        throw new ControlError(
          RPC_ERROR.noCurrentNetwork,
          'the engine is on no network now (no IPv6 uplink)',
        );
      return id;
    }
    return network;
  }

  /** A change someone asked for, in the log with who asked. */
  private audit(what: Said, by: Caller): void {
    this.log(say('daemon.asked', { ...nestedParams('what', what), uid: by.uid, pid: by.pid }));
  }

  private async setOverride(kind: Exclude<Override, null> | null, by: Caller): Promise<void> {
    const id = kind ? this.currentId('current') : null;
    this.override = kind && id ? { network: id, kind } : null;
    this.failedKey = null;
    this.audit(
      kind && id ? say(`change.manual-${kind}`, { network: id }) : say('change.override-cleared'),
      by,
    );
    this.trigger(kind ? say(`why.clatbar-${kind}`) : say('why.override-cleared'));
    await this.settled();
  }

  enable(by: Caller): Promise<void> {
    return this.setOverride('enable', by);
  }

  disable(by: Caller): Promise<void> {
    return this.setOverride('disable', by);
  }

  clearOverride(by: Caller): Promise<void> {
    return this.setOverride(null, by);
  }

  private async change(what: Said, by: Caller, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof AdminForced) throw new ControlError(RPC_ERROR.adminForced, err.message);
      throw err;
    }
    this.audit(what, by);
    this.trigger(what);
    await this.settled();
    // The status document changed even where the state did not (the default policy, the DNS64
    // mode, a network's option): subscribers see it now, not at the next transition. The app's
    // settings window reads them from these pushes.
    this.emit({ type: 'state', status: this.status() });
  }

  private known(id: string): string {
    if (id !== this.current?.identity?.id && !this.store.has(id))
      throw new ControlError(RPC_ERROR.invalidParams, `no network with the id "${id}" (see listNetworks)`);
    return id;
  }

  setPolicy(network: string, policy: Policy | 'default', by: Caller): Promise<void> {
    const id = this.known(this.currentId(network));
    return this.change(say('change.policy', { network: id, policy }), by, () =>
      this.store.setPolicy(id, policy),
    );
  }

  setDefaultPolicy(policy: Policy, by: Caller): Promise<void> {
    return this.change(say('change.default-policy', { policy }), by, () =>
      this.store.setDefaultPolicy(policy),
    );
  }

  setDns64Mode(mode: Dns64Mode, by: Caller): Promise<void> {
    return this.change(say('change.dns64-mode', { mode }), by, async () => {
      await this.store.setDns64Mode(mode);
      this.dns64Mode = mode;
    });
  }

  setNetworkOption(network: string, option: 'inbound', value: Inbound | null, by: Caller): Promise<void> {
    const id = this.known(this.currentId(network));
    return this.change(
      say('change.network-option', { option, network: id, value: value ?? 'default' }),
      by,
      () => this.store.setInbound(id, value),
    );
  }

  forgetNetwork(network: string, by: Caller): Promise<void> {
    const id = this.currentId(network);
    return this.change(say('change.forget', { network: id }), by, async () => {
      if (!(await this.store.forget(id)))
        throw new ControlError(
          RPC_ERROR.invalidParams,
          `no network with the id "${id}" is remembered (see listNetworks)`,
        );
    });
  }

  listNetworks(): NetworkRecord[] {
    const here = this.current?.identity ?? null;
    const list = this.store.list(here?.id ?? null);
    // The network the laptop is on is always listed, so its policy can be chosen: also right
    // after it was forgotten (the store remembers it again at the next network change).
    if (here && !list.some((n) => n.id === here.id))
      list.push({ id: here.id, name: here.name, current: true });
    return list;
  }

  logs(since?: number, limit?: number): LogLine[] {
    return this.opts.ring.since(since, limit);
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
