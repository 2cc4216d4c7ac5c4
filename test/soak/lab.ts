// The soak's lab: the product's lab network (test/helpers/clat-lab.ts over src-main/engine/lab,
// pid-tagged namespaces) with a second router link (its own /64, its own NAT64 prefix and
// TAYGA) for router switches, the lab servers and iperf3, and the real daemon (`clatbar run`,
// daemon mode, DNS64 on, behind a private /etc so its resolver hook touches only its own
// resolv.conf) started and killed as a user's system would. Everything goes in dispose().
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  buildClatLab,
  hostState,
  nsh,
  privateEtc,
  startRouterResolver,
  startServers,
  CLATBAR,
  SERVER_V4,
  type ClatLab,
} from '../helpers/clat-lab.js';
import { run } from '../../src-main/engine/lab/proc.js';
import { PYTHON3, RA_SENDER } from '../../src-main/engine/lab/ra-sender.js';
import { callControl } from '../../src-main/engine/control/client.js';
import { EngineStatusDocSchema, type EngineStatusDoc } from '../../src-main/shared/status.js';
import { LAB_NET } from '../../src-main/engine/lab/topology.js';

export const PREFIX_A = LAB_NET.nat64Prefix;
/** Router B: another link, another /64, another NAT64 prefix and pool (documentation ranges). */
export const PREFIX_B = '2001:db8:46::/96';
const LAN_B = '2001:db8:2::';
const POOL_B = '192.0.2.0/24';
const PROBE = new URL('./probe.js', import.meta.url).pathname;
const IP = '/usr/sbin/ip';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Daemon {
  proc: ChildProcess;
  pid: number;
  log(): string;
  exited: Promise<number | null>;
}

export class SoakLab {
  readonly dir = mkdtempSync(join(tmpdir(), `clatbar-soak-${process.pid}-`));
  readonly stateDir = join(this.dir, 'state');
  readonly sock = join(this.dir, 'state', 'engine.sock');
  readonly probeFile = join(this.dir, 'probe.json');
  private etcPrefix = '';
  private etcDir = '';
  daemon: Daemon | null = null;
  private raB: ChildProcess | null = null;
  private raBConf = join(this.dir, 'ra-b.json');

  private constructor(readonly cl: ClatLab) {}

  static async build(say: (s: string) => void): Promise<SoakLab> {
    const cl = await buildClatLab('sk');
    const l = new SoakLab(cl);
    try {
      await l.setup(say);
    } catch (err) {
      await l.dispose();
      throw err;
    }
    return l;
  }

  private async setup(say: (s: string) => void): Promise<void> {
    const { cl } = this;
    mkdirSync(join(this.dir, 'data'));
    mkdirSync(join(this.dir, 'unbound'));
    const etc = privateEtc(this.dir, 'nameserver 2001:db8:1::1\n');
    this.etcPrefix = etc.prefix;
    this.etcDir = etc.etc;
    await startRouterResolver(cl, join(this.dir, 'unbound'));
    await startServers(cl, { 'blob.bin': 4 });
    // Router B on a second link of the router namespace: its own TAYGA and RAs.
    const r = (line: string) => nsh(cl.lab, cl.router, line);
    nsh(cl.lab, cl.router, `ip link add r2 type veth peer name up1 && ip link set up1 netns ${cl.laptop}`);
    r(
      `ip link set r2 up && sysctl -qw net.ipv6.conf.r2.accept_dad=0 && ip addr add ${LAN_B}1/64 dev r2 nodad`,
    );
    writeFileSync(
      join(this.dir, 'tayga-b.conf'),
      [
        'tun-device nat64b',
        'ipv4-addr 192.0.2.1',
        `prefix ${PREFIX_B}`,
        `dynamic-pool ${POOL_B}`,
        `data-dir ${join(this.dir, 'tayga-b')}`,
        '',
      ].join('\n'),
    );
    r(
      `tayga --mktun --config ${join(this.dir, 'tayga-b.conf')} && ip link set nat64b up && ip route add ${POOL_B} dev nat64b && ip -6 route add ${PREFIX_B} dev nat64b`,
    );
    const tb = cl.lab.spawn(cl.router, 'tayga', ['-d', '--config', join(this.dir, 'tayga-b.conf')]);
    tb.stdout?.resume();
    tb.stderr?.resume();
    this.writeRaB(600);
    this.raB = cl.lab.spawn(cl.router, PYTHON3, ['-c', RA_SENDER, 'r2', this.raBConf]);
    this.raB.stdout?.resume();
    this.raB.stderr?.resume();
    // The laptop starts on router A; up1 is the other adapter, unplugged.
    nsh(cl.lab, cl.laptop, 'ip link set up1 down');
    say(`  lab ${cl.laptop} / ${cl.router} / ${cl.server} built; router B on r2 (${LAN_B}/64, ${PREFIX_B})`);
  }

