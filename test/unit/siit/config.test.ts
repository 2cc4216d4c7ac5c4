// The translator configuration schema: defaults, and errors that name the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseTranslatorConfig } from '../../../src-main/engine/siit/config.js';

test('defaults: Jool-like, no pool6, no errors generated', () => {
  const c = parseTranslatorConfig({});
  assert.deepEqual(c, {
    pool6: null,
    eamt: [],
    rfc6791v4: null,
    rfc6791v6: null,
    lowestIpv6Mtu: 1280,
    amendUdpChecksumZero: false,
    ipv4Mtu: 1500,
    ipv6Mtu: 1500,
    icmpSourceV4: null,
    icmpSourceV6: null,
    // RFC 4443 §2.4(f) token bucket, Linux's icmp_msgs_per_sec / icmp_msgs_burst.
    icmpErrorRate: 1000,
    icmpErrorBurst: 50,
  });
});

function rejects(input: unknown, key: RegExp): void {
  assert.throws(
    () => parseTranslatorConfig(input),
    (e: unknown) => e instanceof ConfigError && key.test(e.message),
    `expected an error naming ${key}`,
  );
}

test('unknown keys are rejected by name', () => {
  rejects({ pool6: null, lowestIPv6MTU: 1280 }, /lowestIPv6MTU/);
});

test('bad values are rejected naming the key', () => {
  rejects({ pool6: '2001:db8::/72' }, /^pool6: .*32, 40, 48, 56, 64, 96/);
  rejects({ pool6: '2001:db8::1/96' }, /^pool6: /);
  rejects({ pool6: '2001:db8:0:0:ff00::/96' }, /^pool6: .*u-octet/);
  rejects({ eamt: [{ ipv4: '1.0.0.0/24', ipv6: '2001:db8::/125' }] }, /^eamt\.0: .*suffix/);
  rejects({ eamt: [{ ipv4: '1.0.0.0/33', ipv6: '2001:db8::/120' }] }, /^eamt\.0\.ipv4: /);
  rejects({ eamt: [{ ipv4: '1.0.0.0/24', ipv6: '2001:db8::/120', x: 1 }] }, /x/);
  rejects({ rfc6791v4: '2001:db8::1' }, /^rfc6791v4: /);
  rejects({ rfc6791v6: '192.0.2.1' }, /^rfc6791v6: /);
  rejects({ lowestIpv6Mtu: 1279 }, /^lowestIpv6Mtu: /);
  rejects({ ipv6Mtu: 1500.5 }, /^ipv6Mtu: /);
  rejects({ ipv4Mtu: 67 }, /^ipv4Mtu: /);
  rejects({ amendUdpChecksumZero: 'yes' }, /^amendUdpChecksumZero: /);
  rejects({ icmpSourceV4: 'x' }, /^icmpSourceV4: /);
  rejects({ icmpSourceV6: '1.2.3.4' }, /^icmpSourceV6: /);
  rejects([], /top level/);
});

test('a CLAT configuration parses', () => {
  const c = parseTranslatorConfig({
    pool6: '64:ff9b::/96',
    eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
    icmpSourceV4: '192.0.0.2',
    icmpSourceV6: '2001:db8:1:2::c1a7',
  });
  assert.equal(c.eamt.length, 1);
  assert.equal(c.pool6, '64:ff9b::/96');
});
