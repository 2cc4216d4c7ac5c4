// The soak's traffic stage checks the engine's counters against each other (test/soak/
// counters.ts): packets read from the TUN = translated both ways + the translator's drops. The
// counters here come from a real Translator, laid out as the daemon's status lays them out
// (datapath.ts: packetsIn, translated46/64, drop.<reason>; engine.ts adds the inbound filter's
// kernel counter as drop.inbound-unsolicited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../src-main/engine/siit/translator.js';
import { checkCounters } from '../soak/counters.js';
import { CLAT, run, udp4, udp6 } from './siit/helpers.js';

/** Runs the packets through one translator; the status counters of a data path that read them. */
function countersAfter(t: Translator, packets: Uint8Array[]): Record<string, number> {
  for (const p of packets) run(t, p);
  const s = t.counters.snapshot();
  const c: Record<string, number> = {
    packetsIn: packets.length,
    translated46: s.translated46,
    translated64: s.translated64,
  };
  for (const [k, v] of Object.entries(s.drops)) c[`drop.${k}`] = v;
  return c;
}

function traffic(): Uint8Array[] {
  return [
    ...Array.from({ length: 3 }, () => udp4(64)),
    ...Array.from({ length: 2 }, () => udp6(64)),
    ...Array.from({ length: 20 }, () => udp4(1)), // TTL expired: dropped, answered with ICMP
  ];
}

test('an IPv6 packet translated and then dropped by the inbound filter is counted once', () => {
  const c = countersAfter(new Translator(CLAT), traffic());
  assert.equal(c.translated64, 2);
  // The kernel's nftables counter: one of the two translated IPv6 packets was unsolicited. The
  // full run's "1212931 packets in, 1212932 translated + dropped" was exactly this.
  c['drop.inbound-unsolicited'] = 1;
  const r = checkCounters(c);
  assert.equal(r.consistent, true, String(r.verdict));
  assert.equal(r.accounted, 25);
});

test('ICMP errors withheld by the rate limit do not count their packet twice', () => {
  const t = new Translator({ ...CLAT, icmpErrorRate: 10, icmpErrorBurst: 5 });
  t.now = () => 1000;
  const c = countersAfter(t, traffic());
  assert.equal(c['drop.icmp-rate-limited'], 15, 'the limit withheld errors');
  assert.equal(c['drop.ttl-expired'], 20);
  const r = checkCounters(c);
  assert.equal(r.consistent, true, String(r.verdict));
});

test('a packet read but neither translated nor dropped is found', () => {
  const c = countersAfter(new Translator(CLAT), traffic());
  c.packetsIn++;
  const r = checkCounters(c);
  assert.equal(r.consistent, false);
  assert.match(String(r.verdict), /INCONSISTENT: 26 packets in, 25 translated/);
});
