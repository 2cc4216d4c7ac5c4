// Stage 2, DNS fuzzing: the real DNS64 stub (engine/dns64/server.ts, in a thread of its own)
// between hostile clients (this thread) and a hostile upstream (hostile-upstream.ts, in a thread
// of its own: dns-thread.ts). Well-formed queries go over UDP
// and TCP, each naming an upstream behaviour; hostile messages (random bytes, mutated queries,
// compression loops, lying counts and lengths, oversize) go on other sockets. Verdict: no
// exception anywhere; every well-formed query answered within 5 s with its ID and question
// (RFC 1035 §4.1.1), and where the upstream behaved, with the AAAA synthesized from its A record
// (RFC 6147 §5.1.7); every reply to anything a well-formed DNS message; the stub still answers at
// the end.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import packet from 'dns-packet';
import { BEHAVIOURS, tcpFrames } from './hostile-upstream.js';
import { startStubThread, startUpstreamThread } from './dns-threads.js';
import { Prng } from './inet.js';
import type { StageResult } from './report.js';

const DEADLINE_MS = 5000;
/**
 * A UDP query without an answer is sent again after this long, as stub resolvers do (RFC 1035
 * §4.2.1; glibc's `options timeout:`): UDP is lossy, and a server short of CPU drops what its
 * socket buffer cannot hold (a hostile 60 KB datagram takes a quarter of the default buffer).
 * The 5 s bound still counts from the first send; retransmissions are counted and reported.
 */
const RETRANSMIT_MS = 1500;
const WINDOW = 400;

interface Pending {
  id: number;
  name: string;
  type: 'A' | 'AAAA';
  behaviour: string;
  sent: number;
  /** When it was last sent over UDP (a retransmission moves it; `sent` stays the first). */
  lastSent: number;
}

/** Upstream behaviour for a well-formed query: mostly a working upstream, so the slow failures (timeouts) do not set the pace. */
function behaviour(r: Prng): string {
  return r.chance(0.6) ? 'ok' : r.pick(BEHAVIOURS);
}

/** A well-formed query with ID id, naming the upstream behaviour it will meet. */
function wellFormed(r: Prng, id: number): Pending {
  const b = behaviour(r);
  return {
    id,
    name: `${b}-${r.int(1e7)}.soak.test`,
    type: r.chance(0.8) ? 'AAAA' : 'A',
    behaviour: b,
    sent: Date.now(),
    lastSent: Date.now(),
  };
}

function query(id: number, name: string, type: string): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
  });
}

/** A hostile message: random, a mutated query, or a crafted nasty one. */
function hostile(r: Prng): Buffer {
  const k = r.int(10);
  if (k < 2) {
    const b = Buffer.alloc(r.int(700));
    r.fill(b, 0, b.length);
    if (b.length > 2 && r.chance(0.7)) b[2] &= 0x7f;
    return b;
  }
  let m: Buffer = query(
    r.int(0x10000),
    `${r.pick(BEHAVIOURS)}-${r.int(1e6)}.soak.test`,
    r.pick(['AAAA', 'A', 'PTR', 'ANY', 'TXT']),
  );
  if (k < 8) {
    for (let e = 1 + r.int(5); e > 0; e--) {
      const at = r.int(m.length);
      const op = r.int(6);
      if (op === 0) m[at] ^= 1 << r.int(8);
      else if (op === 1) m[at] = r.int(256);
      else if (op === 2) m = m.subarray(0, at);
      else if (op === 3 && at + 1 < m.length) m.writeUInt16BE(0xc000 | r.int(m.length), at);
      else if (op === 4 && m.length >= 12) m.writeUInt16BE(r.int(0xffff), 4 + 2 * r.int(4));
      else m = Buffer.concat([m, Buffer.from([r.int(256), 0xc0, r.int(64)])]);
    }
    return m;
  }
  if (k === 8) {
    // A question whose name is a pointer to itself.
    const loop = Buffer.alloc(16);
    loop.writeUInt16BE(0x0001, 2);
    loop.writeUInt16BE(0x0001, 4);
    loop.writeUInt16BE(0xc00c, 12);
    loop.writeUInt16BE(28, 14);
    return Buffer.concat([loop, Buffer.from([0, 1])]);
  }
  // An EDNS OPT claiming a huge payload and RDATA that is not there, or an oversize message.
  if (r.chance(0.5)) {
    const x = Buffer.concat([m, Buffer.from([0, 0, 41, 0xff, 0xff, 0, 0, 0x80, 0, 0xff, 0xff])]);
    x.writeUInt16BE(1, 10);
    return x;
  }
  const big = Buffer.alloc(1000 + r.int(60000));
  m.copy(big);
  return big;
}