  /** Router B's RA config (same format as the lab's RA sender reads), with PREF64 lifetime. */
  private writeRaB(lifetime: number): void {
    const [p, len] = PREFIX_B.split('/');
    writeFileSync(
      `${this.raBConf}.new`,
      JSON.stringify({ lan: LAN_B, interval: 1, pref64: [[p, Number(len), lifetime]], raw: [] }),
    );
    renameSync(`${this.raBConf}.new`, this.raBConf);
  }

  /** Everything the engine may change in the laptop namespace, plus nftables and the resolver. */
  snapshot(): Record<string, unknown> {
    const { lab, laptop } = this.cl;
    return {
      ...hostState(lab, laptop),
      nftables: nsh(lab, laptop, 'nft list ruleset', true),
      resolvConf: readFileSync(join(this.etcDir, 'resolv.conf'), 'utf8'),
    };
  }

  /** Starts `clatbar run` (daemon mode) in the laptop namespace with the probe loaded. */
  startDaemon(): Daemon {
    rmSync(this.probeFile, { force: true });
    const argv = [
      process.execPath,
      // For the probe: Node's timer lists, and a full collection before RSS is read.
      '--expose-internals',
      '--expose-gc',
      '--import',
      PROBE,
      CLATBAR,
      'run',
      '--state-dir',
      this.stateDir,
      '--control-socket',
      this.sock,
      '--data-dir',
      join(this.dir, 'data'),
      '--admin-policy',
      join(this.dir, 'admin-policy.json'),
      '--dns64',
      'on',
    ];
    const proc = this.cl.lab.spawn(this.cl.laptop, 'sh', ['-c', `${this.etcPrefix} ${argv.join(' ')}`], {
      env: { ...process.env, CLATBAR_SOAK_PROBE: this.probeFile },
    });
    let out = '';
    const keep = (d: Buffer) => {
      out += d.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    const d = { proc, pid: proc.pid!, log: () => out, exited };
    this.daemon = d;
    return d;
  }

  async status(timeoutMs = 3000): Promise<EngineStatusDoc | null> {
    try {
      return EngineStatusDocSchema.parse(await callControl(this.sock, 'status', undefined, { timeoutMs }));
    } catch {
      return null;
    }
  }

  /** Waits until the status matches (polling); throws with the last status and the log tail. */
  async until(what: string, match: (s: EngineStatusDoc) => boolean, ms = 30000): Promise<number> {
    const t0 = Date.now();
    let last: EngineStatusDoc | null = null;
    while (Date.now() - t0 < ms) {
      last = await this.status();
      if (last && match(last)) return Date.now() - t0;
      if (this.daemon && this.daemon.proc.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(
      `no status where ${what} within ${ms} ms; last: ${JSON.stringify(last)?.slice(0, 600)}\n${this.daemon?.log().slice(-1500)}`,
    );
  }

  /** ms until a ping from the laptop to the IPv4 server is answered; throws after ms. */
  async untilIpv4(ms = 30000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const ok = await run(
        [IP, 'netns', 'exec', this.cl.laptop, '/usr/bin/ping', '-n', '-c1', '-W1', SERVER_V4],
        5000,
      )
        .then(() => true)
        .catch(() => false);
      if (ok) return Date.now() - t0;
      await sleep(100);
    }
    throw new Error(
      `no IPv4 from the laptop to ${SERVER_V4} within ${ms} ms\n${this.daemon?.log().slice(-1500)}`,
    );
  }

  /** Waits until a TCP port listens on the IPv4 server. */
  async untilListening(port: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const out = await run([IP, 'netns', 'exec', this.cl.server, '/usr/bin/ss', '-ltn'], 5000).catch(
        () => '',
      );
      if (out.includes(`${SERVER_V4}:${port}`)) return;
      await sleep(50);
    }
    throw new Error(`iperf3 does not listen on ${SERVER_V4}:${port}`);
  }

  async stopDaemon(): Promise<number | null> {
    const d = this.daemon;
    if (!d || d.proc.exitCode !== null || d.proc.signalCode) return d?.proc.exitCode ?? null;
    d.proc.kill('SIGTERM');
    const code = await Promise.race([d.exited, sleep(20000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      d.proc.kill('SIGKILL');
      return -1;
    }
    return code;
  }

  async killDaemon(): Promise<void> {
    const d = this.daemon;
    if (!d) return;
    d.proc.kill('SIGKILL');
    await d.exited;
  }

  /**
   * Has the probe in the daemon run a full garbage collection (see probe.ts); resolves once it
   * has, false when it did not within 10 s (the probe writes every 500 ms).
   */
  async collectGarbage(): Promise<boolean> {
    const asked = Date.now();
    writeFileSync(`${this.probeFile}.gc`, '');
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      try {
        const p = JSON.parse(readFileSync(this.probeFile, 'utf8')) as { pid: number; gcAt?: number };
        if (p.pid === this.daemon?.pid && (p.gcAt ?? 0) >= asked) return true;
      } catch {
        // Being replaced, or not written yet.
      }
    }
    return false;
  }

  /** The daemon's resources as the flap stage counts them. */
  resources(): {
    fds: number;
    rssKb: number;
    routes: number;
    addrs: number;
    journal: number;
    timers: number;
    handles: number;
  } {
    const pid = this.daemon!.pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    let journal = 0;
    try {
      journal = (
        JSON.parse(readFileSync(join(this.stateDir, 'journal.json'), 'utf8')) as { entries: unknown[] }
      ).entries.length;
    } catch {
      // No journal (not active): none.
    }
    let timers = -1;
    let handles = -1;
    try {
      const p = JSON.parse(readFileSync(this.probeFile, 'utf8')) as {
        pid: number;
        kinds: Record<string, number>;
        timers: number;
      };
      if (p.pid === pid) {
        // Every timer, ref'd or not (getActiveResourcesInfo() lists only ref'd ones: 0 here).
        timers = p.timers;
        handles = Object.values(p.kinds).reduce((a, b) => a + b, 0);
      }
    } catch {
      // Not written yet.
    }
    const { lab, laptop } = this.cl;
    return {
      fds: readdirSync(`/proc/${pid}/fd`).length,
      rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
      routes: nsh(lab, laptop, 'ip -4 route show table all; ip -6 route show table all').trim().split('\n')
        .length,
      addrs: nsh(lab, laptop, 'ip addr show')
        .split('\n')
        .filter((l) => /inet6? /.test(l)).length,
      journal,
      timers,
      handles,
    };
  }

  /** Router A's PREF64 (and its lifetime). */
  setPrefixA(prefix: string, lifetime = 600): void {
    this.cl.setRa({ pref64: [{ prefix, lifetime }] });
  }

  async dispose(): Promise<void> {
    if (this.daemon) await this.stopDaemon().catch(() => {});
    await this.cl.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
