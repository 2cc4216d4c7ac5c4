// The stub's UDP listeners on the native batched sockets (src-main/engine/native/batch-socket.ts):
// a burst of queries from several clients over IPv4 and IPv6 is read in batches, and every reply
// (cache hits answered inside the batch, misses answered later) reaches the client that asked,
// with its ID and its spelling of the name, byte for byte what the node:dgram listener sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import packet from 'dns-packet';
import { inCI, requires } from '../helpers/env.js';
import type { Dns64Server } from '../../src-main/engine/dns64/server.js';
import { batchUdpUnavailable } from '../../src-main/engine/native/batch-socket.js';
import { unboundPerFile } from './per-file-unbound.js';

const upstream = unboundPerFile();

function start(udpBatch: boolean): Promise<Dns64Server> {
  return upstream.dns64({
    listen: [
      { address: '127.0.0.1', port: 0 },
      { address: '::1', port: 0 },
    ],
    udpBatch,
  });
}

const NAMES = [
  ['a-only.dns64.example', 'AAAA'],
  ['mixed.dns64.example', 'AAAA'],
  ['cname.dns64.example', 'AAAA'],
  ['nodata.dns64.example', 'AAAA'],
  ['a-only.dns64.example', 'A'],
] as const;

/** 0x20-style mixed case, different per query, so each reply must carry its own question. */
function spell(name: string, seed: number): string {
  return [...name].map((ch, i) => ((seed >> (i % 16)) & 1 ? ch.toUpperCase() : ch)).join('');
}

interface Sent {
  id: number;
  name: string;
  type: string;
}

/**
 * Every client sends `per` queries at once (all in the kernel before the server's loop turns),
 * then waits for as many replies; returns what each client sent and got.
 */
async function burst(
  address: string,
  port: number,
  clients: number,
  per: number,
  edns: boolean,
): Promise<Array<{ sent: Sent[]; got: Buffer[] }>> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const socks = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const s = dgram.createSocket(type);
          s.bind(0, address, () => resolve(s));
        }),
    ),
  );
  try {
    const runs = socks.map((s, k) => {
      const sent: Sent[] = [];
      const got: Buffer[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`client ${k}: ${got.length}/${per} replies`)), 5000);
        s.on('message', (m) => {
          got.push(m);
          if (got.length === per) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      for (let i = 0; i < per; i++) {
        const [n, t] = NAMES[(i + k) % NAMES.length];
        const q: Sent = { id: (k * 1000 + i) & 0xffff, name: spell(n, k * 7919 + i * 31), type: t };
        sent.push(q);
        s.send(
          packet.encode({
            type: 'query',
            id: q.id,
            flags: packet.RECURSION_DESIRED,
            questions: [{ name: q.name, type: q.type as packet.RecordType, class: 'IN' }],
            additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as packet.Answer] : [],
          }),
          port,
          address,
        );
      }
      return done.then(() => ({ sent, got }));
    });
    return await Promise.all(runs);
  } finally {
    for (const s of socks) s.close();
  }
}

/** A reply with its ID zeroed, keyed by ID: what must match between the two listeners. */
function check(runs: Array<{ sent: Sent[]; got: Buffer[] }>): Map<string, Buffer> {
  const byQuestion = new Map<string, Buffer>();
  for (const { sent, got } of runs) {
    const ids = new Map(sent.map((q) => [q.id, q]));
    assert.equal(got.length, sent.length);
    for (const wire of got) {
      const msg = packet.decode(wire);
      const q = ids.get(msg.id ?? -1);
      assert.ok(q, `reply ${msg.id} is for a query this client sent`);
      ids.delete(q.id);
      // The client's own spelling comes back (RFC 4343 / 0x20), not another client's.
      assert.equal(msg.questions?.[0].name, q.name);
      assert.equal(msg.questions?.[0].type, q.type);
      const norm = Buffer.from(wire);
      norm.writeUInt16BE(0, 0);
      byQuestion.set(`${q.name} ${q.type}`, norm);
    }
    assert.equal(ids.size, 0, 'every query answered once');
  }
  return byQuestion;
}

for (const edns of [false, true]) {
  test(`bursts over IPv4 and IPv6 are read in batches and every reply reaches its client (${edns ? 'EDNS' : 'no EDNS'})`, async (t) => {
    if (!requires(t, { binaries: ['unbound'] })) return;
    const why = batchUdpUnavailable();
    if (why) {
      if (inCI) throw new Error(why);
      t.skip(why);
      return;
    }
    const batched = await start(true);
    const plain = await start(false);
    for (const [i, address] of ['127.0.0.1', '::1'].entries()) {
      // First burst: cold cache, so misses (answered after resolution) and, once the first
      // answers are cached, hits; second burst: all hits, answered inside their batch.
      const cold = check(await burst(address, batched.boundAddresses()[i].port, 4, 60, edns));
      const warm = check(await burst(address, batched.boundAddresses()[i].port, 4, 60, edns));
      const ref = check(await burst(address, plain.boundAddresses()[i].port, 4, 60, edns));
      for (const [k, wire] of ref) {
        // TTLs may have aged by a second between the listeners; compare all else.
        const strip = (b: Buffer | undefined): unknown => {
          const m = packet.decode(b as Buffer);
          return JSON.stringify({
            ...m,
            answers: m.answers?.map((a) => ({ ...a, ttl: 0 })),
            authorities: m.authorities?.map((a) => ({ ...a, ttl: 0 })),
          });
        };
        if (warm.has(k)) assert.equal(strip(warm.get(k)), strip(wire), k);
        if (cold.has(k)) assert.equal(strip(cold.get(k)), strip(wire), k);
      }
    }
    const st = batched.stats;
    assert.equal(st.udpQueries, 2 * 2 * 4 * 60);
    assert.ok(st.udpMaxBatch > 1, `batches carried several queries (largest ${st.udpMaxBatch})`);
    assert.ok(st.udpBatches < st.udpQueries);
    assert.ok(st.cacheHits > 0);
    assert.equal(plain.stats.udpBatches, 0);
  });
}
