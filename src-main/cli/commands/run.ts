// `clatbar run`: the engine. With no --uplink it is the daemon (engine/daemon/supervisor.ts):
// it watches the network and brings the CLAT up and down per network and policy. With --uplink
// it is the foreground engine on that one uplink, until SIGINT/SIGTERM.
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { GROUP_NAME } from '../../engine/control/auth.js';
import { ClatEngine } from '../../engine/clat/engine.js';
import { DEFAULTS, NotNeeded, StartAborted, CheckFailed, type ClatOptions } from '../../engine/clat/plan.js';
import { startControlServer } from '../../engine/control/start.js';
import { LogRing } from '../../engine/control/log-ring.js';
import { foregroundBackend } from '../../engine/control/foreground.js';
import { controlPlan, selfTestTargets } from '../../engine/control/options.js';
import { DEFAULT_SELFTEST_NAME, DEFAULT_SELFTEST_TARGETS } from '../../engine/control/selftest.js';
import { DEFAULT_CONTROL_GROUP } from '../../shared/control.js';
import { hasNetAdmin } from '../../engine/system/privilege.js';
import { loadDataPath, lazyDataPath } from '../../engine/clat/datapath-loader.js';
import { foregroundStatusDoc } from '../../engine/clat/status-doc.js';
import { Supervisor } from '../../engine/daemon/supervisor.js';
import { V6OnlyPreferred } from '../../engine/daemon/v6only-preferred.js';
import { DEFAULT_ADMIN_POLICY } from '../../engine/policy/store.js';
import { releaseWhenSettled } from '../../engine/daemon/resident.js';
import { releaseMemory } from '../../engine/native/memory.js';
import { say } from '../../shared/say.js';

const DEFAULT_DATA_DIR = '/var/lib/clatbar';

