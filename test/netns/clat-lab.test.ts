// Proves the lab itself: with TAYGA as the laptop's CLAT, IPv4 apps on the IPv6-only laptop reach
// the IPv4-only server through the router's NAT64. If this fails, clatbar's tests cannot pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../helpers/env.js';
import { buildClatLab, nsh, startServers, taygaClat, SERVER_V4 } from '../helpers/clat-lab.js';

test('lab: TAYGA as CLAT gives the IPv6-only laptop IPv4', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat', 'curl'] })) return;
  const cl = await buildClatLab('lb');
  t.after(() => cl.dispose());
  await startServers(cl, { 'small.bin': 1 });
  assert.equal(nsh(cl.lab, cl.laptop, 'ip -4 route show default'), '');
  taygaClat(cl.lab, cl.laptop, { uplink: cl.uplink, clatV6: '2001:db8:1::c1a7', dir: cl.wwwDir });
  const ping = nsh(cl.lab, cl.laptop, `ping -c 2 -W 5 ${SERVER_V4}`);
  assert.match(ping, /2 received/);
  const got = nsh(cl.lab, cl.laptop, `curl -s http://${SERVER_V4}/small.bin | sha256sum`).split(' ')[0];
  const want = nsh(cl.lab, cl.server, `sha256sum ${cl.wwwDir}/small.bin`).split(' ')[0];
  assert.equal(got, want);
  // The SLAAC default route is still there after forwarding was turned on (accept_ra=2).
  assert.match(nsh(cl.lab, cl.laptop, 'ip -6 route show default'), /proto ra/);
});
