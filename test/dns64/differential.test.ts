// Differential test: our DNS64 and unbound's own dns64 module, both in front of the same
// upstream, on names where RFC 6147 leaves no room for choice. Anything that differs is shown.
//
// Left out on purpose, because the RFC leaves room there: the ::ffff:0:0/96 exclusion (a SHOULD,
// §5.1.4, which unbound 1.17 does not do), TTLs of synthesized records (a SHOULD, §5.1.7, and
// unbound's cache ages them), PTR (§5.3.1 allows two designs), and ipv4only.arpa (RFC 8880
// answers it locally, unbound asks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../helpers/env.js';
import { Dns64Server } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { ask, startUnbound, type Reply, type Unbound } from './helpers.js';

const PREFIX = '2001:db8:64::/96';
let upstream: Unbound | null = null;
let theirs: Unbound | null = null;
let ours: Dns64Server | null = null;

before(async () => {
  try {
    upstream = await startUnbound();
    theirs = await startUnbound({
      zones: false,
      refuseRoot: false,
      extra: [
        'module-config: "dns64 iterator"',
        `dns64-prefix: ${PREFIX}`,
        'local-zone: "dns64.example." nodefault',
      ],
      tail: `forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@${upstream.port}\n`,
    });
    ours = new Dns64Server({
      listen: [{ address: '127.0.0.1', port: 0 }],
      upstreams: [{ address: '127.0.0.1', port: upstream.port }],
      prefix: parsePref64(PREFIX),
    });
    await ours.start();
  } catch {
    // The test below reports the missing binary (or fails in CI).
  }
});

after(async () => {
  await ours?.stop();
  await theirs?.stop();
  await upstream?.stop();
});

/** What must agree: RCODE, and the answer records (owner, type, data) in order. */
function shape(r: Reply): { rcode: string | undefined; answer: string[]; authorityTypes: string[] } {
  return {
    rcode: r.msg.rcode,
    answer: (r.msg.answers ?? []).map(
      (a) => `${a.name.toLowerCase()} ${a.type} ${JSON.stringify((a as { data?: unknown }).data)}`,
    ),
    authorityTypes: (r.msg.authorities ?? []).map((a) => a.type),
  };
}

const CASES: Array<[string, string, { tcp?: boolean }?]> = [
  ['a-only.dns64.example', 'AAAA'],
  ['a-short.dns64.example', 'AAAA'],
  ['aaaa-only.dns64.example', 'AAAA'],
  ['mixed.dns64.example', 'AAAA'],
  ['cname.dns64.example', 'AAAA'],
  ['cname2.dns64.example', 'AAAA'],
  ['rfc6052.dns64.example', 'AAAA'],
  ['nothere.dns64.example', 'AAAA'],
  ['nodata.dns64.example', 'AAAA'],
  ['big.dns64.example', 'AAAA', { tcp: true }],
  ['a-only.dns64.example', 'A'],
  ['cname.dns64.example', 'A'],
  ['nodata.dns64.example', 'TXT'],
  ['mixed.dns64.example', 'MX'],
];

test('same answers as unbound dns64 where RFC 6147 leaves no choice', async (t) => {
  if (!requires(t, { binaries: ['unbound'] })) return;
  assert.ok(upstream && theirs && ours, 'both resolvers started');
  const port = ours.boundAddresses()[0].port;
  const differences: string[] = [];
  for (const [name, type, o] of CASES) {
    for (const edns of [undefined, 1232]) {
      const a = shape(await ask({ port }, name, type, { ...o, edns }));
      const b = shape(await ask(theirs, name, type, { ...o, edns }));
      try {
        assert.deepEqual(a, b);
      } catch {
        differences.push(
          `${name} ${type}${edns ? ' +edns' : ''}:\n  clatbar ${JSON.stringify(a)}\n  unbound ${JSON.stringify(b)}`,
        );
      }
    }
  }
  assert.deepEqual(differences, []);
  assert.ok(ours.stats.synthesized >= 5, 'the comparison covered synthesized answers');
});
