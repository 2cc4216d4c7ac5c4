// The UDP coalescer: what it merges, what it leaves alone, and the GSO packet it builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpCoalescer } from '../../src-main/engine/clat/udp-coalesce.js';
import { VNET_HDR_LEN, VnetFlag, GsoType, readVnet } from '../../src-main/engine/native/vnet.js';
import { parseIPv6 } from '../../src-main/engine/ip/address.js';

const SRC = parseIPv6('2001:db8:1::c1a7');
const DST = parseIPv6('2001:db8:64::cb00:710a');

/** An IPv6/UDP packet at offset 64 of its own buffer, with a NEEDS_CSUM vnet header in front. */
function udp6(
  payload: Uint8Array,
  opts: { sport?: number; partial?: boolean; hop?: number } = {},
): {
  buf: Uint8Array;
  off: number;
  len: number;
} {
  const off = 64;
  const len = 48 + payload.length;
  const buf = new Uint8Array(off + len);
  const h = off - VNET_HDR_LEN;
  if (opts.partial ?? true) {
    buf[h] = VnetFlag.NEEDS_CSUM;
    buf[h + 6] = 40;
    buf[h + 8] = 6;
  }
  buf[off] = 0x60;
  buf[off + 4] = (8 + payload.length) >> 8;
  buf[off + 5] = (8 + payload.length) & 255;
  buf[off + 6] = 17;
  buf[off + 7] = opts.hop ?? 64;
  buf.set(SRC, off + 8);
  buf.set(DST, off + 24);
  const sport = opts.sport ?? 40000;
  buf[off + 40] = sport >> 8;
  buf[off + 41] = sport & 255;
  buf[off + 42] = 0x1f;
  buf[off + 43] = 0x90;
  buf[off + 44] = (8 + payload.length) >> 8;
  buf[off + 45] = (8 + payload.length) & 255;
  buf.set(payload, off + 48);
  return { buf, off, len };
}

function collect(): { c: UdpCoalescer; out: Array<{ buf: Uint8Array; off: number; len: number }> } {
  const out: Array<{ buf: Uint8Array; off: number; len: number }> = [];
  const c = new UdpCoalescer(
    (buf, off, len) => out.push({ buf, off, len: len }),
    () => {},
  );
  return { c, out };
}

const pay = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i + seed) & 255);

