// The ICMP errors the translator generates itself are rate limited with a token bucket
// (RFC 7915 §4.4 / §5.4 SHOULD, RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)): a traceroute flood or a
// scan of a closed range must not turn the CLAT into an ICMP amplifier towards the host or the
// network. Limited errors still drop their packet (counted under its own reason) and are
// counted as icmp-rate-limited. The clock is injected, so nothing here depends on timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { parseTranslatorConfig, ConfigError } from '../../../src-main/engine/siit/config.js';
import { CLAT, run, udp4, udp6 } from './helpers.js';

function clocked(extra: Record<string, unknown> = {}): { t: Translator; at: { ms: number } } {
  const t = new Translator({ ...CLAT, ...extra });
  const at = { ms: 1000 };
  t.now = () => at.ms;
  return { t, at };
}

test('RFC 4443 §2.4(f): a burst of TTL-expired packets gets at most icmpErrorBurst errors at once', () => {
  const { t } = clocked({ icmpErrorRate: 10, icmpErrorBurst: 5 });
  const verdicts = Array.from({ length: 20 }, () => run(t, udp4(1)));
  assert.equal(verdicts.filter((r) => r.verdict === 'icmp-error').length, 5);
  for (const r of verdicts.slice(5)) {
    assert.equal(r.verdict, 'dropped');
    assert.equal(r.reason, 'ttl-expired', 'the packet keeps its own reason');
    assert.equal(r.out.length, 0);
  }
  const s = t.counters.snapshot();
  assert.equal(s.icmpErrorsSent, 5);
  assert.equal(s.drops['ttl-expired'], 20);
  assert.equal(s.drops['icmp-rate-limited'], 15);
});

test('RFC 1812 §4.3.2.8: the bucket refills at icmpErrorRate per second, never above the burst', () => {
  const { t, at } = clocked({ icmpErrorRate: 10, icmpErrorBurst: 5 });
  for (let i = 0; i < 5; i++) assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp4(1)).verdict, 'dropped');
  at.ms += 100; // one token at 10/s
  assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp4(1)).verdict, 'dropped');
  at.ms += 60_000; // a long quiet spell: the bucket holds the burst, not 600 tokens
  const sent = Array.from({ length: 20 }, () => run(t, udp4(1))).filter((r) => r.verdict === 'icmp-error');
  assert.equal(sent.length, 5);
});

test('one bucket for both families: ICMPv6 errors share it with ICMPv4 errors', () => {
  const { t } = clocked({ icmpErrorRate: 1, icmpErrorBurst: 3 });
  assert.equal(run(t, udp6(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp6(1)).verdict, 'icmp-error');
  const r = run(t, udp6(1));
  assert.equal(r.verdict, 'dropped');
  assert.equal(r.reason, 'ttl-expired');
  assert.equal(t.counters.snapshot().drops['icmp-rate-limited'], 1);
});

test('icmpErrorRate 0 turns the limit off; translations never take tokens', () => {
  const { t } = clocked({ icmpErrorRate: 0, icmpErrorBurst: 1 });
  for (let i = 0; i < 200; i++) assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  const { t: t2 } = clocked({ icmpErrorRate: 1, icmpErrorBurst: 1 });
  for (let i = 0; i < 50; i++) assert.equal(run(t2, udp4(64)).verdict, 'translated');
  assert.equal(run(t2, udp4(1)).verdict, 'icmp-error');
  assert.equal(t2.counters.snapshot().drops['icmp-rate-limited'], undefined);
});

test('a clock that goes backwards refills nothing and does not break the bucket', () => {
  const { t, at } = clocked({ icmpErrorRate: 1000, icmpErrorBurst: 2 });
  run(t, udp4(1));
  run(t, udp4(1));
  at.ms -= 5000;
  assert.equal(run(t, udp4(1)).verdict, 'dropped');
  at.ms += 2; // 2 ms at 1000/s from the new reading: two tokens
  assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp4(1)).verdict, 'icmp-error');
  assert.equal(run(t, udp4(1)).verdict, 'dropped');
});

test('defaults: 1000 errors/s, burst 50 (Linux icmp_msgs_per_sec / icmp_msgs_burst); bad values name the key', () => {
  const c = parseTranslatorConfig({});
  assert.equal(c.icmpErrorRate, 1000);
  assert.equal(c.icmpErrorBurst, 50);
  const { t } = clocked();
  const sent = Array.from({ length: 80 }, () => run(t, udp4(1))).filter((r) => r.verdict === 'icmp-error');
  assert.equal(sent.length, 50);
  assert.throws(
    () => parseTranslatorConfig({ icmpErrorRate: -1 }),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^icmpErrorRate: /);
      return true;
    },
  );
  assert.throws(() => parseTranslatorConfig({ icmpErrorBurst: 0 }), /icmpErrorBurst: /);
});
