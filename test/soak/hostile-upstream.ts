// The DNS fuzz stage's upstream resolver, hostile on purpose (a fake: it stands for the
// network's resolver misbehaving, which no real resolver here does on demand). The first label
// of the question names what it does, so the client knows what to expect:
//   ok-N        A: 192.0.2.(N % 250 + 1); AAAA: no data (the stub synthesizes, RFC 6147 §5.1.6)
//   garbage-N   random bytes          short-N    a valid reply cut in the middle
//   tc-N        TC set over UDP (the stub retries over TCP, which then answers like ok)
//   wrongid-N   the reply under another ID      loop-N   an answer whose name points at itself
//   silent-N    never answers (a timeout)       servfail-N  SERVFAIL
//   huge-N      ~4000 A records over TCP, a truncated reply over UDP
// Anything else (a name the client mangled) gets a random one of the above.
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { Prng } from './inet.js';

export const BEHAVIOURS = [
  'ok',
  'garbage',
  'short',
  'tc',
  'wrongid',
  'loop',
  'silent',
  'servfail',
  'huge',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** A 'data' listener that cuts a DNS-over-TCP stream into messages (RFC 1035 §4.2.2 framing). */
export function tcpFrames(onMessage: (m: Buffer) => void): (d: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const m = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + m.length);
      onMessage(m);
    }
  };
}

export interface HostileUpstream {
  port: number;
  answered: number;
  stop(): Promise<void>;
}

function reply(q: Buffer, r: Prng, tcp: boolean): Buffer | null {
  let msg: packet.Packet;
  try {
    msg = packet.decode(q);
  } catch {
    return null;
  }
  const question = msg.questions?.[0];
  if (!question || msg.id === undefined) return null;
  const label = question.name.split('.')[0] ?? '';
  const [kind, num] = label.split('-');
  const behaviour: Behaviour = (BEHAVIOURS as readonly string[]).includes(kind)
    ? (kind as Behaviour)
    : r.pick(BEHAVIOURS);
  const n = Number(num) || 0;
  const base = {
    id: msg.id,
    type: 'response' as const,
    flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED,
    questions: [question],
  };
  const a = (i: number) => ({
    type: 'A' as const,
    name: question.name,
    ttl: 60,
    data: `192.0.2.${(i % 250) + 1}`,
  });
  const ok = () => packet.encode({ ...base, answers: question.type === 'A' ? [a(n)] : [] });
  switch (behaviour) {
    case 'ok':
      return ok();
    case 'garbage': {
      const b = Buffer.alloc(r.int(600));
      r.fill(b, 0, b.length);
      return b;
    }
    case 'short': {
      const full = ok();
      return full.subarray(0, r.int(full.length));
    }
    case 'tc':
      if (tcp) return ok();
      return packet.encode({ ...base, flags: base.flags | packet.TRUNCATED_RESPONSE, answers: [] });
    case 'wrongid':
      return packet.encode({
        ...base,
        id: (msg.id + 1 + r.int(1000)) & 0xffff,
        answers: question.type === 'A' ? [a(n)] : [],
      });
    case 'loop': {
      // One answer whose owner name is a compression pointer to itself.
      const head = packet.encode({ ...base, answers: [] });
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc000 | head.length, 0);
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(4, 10);
      rr.writeUInt32BE(0xc0000201, 12);
      const m = Buffer.concat([head, rr]);
      m.writeUInt16BE(1, 6); // ANCOUNT
      return m;
    }
    case 'silent':
      return null;
    case 'servfail':
      return packet.encode({ ...base, flags: base.flags | 2, answers: [] });
    case 'huge': {
      const answers = Array.from({ length: tcp ? 3500 : 300 }, (_, i) => a(i));
      const m = packet.encode({ ...base, answers: question.type === 'A' ? answers : [] });
      return tcp ? m.subarray(0, Math.min(m.length, 65535)) : m.subarray(0, Math.min(m.length, 4096));
    }
  }
}

export async function startHostileUpstream(seed: number): Promise<HostileUpstream> {
  const r = new Prng(seed);
  const udp = dgram.createSocket('udp4');
  const self: HostileUpstream = { port: 0, answered: 0, stop: async () => {} };
  udp.on('message', (q, rinfo) => {
    const m = reply(q, r, false);
    if (m) {
      self.answered++;
      udp.send(m, rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  self.port = udp.address().port;
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => s.destroy());
    s.on(
      'data',
      tcpFrames((q) => {
        const m = reply(q, r, true);
        if (!m) return;
        self.answered++;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(m.length);
        s.write(Buffer.concat([len, m]));
      }),
    );
  });
  await new Promise<void>((res, rej) => {
    tcp.once('error', rej);
    tcp.listen(self.port, '127.0.0.1', () => res());
  });
  self.stop = async () => {
    udp.close();
    for (const c of conns) c.destroy();
    await new Promise<void>((res) => tcp.close(() => res()));
  };
  return self;
}
