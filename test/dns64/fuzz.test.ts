// Fuzz test of the DNS64 server: random and mutated messages over UDP and TCP. The server
// must never crash, never stall, and every reply it sends must be a well-formed DNS message
// answering the ID it was sent. The seed is printed so a failure can be replayed
// (CLATBAR_FUZZ_SEED=N); CLATBAR_FUZZ_ROUNDS scales the work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import packet from 'dns-packet';
import { requires } from '../helpers/env.js';
import type { Dns64Server } from '../../src-main/engine/dns64/server.js';
import { parseMessage } from '../../src-main/engine/dns/wire.js';
import { ask, localStub, prng, startUnbound, type Unbound } from './helpers.js';

const seed = Number(process.env.CLATBAR_FUZZ_SEED ?? Date.now() % 1_000_000);
const rounds = Number(process.env.CLATBAR_FUZZ_ROUNDS ?? 1);

let upstream: Unbound | null = null;
let server: Dns64Server | null = null;
let port = 0;

before(async () => {
  upstream = await startUnbound().catch(() => null);
  if (!upstream) return;
  server = localStub(upstream.port, {
    timeoutMs: 200,
    attempts: 1,
    tcpIdleMs: 500,
  });
  await server.start();
  port = server.boundAddresses()[0].port;
});

after(async () => {
  await server?.stop();
  await upstream?.stop();
});

function seedQueries(): Buffer[] {
  const q = (name: string, type: string, extra: Partial<packet.Packet> = {}): Buffer =>
    packet.encode({
      type: 'query',
      id: 1,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
      ...extra,
    });
  const opt = [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: packet.DNSSEC_OK } as packet.Answer];
  return [
    q('a-only.dns64.example', 'AAAA'),
    q('cname.dns64.example', 'AAAA', { additionals: opt }),
    q('big.dns64.example', 'AAAA'),
    q('1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.4.6.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'PTR'),
    q('ipv4only.arpa', 'AAAA', { additionals: opt }),
    q('nothere.dns64.example', 'A'),
  ];
}

/** One hostile message: random bytes, a mutated valid query, or a crafted nasty case. */
function hostile(rand: () => number, seeds: Buffer[]): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const kind = rand();
  if (kind < 0.2) {
    const b = Buffer.alloc(Math.floor(rand() * 600));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    if (b.length > 2 && rand() < 0.7) b[2] &= 0x7f; // mostly queries, so they get past the QR check
    return b;
  }
  if (kind < 0.85) {
    const b = Buffer.from(pick(seeds));
    const edits = 1 + Math.floor(rand() * 6);
    let out = b;
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * out.length);
      const op = rand();
      if (op < 0.35) out[at] ^= 1 << Math.floor(rand() * 8);
      else if (op < 0.55) out[at] = Math.floor(rand() * 256);
      else if (op < 0.65) out = out.subarray(0, at);
      else if (op < 0.75 && at + 1 < out.length)
        out.writeUInt16BE(0xc000 | Math.floor(rand() * out.length), at); // a pointer anywhere
      else if (op < 0.85 && out.length >= 12)
        out.writeUInt16BE(Math.floor(rand() * 4), 4 + 2 * Math.floor(rand() * 4)); // counts
      else out = Buffer.concat([out, Buffer.from([Math.floor(rand() * 256), 0xc0, Math.floor(rand() * 64)])]);
    }
    return out;
  }
  // Crafted: records whose names loop through compression pointers, an OPT claiming a huge
  // RDATA, a maximal name, and an oversize datagram.
  const base = Buffer.from(pick(seeds));
  const c = rand();
  if (c < 0.3) {
    const loop = Buffer.alloc(14);
    loop.writeUInt16BE(0xc000 | base.length, 0); // points at itself
    loop.writeUInt16BE(1, 2);
    const m = Buffer.concat([base, loop]);
    m.writeUInt16BE(m.readUInt16BE(10) + 1, 10);
    return m;
  }
  if (c < 0.55) {
    const m = Buffer.concat([base, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0xff, 0xff])]);
    m.writeUInt16BE(m.readUInt16BE(10) + 1, 10);
    return m;
  }
  if (c < 0.8) {
    const labels: number[] = [];
    while (labels.length < 250) labels.push(63, ...new Array<number>(63).fill(0x61));
    const m = Buffer.concat([
      base.subarray(0, 12),
      Buffer.from(labels.slice(0, 256 + Math.floor(rand() * 20))),
      Buffer.from([0, 0, 28, 0, 1]),
    ]);
    return m;
  }
  const big = Buffer.alloc(60000 + Math.floor(rand() * 5000));
  base.copy(big);
  return big;
}

function checkReply(reply: Buffer, ids: Set<number> | null, where: string): void {
  assert.ok(reply.length >= 12, `${where}: reply shorter than a header`);
  assert.ok(reply[2] & 0x80, `${where}: reply without QR`);
  if (ids) assert.ok(ids.has(reply.readUInt16BE(0)), `${where}: reply to an ID we never sent`);
  assert.ok(
    parseMessage(reply) || reply.readUInt16BE(4) === 0,
    `${where}: malformed reply ${reply.toString('hex')}`,
  );
  packet.decode(reply); // throws on a malformed message
}

