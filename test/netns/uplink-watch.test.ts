// The uplink going down and up during a run: Linux deletes a device's proxy-ND entries when it
// goes down (pneigh_ifdown) and never restores them, so the CLAT address stays unanswered and
// IPv4 stays dead after the uplink is back (found by hand: ping through the CLAT 1 before, 0
// after `ip link set up0 down; ip link set up0 up`, and the engine said nothing). watchUplink
// (net/uplink-watch.ts) notices through rtnetlink, says what happened and puts the entry back.
// The first test runs the watcher alone in a namespace; the second is the engine end to end
// (clat/engine.ts starts the watcher since b454728).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { buildClatLab, startServers, nsh, waitFor, SERVER_V4, startClatbarRun } from '../helpers/clat-lab.js';

const watchModule = fileURLToPath(new URL('../../src-main/engine/net/uplink-watch.js', import.meta.url));
const CLAT6 = '2001:db8:1::c1a7';

// Runs the watcher inside the namespace and prints its log lines.
const WATCHER = `
const { watchUplink } = await import(process.argv[1]);
const w = await watchUplink({ uplink: 'up0', clatIpv6: '${CLAT6}', subnet64: '2001:db8:1::/64', debounceMs: 100,
  log: (l) => console.log('log: ' + l.text) });
console.log('ready');
process.on('SIGTERM', () => { w.stop(); console.log('restored ' + w.restored); process.exit(0); });
`;

test('watchUplink: the proxy-ND entry comes back after the uplink goes down and up, and the log says so', async (t) => {
  if (!requires(t, { root: true })) return;
  const lab = new Lab('uw');
  t.after(() => lab.dispose());
  const a = lab.ns('a');
  const b = lab.ns('b');
  lab.veth(a, 'up0', b, 'p0');
  // keep_addr_on_down: the address survives the down/up, so its own loss is tested apart below.
  lab.exec(a, 'sysctl', [
    '-qw',
    'net.ipv6.conf.up0.accept_dad=0',
    'net.ipv6.conf.up0.proxy_ndp=1',
    'net.ipv6.conf.up0.keep_addr_on_down=1',
  ]);
  lab.exec(a, 'ip', ['-6', 'addr', 'add', '2001:db8:1::2/64', 'dev', 'up0', 'nodad']);
  lab.exec(a, 'ip', ['-6', 'neigh', 'add', 'proxy', CLAT6, 'dev', 'up0']);
  const child = lab.spawn(a, process.execPath, ['--input-type=module', '-e', WATCHER, watchModule]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the watcher', () => out.includes('ready'));
  // ip monitor needs a moment to subscribe; a first harmless event proves it listens.
  await new Promise((r) => setTimeout(r, 300));

  lab.exec(a, 'ip', ['link', 'set', 'up0', 'down']);
  await waitFor('the down to be reported', () => out.includes('up0 is down'));
  assert.equal(
    lab.exec(a, 'ip', ['-6', 'neigh', 'show', 'proxy', 'dev', 'up0']).trim(),
    '',
    'the kernel dropped it',
  );
  lab.exec(a, 'ip', ['link', 'set', 'up0', 'up']);
  await waitFor('the proxy entry to come back', () =>
    lab.exec(a, 'ip', ['-6', 'neigh', 'show', 'proxy', 'dev', 'up0']).includes(CLAT6),
  );
  await waitFor('the log line', () => out.includes('proxy-ND entry'));
  assert.match(out, /up0 is up again/);
  assert.match(out, /proxy-ND entry for 2001:db8:1::c1a7 was gone .*; put back/);

  // Losing the /64 address is reported (the CLAT address is then off-link), and its return too.
  lab.exec(a, 'ip', ['-6', 'addr', 'del', '2001:db8:1::2/64', 'dev', 'up0']);
  await waitFor('the lost address to be reported', () => out.includes('no address in 2001:db8:1::/64'));
  lab.exec(a, 'ip', ['-6', 'addr', 'add', '2001:db8:1::2/64', 'dev', 'up0', 'nodad']);
  await waitFor('the address to be reported back', () =>
    out.includes('has an address in 2001:db8:1::/64 again'),
  );

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  assert.match(out, /restored 1/);
});

test('clatbar run: IPv4 works again after the uplink goes down and up', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat'] })) return;
  const cl = await buildClatLab('uu');
  t.after(() => cl.dispose());
  await startServers(cl, {});
  const { lab, laptop } = cl;
  const run = await startClatbarRun(cl);
  t.after(() => run.proc.kill('SIGTERM'));
  const ping = () => nsh(lab, laptop, `ping -c 1 -W 2 ${SERVER_V4}`, true);
  assert.match(ping(), /1 received/);
  nsh(lab, laptop, 'ip link set up0 down');
  await new Promise((r) => setTimeout(r, 1000));
  nsh(lab, laptop, 'ip link set up0 up');
  await waitFor('IPv4 through the CLAT again', () => /1 received/.test(ping()), 20000);
  assert.match(run.log(), /up0 is down/);
  assert.equal(run.proc.exitCode, null, 'the engine keeps running');
});
