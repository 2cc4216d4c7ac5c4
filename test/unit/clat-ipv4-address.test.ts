// --clat-ipv4 outside 192.0.0.0/29 used to be accepted (only "does it parse" was checked), and
// with 192.0.0.6 the translator's own ICMPv4 errors came from 192.0.0.7, the /29's broadcast
// address. clatIpv4Problem and clatIcmpSource are what plan.ts and datapath.ts should use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clatIpv4Problem, clatIcmpSource } from '../../src-main/engine/net/clat-address.js';

test('clatIpv4Problem: only host addresses of 192.0.0.0/29 (RFC 7335)', () => {
  for (const ok of ['192.0.0.1', '192.0.0.2', '192.0.0.4', '192.0.0.6'])
    assert.equal(clatIpv4Problem(ok), null, ok);
  assert.match(clatIpv4Problem('10.1.2.3') ?? '', /outside 192\.0\.0\.0\/29/);
  assert.match(clatIpv4Problem('192.0.0.8') ?? '', /outside/);
  assert.match(clatIpv4Problem('192.0.0.0') ?? '', /network or broadcast/);
  assert.match(clatIpv4Problem('192.0.0.7') ?? '', /network or broadcast/);
  assert.match(clatIpv4Problem('clat') ?? '', /not an IPv4 address/);
});

test('clatIcmpSource: another host of the /29, never .0 or .7, never the CLAT itself', () => {
  assert.equal(clatIcmpSource('192.0.0.4'), '192.0.0.5');
  assert.equal(clatIcmpSource('192.0.0.5'), '192.0.0.4');
  for (let i = 1; i <= 6; i++) {
    const s = clatIcmpSource(`192.0.0.${i}`);
    const last = Number(s.split('.')[3]);
    assert.ok(last >= 1 && last <= 6 && last !== i, `${i} -> ${s}`);
  }
});
