// TUN bridge benchmark: how fast can Node move packets between two TUN devices through the
// native addon, with and without virtio-net offloads, next to a plain veth pair in the same run.
// No translation: this is the ceiling the CLAT data path works under.
//
//   ns A: tun 192.0.2.1/24 ==[ this process: read batch from A, writeBatch to B, and back ]== ns B: tun 192.0.2.2/24
//   ns C: veth 198.51.100.1/24 ------------------------------------------------------- ns D: veth 198.51.100.2/24
//
// usage (root): node build/bench/tun-echo.js [--seconds N] [--streams N] [--rounds N] [--json]
// The machines here are shared and noisy, so each setup runs --rounds times (interleaved) and the
// table shows the median, with the spread; "bridge CPU" is this process's CPU time over the run
// divided by the wall time (100% = one core).
import { Lab } from '../test/helpers/netns.js';
import { TunDevice, type OffloadName } from '../src-main/engine/native/tun.js';
import { figure, save, startRun } from './data/write.js';

interface Result {
  setup: string;
  gbps: number;
  retransmits: number;
  /** Bridge CPU as a fraction of one core; undefined for the veth baseline. */
  cpu?: number;
  note: string;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const seconds = arg('--seconds', 5);
const streams = arg('--streams', 1);
const rounds = arg('--rounds', 3);

function run(lab: Lab, ns: string, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = lab.spawn(ns, cmd, args);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err || out}`)),
    );
  });
}

/** iperf3 TCP from `client` ns to `server` ns at `addr`; Gbit/s received and retransmits. */
async function iperf(lab: Lab, client: string, server: string, addr: string): Promise<[number, number]> {
  const srv = lab.spawn(server, 'iperf3', ['-s', '-1', '-B', addr]);
  let exited = false;
  srv.once('exit', () => (exited = true));
  // iperf3 block-buffers its banner into a pipe, so wait for the listening socket instead.
  for (let i = 0; ; i++) {
    if (lab.exec(server, 'ss', ['-Hltn', 'sport = :5201']).trim()) break;
    if (exited || i > 100) throw new Error('iperf3 server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const out = await run(lab, client, 'iperf3', [
    '-c',
    addr,
    '-t',
    String(seconds),
    '-O',
    '1',
    '-P',
    String(streams),
    '-J',
  ]);
  const j = JSON.parse(out) as {
    end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } };
  };
  return [j.end.sum_received.bits_per_second / 1e9, j.end.sum_sent.retransmits ?? 0];
}

function bridge(a: TunDevice, b: TunDevice): void {
  // The whole data path: one native read loop per batch, one native write call per batch, the
  // packets (and their vnet headers, passed through unchanged) written from the ring they were
  // read into. A refused tail (write queue full) is dropped like a full NIC queue would: TCP
  // recovers, and memory stays bounded.
  a.onPackets((batch) => b.writeBatch(batch.buffer, batch.offsets, batch.lengths, batch.count));
  b.onPackets((batch) => a.writeBatch(batch.buffer, batch.offsets, batch.lengths, batch.count));
  for (const d of [a, b]) d.onError((e) => console.error(`bridge ${d.name}: ${e.message}`));
}

async function tunRun(lab: Lab, offloads: readonly OffloadName[] | undefined): Promise<Result> {
  const label = offloads ? 'offloads' : 'plain';
  const nsA = lab.ns(`${label[0]}a`);
  const nsB = lab.ns(`${label[0]}b`);
  const opts = { name: 'tbench0', mtu: 1500, up: true, offloads, vnetHdr: Boolean(offloads) };
  const a = TunDevice.open({ ...opts, netns: nsA });
  let b: TunDevice | undefined;
  try {
    b = TunDevice.open({ ...opts, netns: nsB });
    lab.exec(nsA, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tbench0']);
    lab.exec(nsB, 'ip', ['addr', 'add', '192.0.2.2/24', 'dev', 'tbench0']);
    bridge(a, b);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const [gbps, retransmits] = await iperf(lab, nsA, nsB, '192.0.2.2');
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1000 / (Number(process.hrtime.bigint() - t0) / 1e6);
    const sa = a.stats();
    const sb = b.stats();
    const pkts = sa.rxPackets + sb.rxPackets;
    const batches = sa.rxBatches + sb.rxBatches;
    const accepted = Object.entries(a.offloads)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .join(',');
    const note =
      `${(sa.rxBytes / Math.max(sa.rxPackets, 1)).toFixed(0)} B/pkt A->B, ` +
      `${(pkts / Math.max(batches, 1)).toFixed(1)} pkts/batch` +
      (offloads ? `, offloads ${accepted}` : '') +
      (sa.txEagain + sb.txEagain ? `, EAGAIN ${sa.txEagain + sb.txEagain}` : '');
    return { setup: `Node TUN bridge, ${label}`, gbps, retransmits, cpu, note };
  } finally {
    a.close();
    b?.close();
  }
}

async function vethRun(lab: Lab): Promise<Result> {
  const c = lab.ns('vc');
  const d = lab.ns('vd');
  lab.veth(c, 'vbench0', d, 'vbench1');
  lab.exec(c, 'ip', ['addr', 'add', '198.51.100.1/24', 'dev', 'vbench0']);
  lab.exec(d, 'ip', ['addr', 'add', '198.51.100.2/24', 'dev', 'vbench1']);
  const [gbps, retransmits] = await iperf(lab, c, d, '198.51.100.2');
  return { setup: 'kernel veth pair (baseline)', gbps, retransmits, note: 'no userspace hop' };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('tun-echo: needs root (network namespaces and TUN devices)');
    process.exit(2);
  }
  const run = startRun('tun-echo');
  const lab = new Lab('tunb');
  const runs: Result[][] = [[], [], []];
  const cleanup = async () => {
    await lab.dispose();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    for (let r = 0; r < rounds; r++) {
      runs[0].push(await vethRun(lab));
      runs[1].push(await tunRun(lab, ['csum', 'tso4', 'tso6', 'tsoEcn', 'uso4', 'uso6']));
      runs[2].push(await tunRun(lab, undefined));
    }
  } finally {
    await cleanup();
  }
  const median = (rs: Result[]): Result =>
    [...rs].sort((x, y) => x.gbps - y.gbps)[Math.floor((rs.length - 1) / 2)];
  const veth = { id: 'veth', name: 'kernel veth pair', rounds: runs[0].map((r) => r.gbps) };
  const tunFigure = (id: string, label: string, rs: Result[], goal: boolean) =>
    figure({
      id,
      label,
      unit: 'Gbit/s',
      better: 'higher',
      rounds: rs.map((r) => r.gbps),
      refs: [veth],
      goals: goal ? [{ value: 5, text: '>= 5 Gbit/s' }] : [],
      note: `bridge CPU ${rs.map((r) => `${Math.round((r.cpu ?? NaN) * 100)}%`).join(' ')} of one core, by round`,
    });
  await save(run, {
    title: 'TUN bridge: Node moving packets between two TUN devices, against a veth pair',
    command: `npm run bench -- tun-echo (node build/bench/tun-echo.js --seconds ${seconds} --streams ${streams} --rounds ${rounds})`,
    settings: { seconds, streams, rounds },
    figures: [
      tunFigure('offloads', 'TUN bridge, iperf3 TCP, with virtio-net offloads', runs[1], true),
      tunFigure('plain', 'TUN bridge, iperf3 TCP, no offloads', runs[2], false),
    ],
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ seconds, streams, rounds, runs }));
    return;
  }
  console.log(
    `iperf3 TCP, ${streams} stream(s), ${seconds} s (first second omitted), MTU 1500, median of ${rounds} round(s)`,
  );
  console.log(
    `${'setup'.padEnd(28)} ${'Gbit/s'.padStart(7)} ${'range'.padStart(13)} ${'retr'.padStart(6)} ${'bridge CPU'.padStart(10)}  notes`,
  );
  for (const rs of runs) {
    const m = median(rs);
    const g = rs.map((r) => r.gbps);
    const range = `${Math.min(...g).toFixed(2)}-${Math.max(...g).toFixed(2)}`;
    const cpu = m.cpu === undefined ? '-' : `${(m.cpu * 100).toFixed(0)}%`;
    console.log(
      `${m.setup.padEnd(28)} ${m.gbps.toFixed(2).padStart(7)} ${range.padStart(13)} ${String(m.retransmits).padStart(6)} ${cpu.padStart(10)}  ${m.note}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
