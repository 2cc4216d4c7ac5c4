// "Zero allocations per packet in steady state": after warm-up, a million translations of each
// kind must not trigger a single young-generation garbage collection (V8 --trace-gc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadVectors, repoRoot } from './helpers.js';

const KINDS = [
  'udp, TOS', // IPv4 -> IPv6 in place
  'tcp', // IPv4 -> IPv6 in place
  'echo request', // ICMPv4 -> ICMPv6
  'DF clear and bigger', // IPv6 fragments
  'TTL 1', // generated ICMPv4 error
  'dest unreachable code 3', // translated ICMPv4 error with inner packet
  'ICMPv6 dest unreachable code 4', // translated ICMPv6 error with inner packet
  'hairpin', // RFC 7757 hairpinning
];

test('the translator allocates nothing per packet once warmed up', () => {
  const vectors = loadVectors();
  const cases = KINDS.map((k) => {
    const v = vectors.find((x) => x.name.startsWith(k));
    assert.ok(v, k);
    // The ICMP error rate limiter reads the clock once per generated error (a boxed double, by
    // design: errors are not the steady state and are limited anyway); off here, so what is
    // measured is building the error itself, not the limiter dropping it.
    return { name: v.name, config: { ...v.config, icmpErrorRate: 0 }, input: v.input };
  });
  const mod = pathToFileURL(`${repoRoot}build/src-main/engine/siit/translator.js`).href;
  const script = `
    const { Translator, HEADROOM } = await import(${JSON.stringify(mod)});
    const cases = ${JSON.stringify(cases)};
    for (const c of cases) {
      const t = new Translator(c.config, () => {});
      const p = Uint8Array.from(Buffer.from(c.input, 'hex'));
      const buf = new Uint8Array(HEADROOM + p.length);
      for (let i = 0; i < 300000; i++) { buf.set(p, HEADROOM); t.translate(buf, HEADROOM, p.length); }
      console.log('--- start ' + c.name);
      for (let i = 0; i < 1000000; i++) { buf.set(p, HEADROOM); t.translate(buf, HEADROOM, p.length); }
      console.log('--- end');
    }`;
  const r = spawnSync(process.execPath, ['--trace-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  let current = '';
  const gcs: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('--- start ')) current = line.slice(10);
    else if (line.startsWith('--- end')) current = '';
    else if (current && /Scavenge|Mark-Compact|Mark-sweep/i.test(line))
      gcs[current] = (gcs[current] ?? 0) + 1;
  }
  assert.deepEqual(gcs, {}, 'garbage collections while translating (name: count)');
});
