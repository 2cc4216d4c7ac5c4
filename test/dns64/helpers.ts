// Shared pieces of the DNS64 tests: a real unbound serving the zones in
// test/fixtures/dns64/zone.conf on 127.0.0.1, a little authoritative server that fails on
// purpose, a silent "resolver", and a DNS client that shows exactly what came back.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import type { TestContext } from 'node:test';
import { Dns64Server, type Dns64Options } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';

const root = new URL('../../../', import.meta.url).pathname;
export const ZONE_CONF = readFileSync(join(root, 'test/fixtures/dns64/zone.conf'), 'utf8');

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
    const ok = await new Promise<boolean>((r) => {
      const t = net.createServer();
      t.once('error', () => r(false));
      t.listen(port, '127.0.0.1', () => t.close(() => r(true)));
    });
    s.close();
    if (ok) return port;
  }
}

export interface Unbound {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface UnboundOptions {
  extra?: string[];
  tail?: string;
  zones?: boolean;
  refuseRoot?: boolean;
}

/** unbound.conf text for our test resolver listening on address@port with its files in dir. */
export function unboundConf(dir: string, address: string, port: number, opts: UnboundOptions = {}): string {
  return [
    'server:',
    `  interface: ${address}@${port}`,
    `  port: ${port}`,
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  pidfile: ""',
    `  directory: "${dir}"`,
    '  num-threads: 1',
    '  do-ip6: no',
    '  do-not-query-localhost: no',
    '  access-control: 0.0.0.0/0 allow',
    '  verbosity: 0',
    // Answers keep the zone's order, so tests can check that order is kept.
    '  rrset-roundrobin: no',
    ...(opts.refuseRoot === false ? [] : ['  local-zone: "." refuse']),
    ...(opts.zones === false ? [] : ZONE_CONF.split('\n').map((l) => `  ${l}`)),
    ...(opts.extra ?? []).map((l) => `  ${l}`),
    opts.tail ?? '',
  ].join('\n');
}

/**
 * Starts unbound on 127.0.0.1 with our zones. "." is refused so nothing ever leaves the machine;
 * `extra` lines go in the server: clause, `tail` after it (stub-zone, forward-zone, ...).
 */
export async function startUnbound(opts: UnboundOptions = {}): Promise<Unbound> {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-unbound-'));
  const port = await freePort();
  const conf = unboundConf(dir, '127.0.0.1', port, opts);
  writeFileSync(join(dir, 'unbound.conf'), `${conf}\n`);
  const child: ChildProcess = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const r = await ask({ port }, 'dns64.example', 'SOA', { timeoutMs: 100 }).catch(() => null);
    if (r) return { port, pid: child.pid ?? 0, stop };
    await new Promise((res) => setTimeout(res, 50));
  }
  await stop();
  throw new Error(`unbound did not start: ${stderr}`);
}

export interface Reply {
  wire: Buffer;
  msg: packet.Packet & {
    rcode?: string;
    flag_tc?: boolean;
    flag_ad?: boolean;
    flag_cd?: boolean;
    flag_aa?: boolean;
  };
}

export interface AskOptions {
  tcp?: boolean;
  /** Adds an OPT with this UDP size (RFC 6891); none when undefined. */
  edns?: number;
  dnssecOk?: boolean;
  cd?: boolean;
  timeoutMs?: number;
  id?: number;
  cls?: string;
}

/** Sends one query and returns the raw reply and its dns-packet decoding. */
export async function ask(
  server: { port: number; address?: string },
  name: string,
  type: string,
  o: AskOptions = {},
): Promise<Reply> {
  const id = o.id ?? Math.floor(Math.random() * 65536);
  const q = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED | (o.cd ? packet.CHECKING_DISABLED : 0),
    questions: [{ name, type: type as packet.RecordType, class: (o.cls ?? 'IN') as packet.RecordClass }],
    additionals:
      o.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: o.edns,
              flags: o.dnssecOk ? packet.DNSSEC_OK : 0,
            } as packet.Answer,
          ],
  });
  const wire = await rawExchange(server, q, o.tcp ?? false, o.timeoutMs ?? 5000);
  const msg = packet.decode(wire) as Reply['msg'];
  if (msg.id !== id) throw new Error(`reply id ${msg.id} != ${id}`);
  return { wire, msg };
}

