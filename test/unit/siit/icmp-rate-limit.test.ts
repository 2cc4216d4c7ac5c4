// The ICMP errors the translator generates itself are rate limited with a token bucket
// (RFC 7915 §4.4 / §5.4 SHOULD, RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)): a traceroute flood or a
// scan of a closed range must not turn the CLAT into an ICMP amplifier towards the host or the
// network. Limited errors still drop their packet (counted under its own reason) and are
// counted as icmp-rate-limited. The clock is injected, so nothing here depends on timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../../src-main/engine/siit/translator.js';
import { parseTranslatorConfig, ConfigError } from '../../../src-main/engine/siit/config.js';
import { finish, sum16 } from '../../../src-main/engine/siit/checksum.js';
import { run } from './helpers.js';

const CLAT = {
  pool6: '2001:db8:64::/96',
  eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
  icmpSourceV4: '192.0.0.2',
  icmpSourceV6: '2001:db8:1:2::1',
};

/** IPv4 UDP 192.0.0.1 -> 198.51.100.7 with the given TTL (TTL 1 expires at the translator). */
function udp4(ttl: number): Uint8Array {
  const p = new Uint8Array(28 + 4);
  p.set([0x45, 0, 0, p.length, 0, 1, 0, 0, ttl, 17, 0, 0, 192, 0, 0, 1, 198, 51, 100, 7]);
  p.set([0x30, 0x39, 0, 53, 0, 12, 0x12, 0x34], 20);
  const c = finish(sum16(p, 0, 20, 0));
  p[10] = c >> 8;
  p[11] = c & 255;
  return p;
}

/** IPv6 UDP from 2001:db8:64::c633:6407 to the CLAT address with the given hop limit. */
function udp6(hlim: number): Uint8Array {
  const p = new Uint8Array(40 + 8 + 4);
  p.set([0x60, 0, 0, 0, 0, 12, 17, hlim]);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 198, 51, 100, 7], 8);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0xc1, 0xa7], 24);
  p.set([0, 53, 0x30, 0x39, 0, 12, 0x12, 0x34], 40);
  return p;
}

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
