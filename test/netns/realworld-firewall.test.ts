// A forward chain with policy drop and an accept for the TUN in one direction only
// (`iifname "clat0" accept`, the rule people write first) still drops every reply coming back
// into the TUN: IPv4 through the CLAT is dead. `clatbar run` used to report nothing, because
// system/firewall.ts took any single accept for the TUN as enough. It now checks both directions
// (iifname, and oifname or `ct state established`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../helpers/env.js';
import { buildClatLab, nsh, waitFor, CLATBAR, PREFIX, SERVER_V4 } from '../helpers/clat-lab.js';

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
  const run = lab.spawn(laptop, process.execPath, [
    CLATBAR,
    'run',
    '--uplink',
    cl.uplink,
    '--prefix',
    PREFIX,
    '--state-dir',
    `/tmp/clatbar-rf-${process.pid}`,
    '--control-socket',
    `/tmp/clatbar-rf-${process.pid}/engine.sock`,
  ]);
  let out = '';
  run.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  t.after(() => run.kill('SIGTERM'));
  await waitFor('the CLAT', () => out.includes('CLAT is up') || run.exitCode !== null, 30000);
  // The fact the warning is about: with this ruleset nothing comes back.
  assert.match(nsh(lab, laptop, `ping -c 1 -W 2 ${SERVER_V4}`, true) || '0 received', /0 received|^$/);
  assert.match(out, /firewall warning: nftables: table inet filter, chain forward/);
  assert.match(out, /oifname "clat0" accept/);
});
