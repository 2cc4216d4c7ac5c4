// Packets per second of pure translation (no I/O) through the SIIT core, one core, CLAT config.
// Each iteration restores the input packet (a memcpy of its bytes) and translates it in place;
// the restore is included, so the numbers are a lower bound.
//
// usage: node build/bench/translate.js [--seconds N]
import { Translator, HEADROOM } from '../src-main/engine/siit/translator.js';
import { parseIPv4, parseIPv6 } from '../src-main/engine/ip/address.js';
import { finish, sum16, sumAddr4, pseudo6 } from '../src-main/engine/siit/checksum.js';
import { figure, save, startRun } from './data/write.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 1;
const started = startRun('translate');

const CLAT4 = '192.0.0.1';
const CLAT6 = '2001:db8:1:2::c1a7';
const cfg = {
  pool6: '64:ff9b::/96',
  eamt: [{ ipv4: `${CLAT4}/32`, ipv6: `${CLAT6}/128` }],
  lowestIpv6Mtu: 1500,
  ipv4Mtu: 1500,
  ipv6Mtu: 1520,
};

function ipv4Packet(proto: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  const src = parseIPv4(CLAT4)!;
  const dst = parseIPv4('8.8.8.8')!;
  p[0] = 0x45;
  p[2] = size >> 8;
  p[3] = size & 255;
  p[6] = 0x40;
  p[8] = 64;
  p[9] = proto;
  p.set([src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255], 12);
  p.set([dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255], 16);
  const hc = finish(sum16(p, 0, 20, 0));
  p[10] = hc >> 8;
  p[11] = hc & 255;
  const l4 = size - 20;
  for (let i = 20; i < size; i++) p[i] = i & 255;
  p[20] = 0x30;
  p[21] = 0x39;
  p[22] = 0x00;
  p[23] = 0x35;
  const at = proto === 6 ? 36 : 26;
  if (proto === 17) {
    p[24] = l4 >> 8;
    p[25] = l4 & 255;
  } else {
    p[32] = 0x50;
  }
  p[at] = p[at + 1] = 0;
  const c = finish(sum16(p, 20, l4, sumAddr4(src) + sumAddr4(dst) + proto + l4));
  p[at] = c >> 8;
  p[at + 1] = c & 255;
  return p;
}

function ipv6Packet(proto: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  const l4 = size - 40;
  p[0] = 0x60;
  p[4] = l4 >> 8;
  p[5] = l4 & 255;
  p[6] = proto;
  p[7] = 64;
  p.set(parseIPv6('64:ff9b::808:808')!, 8);
  p.set(parseIPv6(CLAT6)!, 24);
  for (let i = 40; i < size; i++) p[i] = i & 255;
  p[40] = 0x00;
  p[41] = 0x35;
  p[42] = 0x30;
  p[43] = 0x39;
  const at = proto === 6 ? 56 : 46;
  if (proto === 17) {
    p[44] = l4 >> 8;
    p[45] = l4 & 255;
  } else {
    p[52] = 0x50;
  }
  p[at] = p[at + 1] = 0;
  const c = finish(sum16(p, 40, l4, pseudo6(p, 8, 24, l4, proto)));
  p[at] = c >> 8;
  p[at + 1] = c & 255;
  return p;
}

/** name, packets/s of wall time, Gbit/s of wall time, packets per second of this process's CPU time. */
function run(name: string, pkt: Uint8Array, dir: '4to6' | '6to4'): [string, number, number, number] {
  let emitted = 0;
  const t = new Translator(cfg, () => {
    emitted++;
  });
  const buf = new Uint8Array(HEADROOM + pkt.length);
  const go = dir === '4to6' ? t.translate4to6.bind(t) : t.translate6to4.bind(t);
  // Warm up, and check that the packet really translates.
  for (let i = 0; i < 200_000; i++) {
    buf.set(pkt, HEADROOM);
    if (go(buf, HEADROOM, pkt.length) !== 0) throw new Error(`${name}: ${t.reasonName}`);
  }
  let n = 0;
  // CPU time as well as wall time: on a shared machine other work takes the core away for part of
  // the wall time, and the per-CPU-second rate is what the translator itself costs.
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now - start < limit) {
    for (let i = 0; i < 100_000; i++) {
      buf.set(pkt, HEADROOM);
      go(buf, HEADROOM, pkt.length);
    }
    n += 100_000;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  const cpuSecs = (used.user + used.system) / 1e6;
  if (emitted < n) throw new Error('packets were lost');
  return [name, n / secs, (n * pkt.length * 8) / secs / 1e9, n / cpuSecs];
}

const rows = [
  run('IPv4->IPv6  UDP    64 B', ipv4Packet(17, 64), '4to6'),
  run('IPv6->IPv4  UDP    64 B', ipv6Packet(17, 64), '6to4'),
  run('IPv4->IPv6  TCP  1500 B', ipv4Packet(6, 1500), '4to6'),
  run('IPv6->IPv4  TCP  1500 B', ipv6Packet(6, 1500), '6to4'),
];
console.log(`SIIT translation, one core, ${seconds}s per row (target: >= 3 Mpps for 64-byte UDP)`);
console.log('direction   proto  size        packets/s     Gbit/s   packets/CPU-s');
for (const [name, pps, gbps, cpuPps] of rows) {
  console.log(
    `${name}  ${(pps / 1e6).toFixed(2).padStart(10)} M  ${gbps.toFixed(2).padStart(9)}  ${(cpuPps / 1e6).toFixed(2).padStart(12)} M`,
  );
}

// No reference runs in this process (the kernel has no SIIT to compare with): the goal is absolute,
// and the figure is per CPU-second so that other work on the machine moves it less.
await save(started, {
  title: 'SIIT translation, one core, no I/O',
  command: `npm run bench -- translate (node build/bench/translate.js --seconds ${seconds})`,
  settings: { seconds },
  figures: rows.map(([name, pps, , cpuPps]) =>
    figure({
      id: name
        .replace(/->/, '-')
        .replace(/\s+/g, ' ')
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-'),
      label: `SIIT translation, ${name.replace(/\s+/g, ' ')}, one core`,
      unit: 'Mpps',
      better: 'higher',
      rounds: [cpuPps / 1e6],
      goals: name.includes('64 B') ? [{ value: 3, text: '>= 3 Mpps' }] : [],
      note: `per second of CPU time given to the process; ${(pps / 1e6).toFixed(2)} Mpps per second of wall time`,
    }),
  ),
});