const help = `clatbar run: run the clatbar engine: as the daemon that decides per network, or in the
foreground on one IPv6-only uplink.

usage: clatbar run [--data-dir DIR] [--admin-policy FILE] [OPTIONS]       (daemon)
       clatbar run --uplink IFACE [--prefix PFX/LEN] [OPTIONS]             (foreground)
       clatbar run --cleanup [--state-dir DIR]

Daemon mode (no --uplink; what the systemd unit runs): the engine stays up across networks.
It watches the kernel's link, address and route changes, picks the uplink (the interface
with the IPv6 default route and a global address, lowest metric first; never its own TUN
or tunnels), finds the network's NAT64 prefix (PREF64, ipv4only.arpa, or one the admin
file pins) and classifies the network: offline, dual-stack (native IPv4), IPv6-only without
NAT64, IPv6-only with NAT64, or another CLAT present (it then stands down). The policy of
the network decides what happens:
  auto     the CLAT runs on IPv6-only networks with a NAT64 prefix (the default)
  always   the CLAT runs whenever a NAT64 prefix is known, even beside native IPv4
  never    the CLAT stays off on this network
\`clatbar status\` says the state (off, standby, active, attention, stopping) and why.
SIGTERM or SIGINT tear the CLAT down and exit 0; SIGHUP re-reads the policy files.

IPv4 apps on this host then reach IPv4 hosts through the network's NAT64: their packets go
into a TUN device, are translated to IPv6 (RFC 7915) with the NAT64 prefix (RFC 6052), and
leave through the uplink from a dedicated IPv6 address. Ctrl-C (SIGINT), SIGTERM or SIGHUP
undoes every change and exits 0 (during the prefix discovery wait: stops at once, nothing
was changed yet).

options:
  --uplink IFACE         foreground mode on this interface (the IPv6 connection); without
                         it the engine runs as the daemon and picks the uplink itself
  --prefix PFX/LEN       the network's NAT64 prefix, e.g. 64:ff9b::/96; lengths 32, 40,
                         48, 56, 64, 96 (RFC 6052 §2.2). default: discovered (see below)
  --clat-ipv4 ADDR       the host's IPv4 address on the TUN, from 192.0.0.0/29 (RFC 7335).
                         default: ${DEFAULTS.clatIpv4} (as Android; .1/.2 are DS-Lite's, RFC 6333)
  --clat-ipv6 ADDR       the CLAT's IPv6 address; must be in the uplink's /64.
                         default: random in that /64, checksum-neutral when the prefix is a
                         /96 or /32, checked with DAD first
  --tun NAME             name of the TUN device. default: ${DEFAULTS.tun}
  --mtu N                the IPv6 path MTU to assume. default: the uplink's route/link MTU.
                         IPv4 gets N - 28: 20 for the bigger header, 8 for a Fragment header
                         that IPv4 fragments need (RFC 7915 §5.1.1)
  --dns64 off|auto|on    also run the DNS64 stub on the CLAT's IPv4 address and point the
                         system resolver at it (systemd-resolved over D-Bus when it runs,
                         on the TUN link only; else /etc/resolv.conf), journaled and put
                         back on stop. auto passes answers through when the network's
                         resolvers already do DNS64. default: ${DEFAULTS.dns64}
  --inbound allow|deny   deny: only replies to this host's own IPv4 flows (and ICMP errors
                         about them, so path-MTU discovery and traceroute work) come in
                         through the CLAT; anything else from the network is counted and
                         dropped (drop reason inbound-unsolicited in \`clatbar status\`).
                         allow: anyone on the IPv6 network can reach IPv4 services on this
                         host (a dev server, a database on 0.0.0.0) through the CLAT, as
                         they could not behind an IPv4 home router's NAT. Both use an
                         nftables table of the engine's own (ip clatbar, /usr/sbin/nft),
                         removed again on stop; in both, DNS queries from the network never
                         reach the DNS64 stub. deny uses the kernel's connection tracking
                         and refuses to start without nft; allow without nft starts, says
                         that the DNS guard is missing, and has none.
                         default: ${DEFAULTS.inbound}
  --state-dir DIR        where the undo journal lives. default: ${DEFAULTS.stateDir}
                         (/run is a tmpfs: after a reboot the changes are gone too, so a
                         journal there never outlives what it describes)
  --control-socket PATH  the control socket (JSON-RPC; \`clatbar status\` and the tray app use
                         it). Any local user may connect; what each may do is decided by
                         their uid and groups. default: ${DEFAULTS.controlSocket}, or
                         /run/clatbar-netns/NAME/engine.sock inside \`ip netns exec NAME\`
  --control-group NAME   besides root, members of this group may change settings and read
                         logs and network history: processes that carry the group (from
                         /etc/group, LDAP or systemd-userdb, as the kernel has it; after
                         \`usermod -aG\` the user logs in again). default: ${DEFAULT_CONTROL_GROUP}
  --selftest-target IPV4[:PORT]
                         what \`clatbar selftest\` pings and connects to through the CLAT
                         (repeatable). default: ${DEFAULT_SELFTEST_TARGETS.join(', ')}
  --selftest-name NAME   the name \`clatbar selftest\` looks up (A and AAAA) through the
                         system resolver. default: ${DEFAULT_SELFTEST_NAME}
  --data-dir DIR         daemon: where the user's per-network choices live (policy.json,
                         written atomically, survives reboots). default: ${DEFAULT_DATA_DIR}
  --admin-policy FILE    daemon: the administrator's policy file, which wins over the
                         user's choices (root-owned, not group/other-writable).
                         default: ${DEFAULT_ADMIN_POLICY}
  --force                run even though the host has native IPv4 (ours then loses)
  --cleanup              undo what an earlier run (crashed, or killed with kill -9) left in
                         --state-dir, then exit

The NAT64 prefix, when --prefix is not given, comes from the network, best source first:
  1. PREF64 in router advertisements (RFC 8781): a router solicitation asks for one at once;
  2. the AAAA records the uplink's resolvers (the ones configured before clatbar) synthesize
     for ipv4only.arpa (RFC 7050), with the prefix length found from where 192.0.0.170/171
     sit inside them.
It waits 4 seconds at most (less when the answer is clear sooner), and refuses to start,
changing nothing, when the network announces no prefix. While running it keeps listening:
a router's new PREF64, a withdrawn one (lifetime 0) or one whose lifetime runs out
switches the translator and the DNS64 stub over, and the log says so; without a PREF64,
ipv4only.arpa is asked again every 10 minutes. \`clatbar status\` shows where the prefix
came from. --prefix wins over both; PREF64 wins over ipv4only.arpa, as RFC 9872 recommends
and Android does.

Needs root or CAP_NET_ADMIN.

examples:
  sudo clatbar run
  sudo clatbar run --uplink wlan0
  sudo clatbar run --uplink wlan0 --prefix 64:ff9b::/96 --dns64 auto
`;

/** Every line goes to stdout (journald under systemd) and to the ring the control API reads. */
const ring = new LogRing();
const log = ring.log;

