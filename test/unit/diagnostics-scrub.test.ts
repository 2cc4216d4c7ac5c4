// The diagnostics report carries no MAC address: not as such, not inside an EUI-64 IPv6
// address; the same MAC reads the same within a report, different ones differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrubMacs } from '../../src-main/engine/control/diagnostics.js';

test('MAC addresses and EUI-64 interface identifiers are replaced by stable hashes', () => {
  const report = {
    link: { address: '52:54:00:12:34:56', peer: '52:54:00:AB:CD:EF' },
    again: 'neighbour 52:54:00:12:34:56 reachable',
    ll: 'fe80::5054:ff:fe12:3456',
    global: '2001:db8:1:0:5054:ff:fe12:3456/64',
    privacy: '2001:db8:1:0:1c2b:3a4d:5e6f:7a8b',
    clat: '2001:db8:1::c1a7',
    v4: '192.0.2.1',
  };
  const s = scrubMacs(report);
  const text = JSON.stringify(s);
  assert.doesNotMatch(text, /52:54:00|5054:ff:fe12/i);
  assert.match(s.link.address, /^mac#[0-9a-f]{8}$/);
  assert.notEqual(s.link.address, s.link.peer);
  assert.equal(s.again, `neighbour ${s.link.address} reachable`);
  assert.match(s.ll, /^fe80::eui64#[0-9a-f]{8}$/);
  assert.equal(s.privacy, report.privacy, 'a random interface identifier is no MAC');
  assert.equal(s.clat, report.clat);
  assert.equal(s.v4, report.v4);
});
