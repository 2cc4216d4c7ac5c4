// `ping -s 3000 203.0.113.10` through the CLAT, and every echo reply above 1260 bytes from an
// IPv4 host (a NAT64 such as TAYGA or Jool fragments it at 1280 towards us), used to be dropped
// as icmp-fragmented. The ICMPv6 pseudo-header needs the length of the whole message; the last
// fragment tells it, so the first fragment is held until then (siit/icmp-frag.ts). These tests
// fragment real echo messages, feed the fragments in every order, reassemble what comes out and
// check the checksum of the whole message, as the receiving kernel does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { finish, pseudo6, sum16 } from '../../../src-main/engine/siit/checksum.js';
import { run } from './helpers.js';

const CLAT = {
  pool6: '2001:db8:64::/96',
  eamt: [{ ipv4: '192.0.0.4/32', ipv6: '2001:db8:1::c1a7/128' }],
  icmpSourceV4: '192.0.0.5',
  icmpSourceV6: '2001:db8:1::c1a7',
};
const SRC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xc1, 0xa7];
const SRV6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 10];

function echoBody(type: number, size: number, pseudo: number): Uint8Array {
  const m = new Uint8Array(8 + size);
  m.set([type, 0, 0, 0, 0x12, 0x34, 0, 7]);
  for (let i = 8; i < m.length; i++) m[i] = (i * 7 + 3) & 255;
  const c = finish(sum16(m, 0, m.length, pseudo));
  m[2] = c >> 8;
  m[3] = c & 255;
  return m;
}

/** IPv4 fragments (MTU 1500 as the kernel makes them) of an echo request 192.0.0.4 -> 203.0.113.10. */
function ipv4Fragments(size: number, id = 0x4242): Uint8Array[] {
  const msg = echoBody(8, size, 0);
  const out: Uint8Array[] = [];
  for (let at = 0; at < msg.length; at += 1480) {
    const part = msg.subarray(at, Math.min(msg.length, at + 1480));
    const p = new Uint8Array(20 + part.length);
    const more = at + part.length < msg.length;
    const fo = (at >> 3) | (more ? 0x2000 : 0);
    p.set([0x45, 0, p.length >> 8, p.length & 255, id >> 8, id & 255, fo >> 8, fo & 255, 64, 1, 0, 0]);
    p.set([192, 0, 0, 4, 203, 0, 113, 10], 12);
    const c = finish(sum16(p, 0, 20, 0));
    p[10] = c >> 8;
    p[11] = c & 255;
    p.set(part, 20);
    out.push(p);
  }
  return out;
}

/** IPv6 fragments (1280-byte packets, as a NAT64 sends them) of an echo reply to the CLAT. */
function ipv6Fragments(size: number, id = 0x01020304): Uint8Array[] {
  const hdr = new Uint8Array(40);
  hdr.set(SRV6, 8);
  hdr.set(SRC6, 24);
  const msg = echoBody(129, size, pseudo6(hdr, 8, 24, 8 + size, 58));
  const out: Uint8Array[] = [];
  for (let at = 0; at < msg.length; at += 1232) {
    const part = msg.subarray(at, Math.min(msg.length, at + 1232));
    const p = new Uint8Array(48 + part.length);
    const plen = 8 + part.length;
    p.set([0x60, 0, 0, 0, plen >> 8, plen & 255, 44, 60]);
    p.set(SRV6, 8);
    p.set(SRC6, 24);
    const more = at + part.length < msg.length;
    const fw = at | (more ? 1 : 0);
    p.set([58, 0, fw >> 8, fw & 255, id >>> 24, (id >> 16) & 255, (id >> 8) & 255, id & 255], 40);
    p.set(part, 48);
    out.push(p);
  }
  return out;
}

/** Reassembles IPv6 fragments (Fragment Header right after the header) into the upper-layer message. */
function reassemble6(pkts: Uint8Array[]): { msg: Uint8Array; first: Uint8Array } {
  const parts = pkts.map((p) => {
    assert.equal(p[0] >> 4, 6);
    assert.equal(p[6], 44, 'every output is a fragment');
    const fw = (p[42] << 8) | p[43];
    return { at: fw & 0xfff8, more: (fw & 1) === 1, data: p.subarray(48) };
  });
  const last = parts.find((x) => !x.more);
  assert.ok(last, 'a last fragment');
  const msg = new Uint8Array(last.at + last.data.length);
  let covered = 0;
  for (const x of parts) {
    msg.set(x.data, x.at);
    covered += x.data.length;
  }
  assert.equal(covered, msg.length, 'fragments cover the message exactly once');
  return { msg, first: pkts.find((p) => (((p[42] << 8) | p[43]) & 0xfff8) === 0)! };
}