const command: Command = {
  name: 'run',
  summary: 'Run the engine: the daemon, or the CLAT in the foreground on one uplink',
  help,
  async run(argv) {
    const { values } = parseOptions({
      args: argv,
      options: {
        uplink: { type: 'string' },
        prefix: { type: 'string' },
        'clat-ipv4': { type: 'string', default: DEFAULTS.clatIpv4 },
        'clat-ipv6': { type: 'string' },
        tun: { type: 'string', default: DEFAULTS.tun },
        mtu: { type: 'string' },
        dns64: { type: 'string', default: DEFAULTS.dns64 },
        inbound: { type: 'string', default: DEFAULTS.inbound },
        'state-dir': { type: 'string', default: DEFAULTS.stateDir },
        'control-socket': { type: 'string' },
        'control-group': { type: 'string', default: DEFAULT_CONTROL_GROUP },
        'selftest-target': { type: 'string', multiple: true },
        'selftest-name': { type: 'string', default: DEFAULT_SELFTEST_NAME },
        force: { type: 'boolean', default: false },
        cleanup: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
        'admin-policy': { type: 'string', default: DEFAULT_ADMIN_POLICY },
      },
    });
    const stateDir = values['state-dir'];
    if (values.cleanup) {
      const outcomes = [
        ...(await ClatEngine.recover(stateDir, log)),
        // The daemon's DHCPv4 option-108 requests through NetworkManager have their own journal.
        ...(await new V6OnlyPreferred({ stateDir, log }).recover()),
      ];
      if (outcomes.length === 0) log(say('run.nothing-to-clean', { dir: stateDir }));
      return outcomes.every((o) => o.ok) ? EXIT.ok : EXIT.failure;
    }
    const dns64 = values.dns64;
    if (dns64 !== 'off' && dns64 !== 'auto' && dns64 !== 'on')
      throw new UsageError(`--dns64 must be off, auto or on, not '${dns64}'`);
    const inbound = values.inbound;
    if (inbound !== 'allow' && inbound !== 'deny')
      throw new UsageError(
        `--inbound must be allow or deny, not '${inbound}' (deny, the default, lets in only replies to this host's own flows)`,
      );
    if (!GROUP_NAME.test(values['control-group']))
      throw new UsageError(
        `--control-group must be a group name (letters, digits, '_', '.', '-'), not '${values['control-group']}'`,
      );
    let mtu: number | undefined;
    if (values.mtu !== undefined) {
      mtu = Number(values.mtu);
      if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535)
        throw new UsageError(`--mtu must be a whole number from 1280 to 65535, not '${values.mtu}'`);
    }
    let targets: ReturnType<typeof selfTestTargets>;
    try {
      targets = selfTestTargets(values['selftest-target'], values['selftest-name']);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!values.uplink) {
      for (const flag of ['prefix', 'clat-ipv6', 'force'] as const)
        if (values[flag])
          throw new UsageError(
            `--${flag} is for the foreground engine on one uplink (with --uplink IFACE); the daemon finds the prefix and address per network (an admin file can pin a prefix)`,
          );
      return runDaemon({
        tun: values.tun,
        clatIpv4: values['clat-ipv4'],
        mtu,
        dns64,
        stateDir,
        dataDir: values['data-dir'],
        adminPolicyPath: values['admin-policy'],
        controlSocket: values['control-socket'] ?? (await controlPlan()).socket,
        group: values['control-group'],
        targets,
      });
    }
    const opts: ClatOptions = {
      uplink: values.uplink,
      prefix: values.prefix,
      clatIpv4: values['clat-ipv4'],
      clatIpv6: values['clat-ipv6'],
      tun: values.tun,
      mtu,
      dns64,
      inbound,
      stateDir,
      controlSocket: values['control-socket'] ?? (await controlPlan()).socket,
      force: values.force,
    };

    // Signals are caught from the start. One during the NAT64 prefix discovery wait ends it at
    // once (nothing has been changed yet). One during bring-up, or while the control socket and
    // the DNS64 stub start, stops the engine as soon as those are up: each of them undoes its own
    // changes when it fails, but a stop running beside them would miss what they add after it
    // (a DNS64 hook journaled after the undo, a stub socket keeping the process alive).
    let stopSignal: string | null = null;
    const abort = new AbortController();
    opts.signal = abort.signal;
    let onSignal: (sig: string) => void = (sig) => {
      if (stopSignal) return;
      stopSignal = sig;
      log(say('run.signal', { signal: sig }));
      abort.abort();
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));
    let engine: ClatEngine;
    try {
      engine = await ClatEngine.start(opts, log, await loadDataPath());
    } catch (err) {
      if (err instanceof NotNeeded || err instanceof StartAborted) {
        log(err.said);
        return EXIT.ok;
      }
      throw err;
    }
    if (!stopSignal) {
      try {
        const status = () => foregroundStatusDoc(engine.status());
        const server = await startControlServer({
          path: opts.controlSocket,
          backend: foregroundBackend({ status, onPrefixChange: (cb) => engine.onPrefixChange(cb) }, ring),
          group: values['control-group'],
          ring,
          targets,
          log,
        });
        engine.onStop(() => server.stop());
        log(say('run.status-hint', { socket: opts.controlSocket }));
      } catch (err) {
        log(say('run.control-unavailable', { socket: opts.controlSocket, error: (err as Error).message }));
      }
    }
    if (dns64 !== 'off' && !stopSignal) {
      try {
        const { startDns64 } = await import('../../engine/clat/dns64-glue.js');
        const stopDns = await startDns64(engine, dns64, log);
        engine.onStop(stopDns);
      } catch (err) {
        log(say('dns64.not-started', { error: (err as Error).message }));
      }
    }
    const done = new Promise<number>((resolve) => {
      let stopping = false;
      onSignal = (sig) => {
        if (stopping) return;
        stopping = true;
        if (sig !== stopSignal) log(say('run.signal', { signal: sig }));
        void engine.stop().then((outcomes) => resolve(outcomes.every((o) => o.ok) ? EXIT.ok : EXIT.failure));
      };
    });
    if (stopSignal) onSignal(stopSignal);
    return done;
  },
};