/**
 * Datagrams the kernel dropped for a full socket receive buffer (/proc/net/snmp Udp
 * RcvbufErrors): where lost queries went. The whole network namespace's count, so others' too.
 */
function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const [names, values] = lines.map((l) => l.split(/\s+/));
    return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
  } catch {
    return 0;
  }
}

/** Problems with a reply, or null: a well-formed DNS response. */
function malformed(reply: Buffer): string | null {
  if (reply.length < 12) return `reply of ${reply.length} bytes`;
  if (!(reply[2] & 0x80)) return 'reply without QR';
  try {
    packet.decode(reply);
  } catch (err) {
    return `undecodable reply: ${(err as Error).message}`;
  }
  return null;
}

export async function dnsStage(opts: {
  messages: number;
  seed: number;
  say: (s: string) => void;
  /** Epoch ms past which it stops early and says how far it got. */
  deadline?: number;
}): Promise<StageResult> {
  const t0 = Date.now();
  const r = new Prng(opts.seed ^ 0xd45);
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  let exceptions = 0;
  const onException = (err: unknown) => {
    exceptions++;
    note(`uncaught: ${(err as Error)?.stack ?? String(err)}`);
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onException);
  // The stub and the upstream in threads of their own (dns-thread.ts); exceptions there count.
  const threadException = (e: string) => onException(new Error(e));
  const upstream = await startUpstreamThread(opts.seed, threadException);
  const stub = await startStubThread(upstream.port, threadException);
  const port = stub.port;
  const c = {
    validUdp: 0,
    validTcp: 0,
    hostileUdp: 0,
    hostileTcp: 0,
    answered: 0,
    synthesized: 0,
    late: 0,
    unanswered: 0,
    malformed: 0,
    wrongAnswers: 0,
    hostileReplies: 0,
    udpRetransmitted: 0,
    maxMs: 0,
  };
  const latencies: number[] = [];
  const rcvbufAtStart = udpRcvbufErrors();
  /** The slowest answers, with what the upstream did to them (kept sorted, at most 5). */
  const slowest: { ms: number; behaviour: string; type: string; tcp: boolean }[] = [];
  // The stub, its clients and the hostile upstream share this thread: an answer is also late
  // when the thread was not scheduled (a loaded machine). The loop's own delay says how much.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();

  // Well-formed queries over UDP, matched by ID.
  const pending = new Map<number, Pending>();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  sock.setRecvBufferSize(8 << 20);
  const settle = (m: Buffer, p: Pending, tcp: boolean) => {
    const ms = Date.now() - p.sent;
    latencies.push(ms);
    if (slowest.length < 5 || ms > slowest[slowest.length - 1].ms) {
      slowest.push({ ms, behaviour: p.behaviour, type: p.type, tcp });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 5);
    }
    c.maxMs = Math.max(c.maxMs, ms);
    if (ms > DEADLINE_MS) c.late++;
    c.answered++;
    const bad = malformed(m);
    if (bad) {
      c.malformed++;
      return note(`${p.name} ${p.type}: ${bad}`);
    }
    const msg = packet.decode(m);
    const q = msg.questions?.[0];
    if (!q || q.name.toLowerCase() !== p.name || q.type !== p.type) {
      c.wrongAnswers++;
      return note(`${p.name} ${p.type}: answered with question ${q?.name} ${q?.type}`);
    }
    if (p.behaviour === 'ok' && p.type === 'AAAA' && !(m[3] & 0x0f) && !(m[2] & 0x02)) {
      const n = Number(p.name.split('.')[0].split('-')[1]);
      const want = `2001:db8:64::c000:2${((n % 250) + 1).toString(16).padStart(2, '0')}`;
      const got = (msg.answers ?? [])
        .filter((a) => a.type === 'AAAA')
        .map((a) => String((a as { data?: unknown }).data));
      if (got.length !== 1 || got[0] !== want) {
        c.wrongAnswers++;
        return note(`${p.name} AAAA: synthesized ${JSON.stringify(got)}, expected ${want}`);
      }
      c.synthesized++;
    }
  };
  sock.on('message', (m) => {
    if (m.length < 2) return;
    const p = pending.get(m.readUInt16BE(0));
    if (!p) return; // a late reply after we gave up on it: counted as unanswered already
    pending.delete(p.id);
    settle(m, p, false);
  });
  // Hostile messages over UDP on their own socket: replies must be well-formed, nothing more.
  const hsock = dgram.createSocket('udp4');
  await new Promise<void>((res) => hsock.bind(0, '127.0.0.1', () => res()));
  hsock.on('message', (m) => {
    c.hostileReplies++;
    const bad = malformed(m);
    if (bad) {
      c.malformed++;
      note(`reply to a hostile message: ${bad}`);
    }
  });

  // Well-formed queries over TCP: one long-lived connection at a time, pipelined. When the stub
  // closes it with queries outstanding (RFC 7766 §6.2.4 lets a server close; it cuts off a
  // client that leaves over 1 MB of answers unread), they are sent again on a new one, as the
  // RFC has clients do; their clock keeps running from the first send.
  const tcpPending = new Map<number, Pending>();
  let tcpResent = 0;
  let tcpDone = false;
  const tcpConn = (): net.Socket => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('close', () => {
      if (tcpDone || tcpPending.size === 0) return;
      if (tcp === s || tcp.destroyed) tcp = tcpConn();
      // Those already sent again on the new connection get a second answer, which is ignored.
      for (const p of tcpPending.values()) {
        tcp.write(frame(query(p.id, p.name, p.type)));
        tcpResent++;
      }
    });
    s.on(
      'data',
      tcpFrames((m) => {
        const p = m.length >= 2 ? tcpPending.get(m.readUInt16BE(0)) : undefined;
        if (p) {
          tcpPending.delete(p.id);
          settle(m, p, true);
        }
      }),
    );
    s.on('error', () => {});
    return s;
  };
  function frame(m: Buffer): Buffer {
    const l = Buffer.alloc(2);
    l.writeUInt16BE(m.length);
    return Buffer.concat([l, m]);
  }
  let tcp = tcpConn();

  // Hostile TCP: throwaway connections with garbage, lying length prefixes, dribbled frames.
  const hostileTcp = (): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const done = () => {
        clearTimeout(timer);
        s.destroy();
        resolve();
      };
      const timer = setTimeout(done, 1500);
      s.on(
        'data',
        tcpFrames((m) => {
          c.hostileReplies++;
          const bad = malformed(m);
          if (bad) {
            c.malformed++;
            note(`TCP reply to a hostile frame: ${bad}`);
          }
        }),
      );
      s.on('error', done);
      s.on('close', done);
      s.on('connect', () => {
        const style = r.int(4);
        const frames = Array.from({ length: 1 + r.int(6) }, () => frame(hostile(r).subarray(0, 65535)));
        c.hostileTcp += frames.length;
        if (style === 0) {
          const g = Buffer.alloc(r.int(3000));
          r.fill(g, 0, g.length);
          s.write(g);
        } else if (style === 1) s.write(Buffer.from([0xff, 0xff, 0x12, 0x34]));
        else if (style === 2) {
          const all = Buffer.concat(frames);
          for (let i = 0; i < all.length; i += 7) s.write(all.subarray(i, i + 7));
        } else s.write(Buffer.concat(frames));
        if (r.chance(0.5)) s.end();
      });
    });

  let nextId = 1;
  const expire = () => {
    const now = Date.now();
    for (const p of pending.values())
      if (now - p.lastSent > RETRANSMIT_MS && now - p.sent < DEADLINE_MS) {
        p.lastSent = now;
        c.udpRetransmitted++;
        sock.send(query(p.id, p.name, p.type), port, '127.0.0.1');
      }
    for (const map of [pending, tcpPending])
      for (const [id, p] of map)
        if (now - p.sent > DEADLINE_MS) {
          map.delete(id);
          c.unanswered++;
          note(`${p.name} ${p.type} (${map === pending ? 'UDP' : 'TCP'}): no answer within 5 s`);
        }
  };
  let sent = 0;
  let hostileTcpRunning = 0;
  let lastSay = Date.now();
  let stoppedEarly = false;
  // A heartbeat apart from the send loop: when the loop waits on something that never comes,
  // this still says where things stand (and the run's watchdog sees it stalled).
  let lastSent = -1;
  const heartbeat = setInterval(() => {
    if (sent === lastSent)
      opts.say(`  no progress: ${sent} sent, ${pending.size} + ${tcpPending.size} in flight`);
    lastSent = sent;
  }, 20_000);
  while (sent < opts.messages) {
    if (Date.now() > (opts.deadline ?? Infinity)) {
      stoppedEarly = true;
      break;
    }
    // Keep at most WINDOW well-formed queries in flight, so what is measured is the stub, not
    // our socket buffers.
    while (pending.size + tcpPending.size >= WINDOW) {
      await new Promise((res) => setTimeout(res, 2));
      expire();
    }
    const k = r.int(20);
    if (k < 9) {
      const id = (nextId++ % 0xffff) + 1; // 1..65535, wrapping
      if (pending.has(id)) continue;
      const p = wellFormed(r, id);
      pending.set(id, p);
      sock.send(query(id, p.name, p.type), port, '127.0.0.1');
      c.validUdp++;
      sent++;
    } else if (k < 11) {
      const id = (nextId++ % 0xffff) + 1; // 1..65535, wrapping
      if (tcpPending.has(id)) continue;
      const p = wellFormed(r, id);
      tcpPending.set(id, p);
      if (tcp.destroyed) tcp = tcpConn(); // the stub may close an idle or overlong connection
      tcp.write(frame(query(id, p.name, p.type)));
      c.validTcp++;
      sent++;
    } else if (k < 19 || hostileTcpRunning >= 20) {
      hsock.send(hostile(r).subarray(0, 65000), port, '127.0.0.1');
      c.hostileUdp++;
      sent++;
    } else {
      hostileTcpRunning++;
      void hostileTcp().then(() => hostileTcpRunning--);
      sent += 3;
    }
    if (sent % 64 === 0) {
      expire();
      await new Promise((res) => setImmediate(res));
    }
    if (Date.now() - lastSay > 20000) {
      lastSay = Date.now();
      opts.say(
        `  ${sent} messages, ${c.answered} answered, ${c.unanswered} unanswered, ${c.malformed} malformed`,
      );
    }
  }
  clearInterval(heartbeat);
  loopDelay.disable();
  // The last answers (an upstream timeout takes up to 2 x 400 ms).
  for (let i = 0; i < 60 && pending.size + tcpPending.size > 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    expire();
  }
  await new Promise((res) => setTimeout(res, DEADLINE_MS + 100));
  expire();
  while (hostileTcpRunning > 0) await new Promise((res) => setTimeout(res, 50));
  // Still alive and answering correctly over both transports.
  const stillUdp = await new Promise<boolean>((resolve) => {
    const id = 4242;
    const name = 'ok-17.soak.test';
    pending.set(id, { id, name, type: 'AAAA', behaviour: 'ok', sent: Date.now(), lastSent: Date.now() });
    const before = c.synthesized;
    sock.send(query(id, name, 'AAAA'), port, '127.0.0.1');
    setTimeout(() => resolve(c.synthesized > before), 3000);
  });
  sock.close();
  hsock.close();
  tcpDone = true;
  tcp.destroy();
  const stubDone = await stub.stop();
  const upstreamDone = await upstream.stop();
  const stats = stubDone?.stats;
  process.off('uncaughtException', onException);
  process.off('unhandledRejection', onException);
  latencies.sort((a, b) => a - b);
  const rcvbufDrops = udpRcvbufErrors() - rcvbufAtStart;
  const loopMaxMs = Math.round(loopDelay.max / 1e6);
  const loopP99Ms = Math.round(loopDelay.percentile(99) / 1e6);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  for (const p of problems.slice(0, 8)) opts.say(`  problem: ${p}`);
  const ok =
    !stoppedEarly &&
    exceptions === 0 &&
    c.unanswered === 0 &&
    c.late === 0 &&
    c.malformed === 0 &&
    c.wrongAnswers === 0 &&
    stillUdp;
  const total = c.validUdp + c.validTcp + c.hostileUdp + c.hostileTcp;
  return {
    stage: 'dns',
    ok,
    summary: `${stoppedEarly ? `STOPPED EARLY at ${total}/${opts.messages}: ` : ''}${total} messages (${c.validUdp} + ${c.validTcp} well-formed over UDP + TCP, ${c.hostileUdp} + ${c.hostileTcp} hostile); ${c.answered} answered (p99 ${p99} ms, max ${c.maxMs} ms; this thread's event-loop delay p99 ${loopP99Ms} ms, max ${loopMaxMs} ms; ${stats?.servfailAtDeadline ?? '?'} SERVFAIL at the stub's deadline), ${c.synthesized} synthesized AAAA checked, ${c.unanswered} unanswered (${c.udpRetransmitted} UDP queries sent again after ${RETRANSMIT_MS / 1000} s, kernel UDP receive-buffer drops on this machine meanwhile: ${rcvbufDrops}), ${c.late} answered later than 5 s, ${c.malformed} malformed replies, ${c.wrongAnswers} wrong, ${exceptions} exceptions; stub ${stillUdp ? 'still answers' : 'NO LONGER ANSWERS'}`,
    ms: Date.now() - t0,
    data: {
      ...c,
      total,
      target: opts.messages,
      stoppedEarly,
      exceptions,
      p99Ms: p99,
      slowest,
      eventLoopDelay: { p99Ms: loopP99Ms, maxMs: loopMaxMs },
      stillAnswers: stillUdp,
      upstreamAnswered: upstreamDone?.answered,
      tcpResent,
      udpRcvbufErrors: rcvbufDrops,
      stub: stats ? { ...stats, upstream: stats.upstream } : 'the stub thread died',
      problems,
    },
  };
}
