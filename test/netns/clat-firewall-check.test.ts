// A forward chain with policy drop and an accept for the TUN in one direction only
// (`iifname "clat0" accept`, the rule people write first) still drops every reply coming back
// into the TUN: IPv4 through the CLAT is dead. `clatbar run` used to report nothing, because
// system/firewall.ts took any single accept for the TUN as enough. It now checks both directions
// (iifname, and oifname or `ct state established`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../helpers/env.js';
import { buildClatLab, nsh, SERVER_V4, startClatbarRun } from '../helpers/clat-lab.js';

test('clatbar run warns when the forward chain accepts only traffic out of the TUN', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'nft'] })) return;
  const cl = await buildClatLab('rf');
  t.after(() => cl.dispose());
  const { lab, laptop } = cl;
  nsh(
    lab,
    laptop,
    `nft add table inet filter && nft add chain inet filter forward '{ type filter hook forward priority 0; policy drop; }' && nft add rule inet filter forward iifname "clat0" accept`,
  );
  const run = await startClatbarRun(cl);
  t.after(() => run.proc.kill('SIGTERM'));
  // The fact the warning is about: with this ruleset nothing comes back.
  assert.match(nsh(lab, laptop, `ping -c 1 -W 2 ${SERVER_V4}`, true) || '0 received', /0 received|^$/);
  assert.match(run.log(), /firewall warning: nftables: table inet filter, chain forward/);
  assert.match(run.log(), /oifname "clat0" accept/);
});
