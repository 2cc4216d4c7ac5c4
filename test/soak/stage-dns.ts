// Stage 2, DNS fuzzing: the real DNS64 stub (engine/dns64/server.ts, in this process) between
// hostile clients and a hostile upstream (hostile-upstream.ts). Well-formed queries go over UDP
// and TCP, each naming an upstream behaviour; hostile messages (random bytes, mutated queries,
// compression loops, lying counts and lengths, oversize) go on other sockets. Verdict: no
// exception anywhere; every well-formed query answered within 5 s with its ID and question
// (RFC 1035 §4.1.1), and where the upstream behaved, with the AAAA synthesized from its A record
// (RFC 6147 §5.1.7); every reply to anything a well-formed DNS message; the stub still answers at
// the end.
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { Dns64Server } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { BEHAVIOURS, startHostileUpstream, tcpFrames, type HostileUpstream } from './hostile-upstream.js';
import { Prng } from './inet.js';
import type { StageResult } from './report.js';

const DEADLINE_MS = 5000;
const WINDOW = 400;

interface Pending {
  id: number;
  name: string;
  type: 'A' | 'AAAA';
  behaviour: string;
  sent: number;
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
  let upstream: HostileUpstream | null = null;
  for (let i = 0; i < 20 && !upstream; i++)
    upstream = await startHostileUpstream(opts.seed).catch(() => null);
  if (!upstream)
    throw new Error('could not bind the hostile upstream to a port free for UDP and TCP on 127.0.0.1');
  const server = new Dns64Server({
    listen: [{ address: '127.0.0.1', port: 0 }],
    upstreams: [{ address: '127.0.0.1', port: upstream.port }],
    prefix: parsePref64('2001:db8:64::/96'),
    timeoutMs: 400,
    attempts: 2,
    tcpIdleMs: 1000,
    cache: { maxEntries: 1000 },
    warn: () => {},
    log: () => {},
  });
  await server.start();
  const port = server.boundAddresses()[0].port;
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
    maxMs: 0,
  };
  const latencies: number[] = [];

  // Well-formed queries over UDP, matched by ID.
  const pending = new Map<number, Pending>();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  sock.setRecvBufferSize(8 << 20);
  const settle = (m: Buffer, p: Pending) => {
    const ms = Date.now() - p.sent;
    latencies.push(ms);
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
    settle(m, p);
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

  // Well-formed queries over TCP: a few long-lived connections, pipelined.
  const tcpPending = new Map<number, Pending>();
  const tcpConn = () => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on(
      'data',
      tcpFrames((m) => {
        const p = m.length >= 2 ? tcpPending.get(m.readUInt16BE(0)) : undefined;
        if (p) {
          tcpPending.delete(p.id);
          settle(m, p);
        }
      }),
    );
    s.on('error', () => {});
    return s;
  };
  let tcp = tcpConn();
  const frame = (m: Buffer) => {
    const l = Buffer.alloc(2);
    l.writeUInt16BE(m.length);
    return Buffer.concat([l, m]);
  };

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
      opts.say(
        `  no progress: ${sent} sent, ${pending.size} + ${tcpPending.size} in flight, stub ${JSON.stringify({ q: server.stats.queries, drop: server.stats.dropped, servfail: server.stats.servfail })}`,
      );
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
    pending.set(id, { id, name, type: 'AAAA', behaviour: 'ok', sent: Date.now() });
    const before = c.synthesized;
    sock.send(query(id, name, 'AAAA'), port, '127.0.0.1');
    setTimeout(() => resolve(c.synthesized > before), 3000);
  });
  sock.close();
  hsock.close();
  tcp.destroy();
  const stats = server.stats;
  await server.stop();
  await upstream.stop();
  process.off('uncaughtException', onException);
  process.off('unhandledRejection', onException);
  latencies.sort((a, b) => a - b);
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
    summary: `${stoppedEarly ? `STOPPED EARLY at ${total}/${opts.messages}: ` : ''}${total} messages (${c.validUdp} + ${c.validTcp} well-formed over UDP + TCP, ${c.hostileUdp} + ${c.hostileTcp} hostile); ${c.answered} answered (p99 ${p99} ms, max ${c.maxMs} ms), ${c.synthesized} synthesized AAAA checked, ${c.unanswered} unanswered, ${c.late} answered later than 5 s, ${c.malformed} malformed replies, ${c.wrongAnswers} wrong, ${exceptions} exceptions; stub ${stillUdp ? 'still answers' : 'NO LONGER ANSWERS'}`,
    ms: Date.now() - t0,
    data: {
      ...c,
      total,
      target: opts.messages,
      stoppedEarly,
      exceptions,
      p99Ms: p99,
      stillAnswers: stillUdp,
      upstreamAnswered: upstream.answered,
      stub: { ...stats, upstream: stats.upstream },
      problems,
    },
  };
}