function reassemble4(pkts: Uint8Array[]): Uint8Array {
  const parts = pkts.map((p) => {
    assert.equal(p[0] >> 4, 4);
    assert.equal(finish(sum16(p, 0, 20, 0)), 0, 'IPv4 header checksum');
    assert.equal(p[9], 1, 'protocol ICMP');
    const fo = (p[6] << 8) | p[7];
    return { at: (fo & 0x1fff) << 3, more: (fo & 0x2000) !== 0, data: p.subarray(20) };
  });
  const last = parts.find((x) => !x.more)!;
  const msg = new Uint8Array(last.at + last.data.length);
  let covered = 0;
  for (const x of parts) {
    msg.set(x.data, x.at);
    covered += x.data.length;
  }
  assert.equal(covered, msg.length);
  return msg;
}

const ORDERS = [
  [0, 1, 2],
  [2, 1, 0],
  [1, 2, 0],
  [0, 2, 1],
];

for (const order of ORDERS) {
  test(`ping -s 3000 out (IPv4 fragments in order ${order.join(',')}): ICMPv6 checksum of the whole message verifies`, () => {
    const t = new Translator(CLAT);
    const frags = ipv4Fragments(3000);
    assert.equal(frags.length, 3);
    const out: Uint8Array[] = [];
    for (const i of order) {
      const r = run(t, frags[i]);
      assert.equal(r.verdict, 'translated', r.reason);
      out.push(...r.out);
    }
    const { msg, first } = reassemble6(out);
    assert.equal(msg.length, 3008);
    assert.equal(msg[0], 128, 'echo request');
    assert.equal(
      finish(sum16(msg, 0, msg.length, pseudo6(first, 8, 24, msg.length, 58))),
      0,
      'ICMPv6 checksum',
    );
    assert.equal(Object.keys(t.counters.snapshot().drops).length, 0);
  });

  test(`a fragmented echo reply in (IPv6 fragments in order ${order.join(',')}): ICMPv4 checksum verifies`, () => {
    const t = new Translator(CLAT);
    const frags = ipv6Fragments(3000);
    const out: Uint8Array[] = [];
    for (const i of order) {
      const r = run(t, frags[i]);
      assert.equal(r.verdict, 'translated', r.reason);
      out.push(...r.out);
    }
    const msg = reassemble4(out);
    assert.equal(msg.length, 3008);
    assert.equal(msg[0], 0, 'echo reply');
    assert.equal(finish(sum16(msg, 0, msg.length, 0)), 0, 'ICMPv4 checksum');
  });
}

test('two fragmented pings in flight at once are kept apart by their IDs', () => {
  const t = new Translator(CLAT);
  const a = ipv6Fragments(2000, 1);
  const b = ipv6Fragments(2500, 2);
  const outA: Uint8Array[] = [];
  const outB: Uint8Array[] = [];
  outA.push(...run(t, a[0]).out);
  outB.push(...run(t, b[0]).out);
  outB.push(...run(t, b[1]).out);
  outA.push(...run(t, a[1]).out);
  outB.push(...run(t, b[2]).out);
  assert.equal(finish(sum16(reassemble4(outA), 0, 2008, 0)), 0);
  assert.equal(finish(sum16(reassemble4(outB), 0, 2508, 0)), 0);
});

test('a first fragment whose last never comes is bounded: slots are reused and the loss counted', () => {
  const t = new Translator(CLAT);
  let clock = 0;
  t.now = () => clock;
  for (let i = 0; i < 40; i++) {
    clock += 1;
    assert.equal(run(t, ipv6Fragments(3000, 100 + i)[0]).out.length, 0, 'held');
  }
  // 16 slots: the 24 oldest held fragments gave their slot up.
  assert.equal(t.counters.snapshot().drops['icmp-fragment-expired'], 24);
  // A datagram still held completes normally.
  const f = ipv6Fragments(3000, 100 + 39);
  const out = [...run(t, f[1]).out, ...run(t, f[2]).out];
  assert.equal(out.length, 3, 'fragments 2 and 3, then the held first');
  assert.equal(finish(sum16(reassemble4(out), 0, 3008, 0)), 0);
});

test('fragmented ICMP errors stay untranslated (RFC 7915 §1.2: the quote must be whole)', () => {
  const t = new Translator(CLAT);
  const f = ipv6Fragments(3000);
  f[0][48] = 1; // Destination Unreachable instead of Echo Reply
  const r = run(t, f[0]);
  assert.equal(r.verdict, 'dropped');
  assert.equal(r.reason, 'icmp-fragmented');
});