test('consecutive same-flow datagrams become one UDP_L4 GSO packet with a partial checksum', () => {
  const { c, out } = collect();
  for (let i = 0; i < 5; i++) {
    const p = udp6(pay(64, i));
    c.push(p.buf, p.off, p.len);
  }
  const last = udp6(pay(20, 99)); // the last one may be shorter
  c.push(last.buf, last.off, last.len);
  c.close();
  assert.equal(out.length, 1);
  const { buf, off, len } = out[0];
  assert.equal(len, 48 + 5 * 64 + 20);
  assert.equal((buf[off + 4] << 8) | buf[off + 5], 8 + 5 * 64 + 20, 'IPv6 payload length');
  assert.equal((buf[off + 44] << 8) | buf[off + 45], 8 + 5 * 64 + 20, 'UDP length');
  for (let i = 0; i < 5; i++)
    assert.deepEqual(buf.subarray(off + 48 + i * 64, off + 48 + (i + 1) * 64), pay(64, i));
  assert.deepEqual(buf.subarray(off + 48 + 320, off + len), pay(20, 99));
  const v = readVnet(buf, off);
  assert.equal(v.gsoType, GsoType.UDP_L4);
  assert.equal(v.gsoSize, 64);
  assert.equal(v.flags, VnetFlag.NEEDS_CSUM);
  assert.equal(v.csumStart, 40);
  assert.equal(v.csumOffset, 6);
  assert.equal(v.hdrLen, 48);
  // The checksum field holds the folded pseudo-header sum with the whole length.
  let s = 8 + 5 * 64 + 20 + 17;
  for (let i = 8; i < 40; i += 2) s += (buf[off + i] << 8) | buf[off + i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  assert.equal((buf[off + 46] << 8) | buf[off + 47], s);
});

test('a single datagram is passed through untouched, from where it was', () => {
  const { c, out } = collect();
  const p = udp6(pay(64, 1));
  c.push(p.buf, p.off, p.len);
  c.close();
  assert.equal(out.length, 1);
  assert.equal(out[0].buf, p.buf);
  assert.equal(out[0].off, p.off);
});

test('different flows, sizes after a short one, full checksums and hop limits are not merged', () => {
  const { c, out } = collect();
  const a = udp6(pay(64, 1));
  const b = udp6(pay(64, 2), { sport: 40001 });
  const d = udp6(pay(64, 3), { partial: false });
  const e = udp6(pay(64, 4), { hop: 63 });
  const f = udp6(pay(32, 5));
  const g = udp6(pay(64, 6));
  for (const p of [a, b, d, e, f, g]) c.push(p.buf, p.off, p.len);
  c.close();
  assert.equal(out.length, 6);
  assert.ok(out.every((o, i) => o.buf === [a, b, d, e, f, g][i].buf));
});

test('at most 64 datagrams per GSO packet, in order', () => {
  const { c, out } = collect();
  for (let i = 0; i < 130; i++) {
    const p = udp6(pay(16, i));
    c.push(p.buf, p.off, p.len);
  }
  c.close();
  assert.deepEqual(
    out.map((o) => (o.len - 48) / 16),
    [64, 64, 2],
  );
  assert.deepEqual(out[1].buf.subarray(out[1].off + 48, out[1].off + 64), pay(16, 64));
});

/** The same packet as udp6(), at `off` in a view that starts `shift` bytes into its ArrayBuffer. */
function udp6At(payload: Uint8Array, off: number, shift: number) {
  const p = udp6(payload);
  const buf = new Uint8Array(new ArrayBuffer(shift + off + p.len), shift);
  buf.set(p.buf.subarray(p.off - VNET_HDR_LEN, p.off + p.len), off - VNET_HDR_LEN);
  return { buf, off, len: p.len };
}

test('packets at any alignment merge alike (word compares and copies only where aligned)', () => {
  // 61-byte payloads: every copy has a tail that is not a whole 32-bit word.
  const layouts = [
    [64, 0], // aligned
    [65, 0], // unaligned offset
    [63, 1], // unaligned view, aligned in its buffer
    [66, 3],
    [64, 2],
  ];
  const { c, out } = collect();
  for (const [i, [off, shift]] of layouts.entries()) {
    const p = udp6At(pay(61, i), off, shift);
    c.push(p.buf, p.off, p.len);
  }
  c.close();
  assert.equal(out.length, 1);
  const { buf, off, len } = out[0];
  assert.equal(len, 48 + 5 * 61);
  for (let i = 0; i < 5; i++)
    assert.deepEqual(buf.subarray(off + 48 + i * 61, off + 48 + (i + 1) * 61), pay(61, i));
  assert.deepEqual(buf.subarray(off + 8, off + 40), Uint8Array.from([...SRC, ...DST]));
  assert.equal(readVnet(buf, off).gsoSize, 61);
});

test('a difference in any compared header word ends the group, aligned or not', () => {
  // Byte offsets inside the IPv6/UDP header: flow label, first and last address bytes, ports.
  for (const at of [1, 3, 8, 23, 24, 39, 40, 43]) {
    for (const [off, shift] of [
      [64, 0],
      [65, 0],
    ]) {
      const { c, out } = collect();
      const a = udp6At(pay(64, 1), off, shift);
      const b = udp6At(pay(64, 2), off, shift);
      b.buf[b.off + at] ^= 0x10;
      const d = udp6At(pay(64, 3), off, shift);
      d.buf[d.off + at] ^= 0x10;
      for (const p of [a, b, d]) c.push(p.buf, p.off, p.len);
      c.close();
      assert.deepEqual(
        out.map((o) => o.len),
        [112, 48 + 128],
        `byte ${at} differs, packet at ${off}+${shift}`,
      );
    }
  }
});