/** Sends raw bytes, returns the first reply (UDP datagram or TCP frame). */
export function rawExchange(
  server: { port: number; address?: string },
  q: Buffer,
  tcp: boolean,
  timeoutMs: number,
): Promise<Buffer> {
  const address = server.address ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    if (!tcp) {
      const s = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
      const t = setTimeout(() => {
        s.close();
        reject(new Error('timeout'));
      }, timeoutMs);
      s.on('message', (m) => {
        clearTimeout(t);
        s.close();
        resolve(m);
      });
      s.send(q, server.port, address);
      return;
    }
    const s = net.connect({ host: address, port: server.port });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      s.write(Buffer.concat([len, q]));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/** A UDP "resolver" that reads queries and never answers (the §5.1.3 timeout case). */
export async function silentResolver(): Promise<{ port: number; received: () => number; close(): void }> {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', () => n++);
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  return { port, received: () => n, close: () => s.close() };
}

/**
 * A tiny authoritative server for broken.dns64.example, delegated to from unbound with a
 * stub-zone: names under aaaa-fails. answer A (192.0.2.7) but SERVFAIL for AAAA; every other
 * question gets SERVFAIL. So unbound returns SERVFAIL exactly where we want one.
 */
export async function failingAuthority(): Promise<{ port: number; close(): void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => {
    let q: packet.Packet;
    try {
      q = packet.decode(m);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    const okA = name.startsWith('aaaa-fails.') && question.type === 'A';
    const isApex = name === 'broken.dns64.example' && (question.type === 'NS' || question.type === 'SOA');
    const reply = packet.encode({
      type: 'response',
      id: q.id,
      flags: packet.AUTHORITATIVE_ANSWER | (okA || isApex ? 0 : 2),
      questions: [question],
      answers: okA
        ? [{ type: 'A', name: question.name, ttl: 300, data: '192.0.2.7' }]
        : isApex && question.type === 'NS'
          ? [{ type: 'NS', name: question.name, ttl: 300, data: 'ns.broken.dns64.example' }]
          : [],
    });
    s.send(reply, r.port, r.address);
  });
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  return { port, close: () => s.close() };
}

/** Answer records as comparable plain data: [name, type, ttl, data]. */
export function records(
  msg: Reply['msg'],
  section: 'answers' | 'authorities' | 'additionals' = 'answers',
): Array<[string, string, number, string]> {
  return (msg[section] ?? [])
    .filter((r) => r.type !== 'OPT')
    .map((r) => {
      const rr = r as { name: string; type: string; ttl?: number; data?: unknown };
      const data = typeof rr.data === 'string' ? rr.data : JSON.stringify(rr.data);
      return [rr.name.toLowerCase(), rr.type, rr.ttl ?? 0, data];
    });
}

/**
 * Small deterministic PRNG (mulberry32), so a seed replays the same messages (fuzz.test.ts) or
 * mutations (fast-path.test.ts).
 */
export function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A DNS64 stub for 127.0.0.1 (a free port) that asks one upstream on 127.0.0.1, with the prefix
 * 2001:db8:64::/96 and `extra` options; not started.
 */
export function localStub(upstreamPort: number, extra: Partial<Dns64Options> = {}): Dns64Server {
  return new Dns64Server({
    listen: [{ address: '127.0.0.1', port: 0 }],
    upstreams: [{ address: '127.0.0.1', port: upstreamPort }],
    prefix: parsePref64('2001:db8:64::/96'),
    ...extra,
  });
}

/** localStub(), started, and stopped when the test ends. */
export async function startStub(
  t: TestContext,
  upstreamPort: number,
  extra: Partial<Dns64Options> = {},
): Promise<{ server: Dns64Server; port: number }> {
  const server = localStub(upstreamPort, extra);
  await server.start();
  t.after(() => server.stop());
  return { server, port: server.boundAddresses()[0].port };
}