/** Settled in standby: memory back to the system now, and the log says how much. */
function giveMemoryBack(): void {
  const before = process.memoryUsage.rss();
  const t0 = performance.now();
  try {
    releaseMemory();
  } catch (err) {
    ring.warn(say('memory.release-failed', { error: (err as Error).message }));
    return;
  }
  const mb = (b: number) => (b / 1048576).toFixed(1);
  ring.log(
    say('memory.released', {
      before: mb(before),
      after: mb(process.memoryUsage.rss()),
      ms: Math.round(performance.now() - t0),
    }),
  );
}

/** Daemon mode: the supervisor until SIGTERM/SIGINT; SIGHUP re-reads the policy files. */
async function runDaemon(o: {
  tun: string;
  clatIpv4: string;
  mtu?: number;
  dns64: 'off' | 'auto' | 'on';
  stateDir: string;
  dataDir: string;
  adminPolicyPath: string;
  controlSocket: string;
  group: string;
  targets: ReturnType<typeof selfTestTargets>;
}): Promise<number> {
  // A daemon that could never bring the CLAT up must say so at once, not on the first network.
  if (!hasNetAdmin())
    throw new CheckFailed(
      'the engine changes the network and needs root or CAP_NET_ADMIN',
      'run it with sudo, or from the systemd unit (it grants CAP_NET_ADMIN)',
    );
  const dataPath = lazyDataPath();
  const memory = releaseWhenSettled({ release: giveMemoryBack });
  const supervisor = new Supervisor({
    ...o,
    makeDataPath: dataPath.factory,
    prefetchBringUp: dataPath.prefetch,
    ring: ring,
    onSettled: memory.settled,
  });
  let stopping: Promise<number> | null = null;
  const stop = (sig: string): Promise<number> => {
    stopping ??= (async () => {
      ring.log(say('run.signal', { signal: sig }));
      memory.stop();
      const ok = await supervisor.stop();
      await server?.stop();
      ring.log(ok ? say('daemon.stopped') : say('daemon.stopped-incomplete'));
      return ok ? EXIT.ok : EXIT.failure;
    })();
    return stopping;
  };
  let server: Awaited<ReturnType<typeof startControlServer>> | null = null;
  const done = new Promise<number>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(sig).then(resolve));
  });
  process.on('SIGHUP', () => {
    if (!stopping) void supervisor.reload();
  });
  ring.log(say('daemon.starting', { pid: process.pid, stateDir: o.stateDir, dataDir: o.dataDir }));
  await supervisor.start();
  if (!stopping) {
    try {
      server = await startControlServer({
        path: o.controlSocket,
        backend: supervisor,
        group: o.group,
        ring: ring,
        targets: o.targets,
        log: ring.log,
      });
      // A signal while the socket was being set up found no server to stop: stop it here.
      if (stopping) await server.stop();
      else ring.log(say('run.status-hint', { socket: o.controlSocket }));
    } catch (err) {
      ring.warn(say('run.control-unavailable', { socket: o.controlSocket, error: (err as Error).message }));
    }
  }
  return done;
}

export default command;