async function stillAnswers(): Promise<void> {
  const r = await ask({ port }, 'a-only.dns64.example', 'AAAA', { timeoutMs: 3000 });
  assert.equal((r.msg.answers ?? []).length, 2, 'the server still answers correctly');
  const t = await ask({ port }, 'a-only.dns64.example', 'AAAA', { tcp: true, timeoutMs: 3000 });
  assert.equal((t.msg.answers ?? []).length, 2, 'the server still answers over TCP');
}

test(`UDP: random and mutated messages never crash the server or produce a malformed reply (seed ${seed})`, async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  assert.ok(server);
  const rand = prng(seed);
  const seeds = seedQueries();
  const sock = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(8 << 20);
  const ids = new Set<number>();
  for (let i = 0; i < 4000 * rounds; i++) {
    const m = hostile(rand, seeds);
    if (m.length >= 2) ids.add(m.readUInt16BE(0));
    await new Promise<void>((r) => sock.send(m, port, '127.0.0.1', () => r()));
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  // Let answers that needed the upstream (or its timeout) arrive.
  await new Promise((r) => setTimeout(r, 800));
  sock.close();
  for (const r of replies) checkReply(r, ids, 'UDP');
  const st = server.stats;
  t.diagnostic(
    `${replies.length} replies; formerr ${st.formerr}, dropped ${st.dropped}, servfail ${st.servfail}, synthesized ${st.synthesized}`,
  );
  assert.ok(replies.length > 100, `only ${replies.length} replies`);
  assert.ok(server.stats.formerr > 0 && server.stats.dropped > 0, 'both FORMERR and drops happened');
  await stillAnswers();
});

test(`TCP: garbage streams, odd frames and stalled clients never stall the server (seed ${seed})`, async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  assert.ok(server);
  const rand = prng(seed + 1);
  const seeds = seedQueries();
  const conns: Array<Promise<void>> = [];
  for (let c = 0; c < 60 * rounds; c++) {
    conns.push(
      new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        // Unframed garbage may still frame into "queries" with any ID; framed ones must match.
        let ids: Set<number> | null = new Set<number>();
        let buf = Buffer.alloc(0);
        const done = (): void => {
          clearTimeout(timer);
          s.destroy();
          resolve();
        };
        // Clients that go quiet are cut off by the server's idle timeout (500 ms here).
        const timer = setTimeout(done, 3000);
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            checkReply(buf.subarray(2, 2 + buf.readUInt16BE(0)), ids, 'TCP');
            buf = buf.subarray(2 + buf.readUInt16BE(0));
          }
        });
        s.on('error', done);
        s.on('close', done);
        s.on('connect', () => {
          const style = rand();
          const frames: Buffer[] = [];
          for (let i = 0; i < 1 + Math.floor(rand() * 8); i++) {
            const m = hostile(rand, seeds).subarray(0, 65535);
            if (m.length >= 2) ids?.add(m.readUInt16BE(0));
            const len = Buffer.alloc(2);
            len.writeUInt16BE(m.length);
            frames.push(len, m);
          }
          if (style < 0.2) {
            // Pure garbage, no framing at all.
            ids = null;
            const g = Buffer.alloc(Math.floor(rand() * 3000));
            for (let i = 0; i < g.length; i++) g[i] = Math.floor(rand() * 256);
            s.write(g);
          } else if (style < 0.35) {
            // A length prefix promising more than ever comes, then silence.
            s.write(Buffer.from([0xff, 0xff, 0x12, 0x34]));
          } else if (style < 0.5) {
            // Frames dribbled a few bytes at a time.
            const all = Buffer.concat(frames);
            for (let i = 0; i < all.length; i += 7) s.write(all.subarray(i, i + 7));
          } else {
            s.write(Buffer.concat(frames));
          }
          if (rand() < 0.3) s.end();
        });
      }),
    );
  }
  await Promise.all(conns);
  await stillAnswers();
});

test('a forged query from source port 0 is dropped, not fatal', async (t) => {
  // Node's dgram refuses to send to port 0 (it throws), so answering would crash the engine.
  if (!requires(t, { root: true, binaries: ['unbound', '/usr/bin/python3'] })) return;
  if (spawnSync('/usr/bin/python3', ['-c', 'import scapy']).status !== 0)
    return t.skip('needs python3-scapy');
  assert.ok(server);
  const before = server.stats.dropped;
  const py = [
    'from scapy.all import *',
    'conf.L3socket = L3RawSocket',
    "q = bytes.fromhex('123401000001000000000000016100001c0001')",
    `send(IP(dst='127.0.0.1')/UDP(sport=0, dport=${port})/Raw(q), verbose=0)`,
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (let i = 0; i < 50 && server.stats.dropped === before; i++)
    await new Promise((res) => setTimeout(res, 20));
  assert.equal(server.stats.dropped, before + 1);
  await stillAnswers();
});
