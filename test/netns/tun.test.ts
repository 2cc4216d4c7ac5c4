// Real traffic through TUN devices made by the native addon, inside throwaway namespaces:
// ping answered from the ring, UDP echoed in batches, a TCP stream bridged between two TUNs
// with offloads (GSO super-packets on the wire), and hand-made super-packets that the kernel has
// to segment correctly on the way out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, labNamespace } from '../helpers/netns.js';
import { requires } from '../helpers/env.js';
import { TunDevice, type PacketBatch } from '../../src-main/engine/native/tun.js';
import { GsoType, vnetGsoType } from '../../src-main/engine/native/vnet.js';
import {
  get16,
  get32,
  icmpEchoReplyInPlace,
  ipv4HeaderOk,
  l4ChecksumOk,
  nodeIn,
  parseIp,
  runAsync,
  superPacket,
  swapInPlace,
} from './tun-packets.js';

const need = { root: true, tun: true };

test('ping through a TUN device is answered from the ring, in place', async (t) => {
  const setup = labNamespace(t, { ...need, binaries: ['ping'] }, 'tun', 'ping');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tunp0', netns: ns, mtu: 1400, up: true });
  t.after(() => dev.close());
  assert.equal(dev.mtu, 1400);
  assert.equal(dev.isUp, true);
  assert.match(lab.exec(ns, 'ip', ['link', 'show', 'tunp0']), /mtu 1400 .*state UNKNOWN|UP.*mtu 1400/);
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunp0']);

  const replies = new Uint32Array(dev.batchSize);
  const replyLens = new Uint32Array(dev.batchSize);
  let echoed = 0;
  dev.onPackets((b) => {
    let n = 0;
    for (let i = 0; i < b.count; i++) {
      const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
      if (!icmpEchoReplyInPlace(p)) continue;
      replies[n] = b.offsets[i];
      replyLens[n++] = b.lengths[i];
    }
    echoed += n;
    assert.equal(dev.writeBatch(b.buffer, replies, replyLens, n), n);
  });
  const out = await runAsync(lab, ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '3', '192.0.2.2']).done;
  assert.match(out, /3 packets transmitted, 3 received/);
  assert.equal(echoed, 3);
  const s = dev.stats();
  assert.ok(s.rxPackets >= 3 && s.txPackets === 3, JSON.stringify(s));
});

test('UDP datagrams arrive in batches and echoes written back reach the socket', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'udp');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tunu0', netns: ns, up: true, batchSize: 16 });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunu0']);

  const batches: number[] = [];
  const udpOffsets = new Uint32Array(dev.batchSize);
  const udpLengths = new Uint32Array(dev.batchSize);
  let udp = 0;
  dev.onPackets((b: PacketBatch) => {
    batches.push(b.count);
    let n = 0;
    for (let i = 0; i < b.count; i++) {
      const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
      // The kernel also sends its own IPv6 chatter (MLD, router solicitations) here; skip it.
      if (parseIp(p).proto !== 17) continue;
      assert.ok(l4ChecksumOk(p), 'kernel UDP checksum');
      swapInPlace(p);
      udpOffsets[n] = b.offsets[i];
      udpLengths[n++] = b.lengths[i];
    }
    udp += n;
    // The echoes go out from the ring slots they were read into.
    assert.equal(dev.writeBatch(b.buffer, udpOffsets, udpLengths, n), n);
  });
  // Not reading while the datagrams are sent, so they wait in the device queue and come in
  // batches once reading resumes.
  dev.pause();
  const n = 40;
  const peer = nodeIn(
    lab,
    ns,
    `const s = require('dgram').createSocket('udp4');
     const got = new Set();
     s.on('message', (m) => { got.add(m.toString()); if (got.size === ${n}) { console.log('got', got.size); process.exit(0); } });
     s.bind(0, '192.0.2.1', () => {
       for (let i = 0; i < ${n}; i++) s.send('datagram ' + i, 9000, '192.0.2.2');
       setTimeout(() => console.log('sent'), 200);
     });
     setTimeout(() => { console.error('only', got.size); process.exit(1); }, 10000);`,
  );
  await new Promise<void>((resolve) =>
    peer.child.stdout!.on('data', (d: Buffer) => d.includes('sent') && resolve()),
  );
  dev.resume();
  const out = await peer.done;
  assert.match(out, new RegExp(`got ${n}`));
  assert.equal(udp, n);
  assert.ok(Math.max(...batches) > 1, `batches ${batches.join(',')}`);
  assert.ok(Math.max(...batches) <= 16, 'batch size honoured');
});

