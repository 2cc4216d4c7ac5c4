// A NAT64 prefix change (discovery saw a new PREF64) while a synthesis is half done: the AAAA
// query has come back empty and the A query is still out. The answer must carry the prefix in
// force when it is built, not the one in force when the query arrived, and must not be cached.
// The upstream here is a scripted UDP responder rather than unbound, because the test has to
// hold the A reply back until the prefix has changed; unbound cannot be told to wait on cue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import packet from 'dns-packet';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { ask, startStub } from './helpers.js';

interface Held {
  release(): void;
}

/** Answers AAAA with NODATA at once and A with 192.0.2.7, but only when released. */
async function scriptedUpstream(): Promise<{ port: number; aAsked: Promise<Held>; close(): void }> {
  const s = dgram.createSocket('udp4');
  let onA: (h: Held) => void = () => {};
  const aAsked = new Promise<Held>((r) => (onA = r));
  s.on('message', (m, rinfo) => {
    const q = packet.decode(m);
    const question = q.questions?.[0];
    if (!question) return;
    const reply = (answers: packet.Answer[]) =>
      s.send(
        packet.encode({
          type: 'response',
          id: q.id,
          flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
          questions: q.questions,
          answers,
        }),
        rinfo.port,
        rinfo.address,
      );
    if (question.type === 'A')
      onA({
        release: () => reply([{ name: question.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.7' }]),
      });
    else reply([]);
  });
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  return { port, aAsked, close: () => s.close() };
}

test('RFC 6147 §5.1.7/§5.1.8: a prefix change during a synthesis is honoured and the answer is not cached', async (t) => {
  const up = await scriptedUpstream();
  t.after(() => up.close());
  const { server, port } = await startStub(t, up.port);

  const answer = ask({ port }, 'v4only.example', 'AAAA');
  const held = await up.aAsked;
  server.setPrefix(parsePref64('2001:db8:65::/96'));
  held.release();
  const r = await answer;
  assert.deepEqual(
    (r.msg.answers ?? []).map((a) => ('data' in a ? a.data : null)),
    ['2001:db8:65::c000:207'],
    'synthesized with the new prefix',
  );
  assert.equal(server.stats.cacheEntries, 0, 'an answer begun under the old prefix is not cached');
});
