// Every client of the stub is answered within 5 s (issue 16; stub resolvers give up on a server
// after 5 s, glibc's RES_TIMEOUT), whatever the upstream does: the stub answers SERVFAIL at its
// own deadline (answerWithinMs, default 4 s) when the upstreams have not settled the question.
// The upstream here is a scripted one (a fake: no real resolver truncates and then stalls on
// cue): every UDP reply has TC set, and over TCP it reads the query and never answers. With the
// default timeout (1.5 s) and attempts (2), the stub's schedule is 2 x (UDP + 3 s over TCP),
// over 6 s: without the deadline, the answer came after the client had given up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { ask, startStub } from './helpers.js';

/** Truncates every UDP reply; over TCP reads and never answers. Counts TCP connections. */
async function truncateThenStall(): Promise<{ port: number; tcpConnections: () => number; close(): void }> {
  for (let i = 0; ; i++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m, r) => {
      const q = packet.decode(m);
      const reply = packet.encode({
        type: 'response',
        id: q.id,
        flags: packet.TRUNCATED_RESPONSE | packet.RECURSION_AVAILABLE,
        questions: q.questions,
      });
      udp.send(reply, r.port, r.address);
    });
    const port = await new Promise<number>((r) => udp.bind(0, '127.0.0.1', () => r(udp.address().port)));
    const conns = new Set<net.Socket>();
    let accepted = 0;
    const tcp = net.createServer((s) => {
      accepted++;
      conns.add(s);
      s.on('error', () => {});
      s.on('close', () => conns.delete(s));
    });
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    const close = () => {
      udp.close();
      for (const c of conns) c.destroy();
      tcp.close();
    };
    if (ok) return { port, tcpConnections: () => accepted, close };
    close();
    if (i === 20) throw new Error('no port free for both UDP and TCP on 127.0.0.1');
  }
}

test('an upstream that stalls past 5 s: SERVFAIL at the stub deadline, to every client waiting, over UDP and TCP', async (t) => {
  const up = await truncateThenStall();
  t.after(() => up.close());
  // The defaults of `clatbar run` (engine/clat/dns64-glue.ts passes no timeouts).
  const { server, port } = await startStub(t, up.port);
  const t0 = Date.now();
  // Two clients with the same question share one resolution; a third asks over TCP.
  const replies = await Promise.all([
    ask({ port }, 'stall.example', 'AAAA', { timeoutMs: 5000 }),
    ask({ port }, 'stall.example', 'AAAA', { timeoutMs: 5000 }),
    ask({ port }, 'stall-tcp.example', 'A', { timeoutMs: 5000, tcp: true }),
  ]);
  const ms = Date.now() - t0;
  for (const r of replies) assert.equal(r.msg.rcode, 'SERVFAIL');
  assert.ok(ms < 5000, `answered after ${ms} ms`);
  assert.ok(up.tcpConnections() >= 1, 'the stub was still waiting on the upstream over TCP');
  const s = server.stats;
  assert.equal(s.servfailAtDeadline, 2, 'two resolutions answered at the deadline');
  assert.equal(s.coalesced, 1);
});

test('a TCP connection is kept while its queries wait (not idle), answered at the deadline, closed when idle after; the late result reaches no one twice', async (t) => {
  const up = await truncateThenStall();
  t.after(() => up.close());
  const { server, port } = await startStub(t, up.port, {
    timeoutMs: 200,
    attempts: 1,
    answerWithinMs: 300,
    // Shorter than the wait for an answer: the connection must not count as idle meanwhile.
    tcpIdleMs: 50,
  });
  // One TCP connection, two questions one after the other: both SERVFAIL at the deadline, and no
  // third frame when the resolutions end (after 400 ms: UDP, then TCP's 2 x 200 ms).
  const sock = net.connect({ host: '127.0.0.1', port });
  t.after(() => sock.destroy());
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => {});
  const frames: Buffer[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      frames.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  const send = (id: number, name: string) => {
    const q = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name, type: 'A' }],
    });
    const l = Buffer.alloc(2);
    l.writeUInt16BE(q.length);
    sock.write(Buffer.concat([l, q]));
  };
  const until = async (n: number) => {
    for (let i = 0; i < 100 && frames.length < n && !sock.destroyed; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(frames.length, n, `answer ${n} (connection ${sock.destroyed ? 'closed' : 'open'})`);
  };
  send(1, 'one.example');
  await until(1);
  send(2, 'two.example');
  await until(2);
  await new Promise((r) => setTimeout(r, 800));
  assert.deepEqual(
    frames.map((f) => [f.readUInt16BE(0), f[3] & 0x0f]),
    [
      [1, 2],
      [2, 2],
    ],
    'IDs 1 and 2, RCODE 2 (SERVFAIL), nothing more',
  );
  assert.equal(server.stats.servfailAtDeadline, 2);
  await closed; // idle now: the stub closes it
});
