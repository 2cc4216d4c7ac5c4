// What the data path tells the translator, from what bring-up planned: the MTUs (the path's for
// DF-set IPv4 going out, the link's for what comes in) and the source of its own ICMPv4 errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translatorConfigFor } from '../../src-main/engine/clat/datapath.js';
import type { DataPathParams } from '../../src-main/engine/clat/datapath-types.js';

const params = (over: Partial<DataPathParams>): DataPathParams => ({
  tun: 'clat0',
  clatIpv4: '192.0.0.4',
  clatIpv6: '2001:db8:1::c1a7',
  prefix: '2001:db8:64::/96',
  ipv6Mtu: 1500,
  ipv4Mtu: 1472,
  linkMtu: 1500,
  log: () => {},
  ...over,
});

test('--mtu below the link MTU: DF-set IPv4 sees the path MTU, packets from the link are not cut to it', () => {
  const c = translatorConfigFor(params({ ipv6Mtu: 1280, ipv4Mtu: 1252, linkMtu: 1500 }));
  assert.equal(c.ipv6Mtu, 1280);
  assert.equal(c.ipv4Mtu, 1480, 'link MTU - 20 (RFC 7915 §5.1: the IPv4 header is 20 bytes smaller)');
});

test("the translator's ICMPv4 errors come from another host address of 192.0.0.0/29, never .0 or .7", () => {
  const source = (v4: string) => translatorConfigFor(params({ clatIpv4: v4 })).icmpSourceV4;
  assert.equal(source('192.0.0.4'), '192.0.0.5');
  assert.equal(source('192.0.0.5'), '192.0.0.4');
  for (const v4 of ['192.0.0.1', '192.0.0.2', '192.0.0.3', '192.0.0.4', '192.0.0.5', '192.0.0.6']) {
    const s = source(v4);
    assert.notEqual(s, v4, `${v4}: not the host's own address`);
    assert.match(s, /^192\.0\.0\.[1-6]$/, `${v4} -> ${s}`);
  }
});
