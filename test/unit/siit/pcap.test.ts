// The pcap reader and writer behind `clatbar translate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapError, readPcap, writePcap } from '../../../src-main/engine/siit/pcap.js';

const pkt4 = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);

function file(linktype: number, records: Uint8Array[], be = false, nano = false): Uint8Array {
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, !be);
  head.setUint16(4, 2, !be);
  head.setUint16(6, 4, !be);
  head.setUint32(16, 65535, !be);
  head.setUint32(20, linktype, !be);
  const parts: Uint8Array[] = [new Uint8Array(head.buffer)];
  for (const r of records) {
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(0, 10, !be);
    h.setUint32(4, nano ? 500_000_000 : 500_000, !be);
    h.setUint32(8, r.length, !be);
    h.setUint32(12, r.length, !be);
    parts.push(new Uint8Array(h.buffer), r);
  }
  return Uint8Array.from(Buffer.concat(parts));
}

test('round trip through LINKTYPE_RAW', () => {
  const f = writePcap([{ data: pkt4, time: 3.25 }]);
  const r = readPcap(f);
  assert.equal(r.linktype, 101);
  assert.equal(r.packets.length, 1);
  assert.deepEqual([...r.packets[0].data], [...pkt4]);
  assert.equal(r.packets[0].time, 3.25);
});

test('big-endian files, nanosecond timestamps, link types 228 and 229', () => {
  for (const lt of [228, 229]) {
    const r = readPcap(file(lt, [pkt4], true, true));
    assert.equal(r.linktype, lt);
    assert.equal(r.packets[0].time, 10.5);
    assert.deepEqual([...r.packets[0].data], [...pkt4]);
  }
});

test('Ethernet frames give their IP payload (VLAN tags skipped); other frames are empty', () => {
  const mac = new Uint8Array(12);
  const eth = Uint8Array.from([...mac, 0x08, 0x00, ...pkt4]);
  const vlan = Uint8Array.from([...mac, 0x81, 0x00, 0, 5, 0x86, 0xdd, 0x60, 0, 0, 0]);
  const arp = Uint8Array.from([...mac, 0x08, 0x06, 0, 1]);
  const r = readPcap(file(1, [eth, vlan, arp]));
  assert.deepEqual([...r.packets[0].data], [...pkt4]);
  assert.deepEqual([...r.packets[1].data], [0x60, 0, 0, 0]);
  assert.equal(r.packets[2].data.length, 0);
});

test('bad files are refused with a reason', () => {
  assert.throws(() => readPcap(new Uint8Array(10)), PcapError);
  assert.throws(() => readPcap(new Uint8Array(24)), /magic/);
  assert.throws(() => readPcap(file(147, [])), /link type 147/);
});

test('a capture cut short in its last record keeps the whole records and says so', () => {
  const f = file(101, [pkt4, pkt4]);
  const r = readPcap(f.subarray(0, f.length - 3));
  assert.equal(r.packets.length, 1);
  assert.match(r.cutShort ?? '', /cut short/);
  assert.equal(readPcap(f).cutShort, undefined);
});
