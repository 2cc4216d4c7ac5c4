// `clatbar translate` on what people really feed it: captures with garbage, snap-length-cut
// packets, a last record cut short by a killed tcpdump. Malformed packets are dropped and
// counted, the user is told what happened (a summary on stderr), and a capture cut short is
// processed up to the cut instead of refused whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap, writePcap } from '../../../src-main/engine/siit/pcap.js';
import { hex, loadVectors, repoRoot } from './helpers.js';

const clatbar = join(repoRoot, 'bin', 'clatbar');

function cli(args: string[]) {
  return spawnSync(process.execPath, [clatbar, 'translate', ...args], { encoding: 'utf8' });
}

function setup(t: import('node:test').TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-translate-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = loadVectors().find((v) => v.name.startsWith('udp, TOS'))!;
  writeFileSync(join(dir, 'case.json'), JSON.stringify(good.config));
  return { dir, good, args: ['--config', join(dir, 'case.json'), '--out', join(dir, 'out.pcap')] };
}

test('malformed packets are dropped and counted, and the summary says how many went where', (t) => {
  const { dir, good, args } = setup(t);
  const packets = [
    hex(good.input),
    new Uint8Array(0), // nothing at all
    Uint8Array.from([0x45, 0, 0, 20]), // a header cut off
    Uint8Array.from([0x70, 1, 2, 3, 4, 5, 6, 7]), // IP version 7
    hex(good.input).subarray(0, 30), // total length says more than is there
    Uint8Array.from(Array.from({ length: 60 }, (_, i) => (i * 13) & 255)), // noise
    hex(good.input),
  ];
  writeFileSync(join(dir, 'in.pcap'), writePcap(packets.map((data, i) => ({ data, time: i }))));
  const r = cli([...args, '--in', join(dir, 'in.pcap'), '--verdicts', join(dir, 'v.jsonl')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readPcap(readFileSync(join(dir, 'out.pcap'))).packets.length, 2);
  const v = readFileSync(join(dir, 'v.jsonl'), 'utf8').trim().split('\n');
  assert.equal(v.length, packets.length, 'one verdict per input packet');
  assert.match(r.stderr, /7 packet\(s\) in: 2 translated, 5 dropped, 0 answered with an ICMP error/);
  assert.match(r.stderr, /truncated \d/);
  assert.match(r.stderr, /2 packet\(s\) written to/);
});

test('a capture whose last record is cut short is processed up to the cut, with a warning', (t) => {
  const { dir, good, args } = setup(t);
  const whole = writePcap([0, 1, 2].map((i) => ({ data: hex(good.input), time: i })));
  // As tcpdump leaves it when killed mid-write: the third record loses its last 10 bytes.
  writeFileSync(join(dir, 'cut.pcap'), whole.subarray(0, whole.length - 10));
  const r = cli([...args, '--in', join(dir, 'cut.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: .*cut short/);
  assert.match(r.stderr, /2 packet\(s\) in: 2 translated/);
  assert.equal(readPcap(readFileSync(join(dir, 'out.pcap'))).packets.length, 2);
  // Half a record header at the end, too.
  writeFileSync(join(dir, 'cut2.pcap'), whole.subarray(0, 24 + 16 + good.input.length / 2 + 7));
  const r2 = cli([...args, '--in', join(dir, 'cut2.pcap')]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, /warning: .*half a record header/);
  assert.match(r2.stderr, /1 packet\(s\) in: 1 translated/);
});

test('packets cut by the snap length are dropped as truncated and the fix is named', (t) => {
  const { dir, good, args } = setup(t);
  const full = writePcap([{ data: hex(good.input) }]);
  // Rewrite the record as captured with a short snap length: incl 24 of orig N.
  const data = hex(good.input);
  const snapped = new Uint8Array(24 + 16 + 24);
  snapped.set(full.subarray(0, 24));
  const dv = new DataView(snapped.buffer);
  dv.setUint32(24 + 8, 24, true);
  dv.setUint32(24 + 12, data.length, true);
  snapped.set(data.subarray(0, 24), 40);
  writeFileSync(join(dir, 'snap.pcap'), snapped);
  const r = cli([...args, '--in', join(dir, 'snap.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 dropped/);
  assert.match(r.stderr, /snap length: capture with tcpdump -s 0/);
});

test('garbage instead of a pcap file: exit 1 and a message naming the file, nothing else', (t) => {
  const { dir, args } = setup(t);
  writeFileSync(join(dir, 'junk.pcap'), 'hello, this is not a capture at all');
  const r = cli([...args, '--in', join(dir, 'junk.pcap')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /junk\.pcap: not a pcap file/);
});

test('--help teaches with a command line to copy, not only a config file', () => {
  const r = spawnSync(process.execPath, [clatbar, 'translate', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ {2}clatbar translate --config \S+ --in \S+ --out \S+/m);
  assert.match(r.stdout, /icmpErrorRate/);
});

test('a `tcpdump -i any` capture (Linux cooked SLL / SLL2) is read, not refused', (t) => {
  const { dir, good, args } = setup(t);
  const ip = hex(good.input);
  for (const [linktype, hdr] of [
    // SLL: packet type, ARPHRD, addr len, 8 bytes addr, protocol 0x0800.
    [113, [0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00]],
    // SLL2: protocol 0x0800, reserved, ifindex, ARPHRD, packet type, addr len, 8 bytes addr.
    [276, [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0]],
  ] as const) {
    const frame = new Uint8Array(hdr.length + ip.length);
    frame.set(hdr);
    frame.set(ip, hdr.length);
    const file = writePcap([{ data: frame }]);
    new DataView(file.buffer, file.byteOffset).setUint32(20, linktype, true);
    writeFileSync(join(dir, `${linktype}.pcap`), file);
    const r = cli([...args, '--in', join(dir, `${linktype}.pcap`)]);
    assert.equal(r.status, 0, `${linktype}: ${r.stderr}`);
    assert.match(r.stderr, /1 packet\(s\) in: 1 translated/);
    assert.deepEqual(
      [...readPcap(readFileSync(join(dir, 'out.pcap'))).packets[0].data],
      [...hex(good.expected[0])],
    );
  }
});
