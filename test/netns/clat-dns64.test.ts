// `clatbar run --dns64 on`: the DNS64 stub next to the CLAT answers with synthesized AAAA
// records from the network's plain resolver (Unbound on the router), the host's resolv.conf
// points at it while it runs and is put back after. The engine runs with a private copy of
// /etc bind-mounted over /etc (inside the `ip netns exec` mount namespace), so the machine's
// own /etc/resolv.conf is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  startServers,
  startRouterResolver,
  nsh,
  privateEtc,
  startClatbarRun,
} from '../helpers/clat-lab.js';

test('clatbar run --dns64 on: synthesized AAAA, resolv.conf hooked and restored', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound', 'dig', 'curl'] })) return;
  const cl = await buildClatLab('cd');
  t.after(() => cl.dispose());
  await startServers(cl, { 'small.bin': 1 });
  const { lab, laptop } = cl;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-dns64-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The network's resolver: plain DNS (no DNS64), one name with only an A record.
  await startRouterResolver(cl, dir);

  // A private /etc for the engine, with the network's resolver in its resolv.conf.
  const original = 'nameserver 2001:db8:1::1\noptions edns0\n';
  const { etc, prefix: inPrivateEtc } = privateEtc(dir, original);
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8');

  const {
    proc: run,
    log,
    exited,
  } = await startClatbarRun(cl, {
    args: ['--dns64', 'on'],
    stateDir: join(dir, 'state'),
    privateEtc: inPrivateEtc,
    until: /DNS64 \(on\) on|DNS64 stub not started/,
  });
  const out = log();
  assert.match(out, /DNS64 \(on\) on 192\.0\.0\.4:53, via resolv\.conf/, out);

  const resolvNow = readFileSync(join(etc, 'resolv.conf'), 'utf8');
  assert.match(resolvNow, /^nameserver 192\.0\.0\.4$/m);
  assert.match(resolvNow, /^options edns0$/m);
  const aaaa = nsh(lab, laptop, 'dig +short +time=3 AAAA v4only.example @192.0.0.4').trim();
  assert.equal(aaaa, '2001:db8:64::cb00:710a');
  // The synthesized address works: an IPv6 app goes straight to the NAT64 with it.
  const body = nsh(
    lab,
    laptop,
    'timeout 20 curl -sS -6 --resolve v4only.example:80:[2001:db8:64::cb00:710a] http://v4only.example/small.bin | wc -c',
  );
  assert.equal(body.trim(), String(1024 * 1024));

  run.kill('SIGTERM');
  assert.equal(await exited, 0, log());
  assert.equal(readFileSync(join(etc, 'resolv.conf'), 'utf8'), original);
  assert.equal(
    readFileSync('/etc/resolv.conf', 'utf8'),
    hostResolv,
    "the machine's own resolv.conf is untouched",
  );
});