for (const family of [4, 6] as const) {
  test(`TCP over IPv${family} bridged between two TUNs with offloads: super-packets, data intact`, async (t) => {
    if (!requires(t, need)) return;
    const lab = new Lab('tun');
    t.after(() => lab.dispose());
    const nsA = lab.ns(`t${family}a`);
    const nsB = lab.ns(`t${family}b`);
    const mtu = 1500;
    const opts = { name: 'tunb0', offloads: 'all', mtu, up: true } as const;
    const a = TunDevice.open({ ...opts, netns: nsA });
    t.after(() => a.close());
    const b = TunDevice.open({ ...opts, netns: nsB });
    t.after(() => b.close());
    for (const d of [a, b]) {
      assert.equal(d.vnetHdrLen, 10);
      assert.ok(d.offloads.csum && d.offloads.tso4 && d.offloads.tso6, JSON.stringify(d.offloads));
    }
    const [addrA, addrB, plen] =
      family === 4 ? ['192.0.2.1', '192.0.2.2', 24] : ['2001:db8::1', '2001:db8::2', 64];
    for (const [ns, addr] of [
      [nsA, addrA],
      [nsB, addrB],
    ])
      lab.exec(ns, 'ip', [
        'addr',
        'add',
        `${addr}/${plen}`,
        'dev',
        'tunb0',
        ...(family === 6 ? ['nodad'] : []),
      ]);

    let biggest = 0;
    const gsoTypes = new Set<number>();
    const forward = (from: TunDevice, to: TunDevice) =>
      from.onPackets((batch) => {
        for (let i = 0; i < batch.count; i++) {
          if (batch.lengths[i] > biggest) biggest = batch.lengths[i];
          gsoTypes.add(vnetGsoType(batch.buffer, batch.offsets[i]));
        }
        // A pure bridge: vnet headers pass through untouched.
        assert.equal(to.writeBatch(batch.buffer, batch.offsets, batch.lengths, batch.count), batch.count);
      });
    forward(a, b);
    forward(b, a);

    const bytes = 32 << 20;
    const server = nodeIn(
      lab,
      nsB,
      `const h = require('crypto').createHash('sha256'); let n = 0;
       const srv = require('net').createServer((c) => {
         c.on('data', (d) => { h.update(d); n += d.length; });
         c.on('end', () => { console.log('received', n, h.digest('hex')); c.end(); srv.close(); });
       });
       srv.listen(5201, '${addrB}', () => console.log('listening'));`,
    );
    await new Promise<void>((r) =>
      server.child.stdout!.on('data', (d: Buffer) => d.includes('listening') && r()),
    );
    const client = nodeIn(
      lab,
      nsA,
      `const h = require('crypto').createHash('sha256');
       const c = require('net').connect(5201, '${addrB}', () => {
         let sent = 0; let x = 12345;
         const more = () => {
           while (sent < ${bytes}) {
             const chunk = Buffer.alloc(65536);
             for (let i = 0; i < chunk.length; i += 4) { x = (x * 1103515245 + 12345) >>> 0; chunk.writeUInt32LE(x, i); }
             h.update(chunk); sent += chunk.length;
             if (!c.write(chunk)) return c.once('drain', more);
           }
           c.end(); console.log('sent', sent, h.digest('hex'));
         };
         more();
       });
       c.resume();`,
    );
    const [sent, received] = await Promise.all([client.done, server.done]);
    const [, sentN, sentHash] = sent.trim().split(' ');
    const [, recvN, recvHash] = received.trim().split(/\s+/).slice(-3);
    assert.equal(Number(sentN), bytes);
    assert.equal(Number(recvN), bytes);
    assert.equal(recvHash, sentHash);
    assert.ok(biggest > mtu, `largest packet ${biggest} should exceed the MTU ${mtu} (TSO super-packet)`);
    assert.ok(gsoTypes.has(family === 4 ? GsoType.TCPV4 : GsoType.TCPV6), `gso types seen: ${[...gsoTypes]}`);
  });
}

