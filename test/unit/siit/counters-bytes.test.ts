// Bytes per direction: what went into the translator and came out translated, each way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { parseSnmp6 } from '../../../src-main/engine/system/link-stats.js';
import { hex, loadVectors, run } from './helpers.js';

test('bytes46/bytes64 add the length of each translated packet, not of drops or errors', () => {
  let translated = 0;
  for (const v of loadVectors()) {
    const t = new Translator(v.config);
    const pkt = hex(v.input);
    const r = run(t, pkt);
    const s = t.counters.snapshot();
    const v4 = pkt[0] >> 4 === 4;
    const want = r.verdict === 'translated' ? pkt.length : 0;
    assert.equal(s.bytes46, v4 ? want : 0, v.name);
    assert.equal(s.bytes64, v4 ? 0 : want, v.name);
    if (want) translated++;
    t.counters.reset();
    assert.equal(t.counters.bytes46 + t.counters.bytes64, 0);
  }
  assert.ok(translated > 10, `only ${translated} vectors translated`);
});

test('parseSnmp6 reads the kernel per-interface IPv6 MIB', () => {
  const m = parseSnmp6(
    'Ip6InReceives                   \t12\nIp6InOctets                     \t4096\nIp6OutOctets \t 512\nbogus line here\n',
  );
  assert.deepEqual(m, { Ip6InReceives: 12, Ip6InOctets: 4096, Ip6OutOctets: 512 });
});