test('super-packets written to a TUN are segmented correctly by the kernel', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'seg');
  if (!setup) return;
  const { lab, ns } = setup;
  lab.exec(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  // In: offloads on, so it accepts GSO super-packets. Out: no offloads at all, so the kernel
  // must cut every forwarded super-packet into MTU-sized packets with full checksums.
  const tin = TunDevice.open({ name: 'tunin0', netns: ns, offloads: 'all', up: true });
  t.after(() => tin.close());
  const tout = TunDevice.open({ name: 'tunout0', netns: ns, mtu: 1500, up: true });
  t.after(() => tout.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunin0']);
  lab.exec(ns, 'ip', ['addr', 'add', '198.51.100.1/24', 'dev', 'tunout0']);
  lab.exec(ns, 'ip', ['addr', 'add', '2001:db8:1::1/64', 'dev', 'tunin0', 'nodad']);
  lab.exec(ns, 'ip', ['addr', 'add', '2001:db8:2::1/64', 'dev', 'tunout0', 'nodad']);

  type Case = { proto: 'tcp' | 'udp'; src: string; dst: string; gso: number };
  const cases: Case[] = [
    { proto: 'tcp', src: '192.0.2.2', dst: '198.51.100.2', gso: 1400 },
    { proto: 'tcp', src: '2001:db8:1::2', dst: '2001:db8:2::2', gso: 1000 },
  ];
  if (tin.offloads.uso4) cases.push({ proto: 'udp', src: '192.0.2.2', dst: '198.51.100.2', gso: 1200 });
  if (tin.offloads.uso6) cases.push({ proto: 'udp', src: '2001:db8:1::2', dst: '2001:db8:2::2', gso: 1200 });

  for (const c of cases) {
    const payload = new Uint8Array(20000).map((_, i) => (i * 7 + c.gso) & 255);
    const sp = superPacket(c.proto, c.src, c.dst, payload, c.gso);
    const segments: Uint8Array[] = [];
    const expected = Math.ceil(payload.length / c.gso);
    const got = new Promise<void>((resolve) => {
      tout.onPackets((b) => {
        for (let i = 0; i < b.count; i++) {
          const p = b.buffer.slice(b.offsets[i], b.offsets[i] + b.lengths[i]);
          const ip = parseIp(p);
          if (ip.proto === (c.proto === 'tcp' ? 6 : 17)) segments.push(p);
        }
        if (segments.length >= expected) resolve();
      });
    });
    assert.ok(tin.write(sp.packet, sp.vnet), 'written');
    await got;
    assert.equal(segments.length, expected, `${c.proto} v${c.src.includes(':') ? 6 : 4}`);
    const joined: number[] = [];
    segments.forEach((s, k) => {
      const ip = parseIp(s);
      assert.ok(s.length <= 1500, `segment ${k} is ${s.length} bytes`);
      if (ip.version === 4) assert.ok(ipv4HeaderOk(s), `IPv4 header checksum of segment ${k}`);
      assert.ok(l4ChecksumOk(s), `L4 checksum of segment ${k}`);
      const hdr = c.proto === 'tcp' ? (s[ip.l4 + 12] >> 4) * 4 : 8;
      if (c.proto === 'tcp')
        assert.equal(get32(s, ip.l4 + 4), 1000 + k * c.gso, `sequence number of segment ${k}`);
      else assert.equal(get16(s, ip.l4 + 4), ip.l4Len, `UDP length of segment ${k}`);
      joined.push(...s.subarray(ip.l4 + hdr, ip.l4 + ip.l4Len));
    });
    assert.deepEqual(Uint8Array.from(joined), payload, 'segments carry the payload in order');
    tout.pause();
  }
  assert.equal(tin.stats().txPackets, cases.length);
});

test('a super-packet with a vnet header that does not fit is rejected with an errno error', (t) => {
  const setup = labNamespace(t, need, 'tun', 'bad');
  if (!setup) return;
  const { ns } = setup;
  const dev = TunDevice.open({ name: 'tunbad0', netns: ns, offloads: 'all', up: true });
  t.after(() => dev.close());
  const sp = superPacket('tcp', '192.0.2.2', '192.0.2.1', new Uint8Array(4000), 1000);
  // csum_start beyond the packet: the kernel refuses it (virtio_net_hdr_to_skb).
  sp.vnet[6] = 0xff;
  sp.vnet[7] = 0xff;
  assert.throws(
    () => dev.write(sp.packet, sp.vnet),
    (e: NodeJS.ErrnoException & { index?: number }) =>
      e.code === 'EINVAL' && e.index === 0 && /virtio-net header/.test(e.message),
  );
  // With an error listener the error is reported and the rest of the batch still goes out:
  // [good, bad, good], each packet after its 10-byte vnet header.
  const errors: { code: string; index?: number }[] = [];
  dev.onError((e) => errors.push({ code: e.code, index: e.index }));
  const good = superPacket('tcp', '192.0.2.2', '192.0.2.1', new Uint8Array(100), 1000);
  good.vnet.fill(0); // a plain packet: no GSO, checksum left as is
  const parts = [good, sp, good];
  const buf = new Uint8Array(parts.reduce((n, p) => n + 10 + p.packet.length, 0));
  const offsets = new Uint32Array(3);
  const lengths = new Uint32Array(3);
  let at = 0;
  parts.forEach((p, i) => {
    buf.set(p.vnet, at);
    buf.set(p.packet, at + 10);
    offsets[i] = at + 10;
    lengths[i] = p.packet.length;
    at += 10 + p.packet.length;
  });
  const before = dev.stats().txPackets;
  assert.equal(dev.writeBatch(buf, offsets, lengths), 3, 'all three taken');
  assert.deepEqual(errors, [{ code: 'EINVAL', index: 1 }]);
  assert.equal(dev.stats().txPackets - before, 2, 'both good packets written');
  assert.equal(dev.stats().txErrors, 2);
});
