// `clatbar status` against a real `clatbar run` on the lab laptop (one lab for every check, to
// keep the suite short), and against no engine and a socket that talks garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { buildClatLab, nsh, waitFor, CLATBAR, PREFIX, SERVER_V4 } from '../helpers/clat-lab.js';

/** Runs `clatbar status` without blocking this process (which may be the peer it talks to). */
function status(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLATBAR, 'status', ...args], { encoding: 'utf8' }, (err, out, errOut) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out, err: errOut }),
    );
  });
}

test('clatbar status: no engine, and a socket that is not an engine', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'engine.sock');

  const none = await status('--control-socket', sock);
  assert.equal(none.code, 1);
  assert.equal(none.out, '');
  assert.match(none.err, new RegExp(`no engine is running \\(nothing listens on ${sock}\\)`));
  assert.match(none.err, /start it: sudo systemctl start clatbar-engine/);
  assert.match(none.err, /or by hand: sudo clatbar run --uplink IFACE/);
  assert.equal((await status('--control-socket', sock, '--json')).code, 1);

  const server = createServer((c) => {
    c.on('error', () => {});
    c.end('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const garbage = await status('--control-socket', sock);
  assert.equal(garbage.code, 1);
  assert.match(garbage.err, /something answers on .* but not as a clatbar engine: the reply is not JSON/);
  server.close();

  // A peer that accepts and then says nothing: a bounded wait, then a clear message.
  const silentConns = new Set<import('node:net').Socket>();
  const silent = createServer((c) => {
    silentConns.add(c);
    c.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(sock, r));
  const stuck = await status('--control-socket', sock);
  assert.equal(stuck.code, 1);
  assert.match(stuck.err, /the engine on .* did not answer within 3 s/);
  for (const c of silentConns) c.destroy();
  silent.close();

  const help = spawnSync(process.execPath, [CLATBAR, 'status', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--control-socket PATH/);
  assert.match(help.stdout, /--json/);
  assert.match(help.stdout, /exit status/);
  const bad = await status('--colour');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--colour/);
});

test('clatbar status: a running engine in words and in JSON', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga'] })) return;
  const cl = await buildClatLab('st');
  t.after(() => cl.dispose());
  // The engine creates the state dir itself (as it does /run/clatbar), inside a world-readable
  // parent, so the test sees the permissions an unprivileged tray app meets.
  const parent = mkdtempSync(join(tmpdir(), 'clatbar-state-'));
  chmodSync(parent, 0o755);
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const stateDir = join(parent, 'state');
  const sock = join(stateDir, 'engine.sock');
  // A private /etc (as in clat-dns64.test.ts) so that --dns64 on has a resolver to learn and a
  // resolv.conf to hook without touching the machine's own.
  const etc = join(parent, 'etc');
  mkdirSync(etc);
  for (const f of ['hosts', 'nsswitch.conf', 'passwd', 'group'])
    if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 2001:db8:1::1\n');
  const run = cl.lab.spawn(cl.laptop, 'sh', [
    '-c',
    `mount --bind ${etc} /etc && exec ${process.execPath} ${CLATBAR} run --uplink ${cl.uplink} --prefix ${PREFIX} ` +
      `--dns64 on --state-dir ${stateDir} --control-socket ${sock}`,
  ]);
  let log = '';
  run.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  run.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(
    'the CLAT to come up',
    () => /DNS64 \(on\) on|DNS64 stub not started/.test(log) || run.exitCode !== null,
    30000,
  );
  assert.match(log, /CLAT is up/, log);
  assert.match(log, /DNS64 \(on\) on 192\.0\.0\.4:53/, log);
  const clatV6 = nsh(cl.lab, cl.laptop, 'ip -6 neigh show proxy').split(' ')[0];

  await t.test('in words: prefix and its source, addresses, device', async () => {
    const r = await status('--control-socket', sock);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^clatbar is active: .* via up0\./);
    assert.match(r.out, /NAT64 prefix +2001:db8:64::\/96, configured with clatbar run --prefix/);
    assert.match(r.out, /CLAT IPv4 +192\.0\.0\.4 /);
    assert.match(r.out, new RegExp(`CLAT IPv6 +${clatV6} .*checksum-neutral`));
    assert.match(r.out, /device +clat0, MTU 1500; IPv4 apps see MTU 1472/);
    assert.match(r.out, new RegExp(`pid ${run.pid}, up since`));
    assert.match(r.out, /firewall +nothing found/);
  });

  await t.test('an unprivileged user (the tray app) can ask for status', () => {
    // A plain JSON-RPC call from uid/gid 65534, the way the app's engine client asks.
    const script =
      `const s=require('net').connect(process.argv[1]);let b='';` +
      `s.on('connect',()=>s.write(JSON.stringify({jsonrpc:'2.0',id:1,method:'status'})+'\\n'));` +
      `s.on('data',d=>{b+=d;if(b.includes('\\n')){process.stdout.write(b);s.destroy();}});` +
      `s.on('error',e=>{console.error(e.code);process.exit(3);});`;
    const r = spawnSync(
      'setpriv',
      ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', script, sock],
      { encoding: 'utf8', timeout: 10000 },
    );
    assert.equal(r.status, 0, `uid 65534 could not reach ${sock}: ${r.stderr}`);
    const reply = JSON.parse(r.stdout) as { result?: { state?: string } };
    assert.ok(reply.result, r.stdout);
  });

  await t.test('in JSON: the prefix source and the DNS64 stub the app reads', async () => {
    const j = await status('--control-socket', sock, '--json');
    assert.equal(j.code, 0, j.err);
    const before = JSON.parse(j.out) as {
      prefixSource: string;
      counters: Record<string, number>;
      dns64: { mode: string; listen: string[]; queries: number; synthesized: number };
    };
    assert.equal(before.prefixSource, 'configured');
    // Bring-up alone makes the translator answer nothing: whatever the kernel sends into the
    // TUN by itself is multicast (MLD, IGMP), never answered with an ICMP error (RFC 4443
    // §2.4(e), RFC 1812 §4.3.2.7).
    assert.equal(before.counters.icmpErrorsSent, 0, j.out);
    assert.equal(before.dns64.mode, 'on');
    assert.deepEqual(before.dns64.listen, ['192.0.0.4:53']);
    assert.equal(typeof before.dns64.synthesized, 'number');
    // One query to the stub (its upstream does not answer: it still counts as a query).
    nsh(cl.lab, cl.laptop, 'dig @192.0.0.4 +tries=1 +time=3 v4only.example A', true);
    const after = JSON.parse((await status('--control-socket', sock, '--json')).out) as typeof before;
    assert.ok(after.dns64.queries >= before.dns64.queries + 1, JSON.stringify(after.dns64));
    const words = (await status('--control-socket', sock)).out;
    assert.match(words, /DNS64 +on on 192\.0\.0\.4:53: \d+ quer/);
  });

  await t.test('after pings: the counters rose each way, in words and in JSON', async () => {
    const before = JSON.parse((await status('--control-socket', sock, '--json')).out) as {
      counters: Record<string, number>;
    };
    assert.match(nsh(cl.lab, cl.laptop, `timeout 20 ping -c 3 -W 5 ${SERVER_V4}`), /3 received/);
    const j = await status('--control-socket', sock, '--json');
    assert.equal(j.code, 0, j.err);
    const after = JSON.parse(j.out) as { prefix: string; clatIpv6: string; counters: Record<string, number> };
    assert.equal(after.prefix, PREFIX);
    assert.equal(after.clatIpv6, clatV6);
    assert.ok(after.counters.translated46 >= before.counters.translated46 + 3, j.out);
    assert.ok(after.counters.translated64 >= before.counters.translated64 + 3, j.out);
    // Bytes each way: three 84-byte IPv4 echo requests in, three 104-byte IPv6 replies in.
    assert.ok(after.counters.bytes46 >= before.counters.bytes46 + 3 * 84, j.out);
    assert.ok(after.counters.bytes64 >= before.counters.bytes64 + 3 * 104, j.out);
    const words = (await status('--control-socket', sock)).out;
    assert.match(words, new RegExp(`IPv4 -> IPv6 \\(out\\): ${after.counters.translated46} packets, \\d`));
    assert.match(words, /IPv6 -> IPv4 \(in\): +\d+ packets, \d[\d.]* k?B/);
    assert.match(words, /through clat0: \d+ packets \(.+\) read, \d+ packets \(.+\) written/);
  });

  await t.test('packets to multicast groups are dropped without an ICMP error back', async () => {
    const counters = async () =>
      (
        JSON.parse((await status('--control-socket', sock, '--json')).out) as {
          counters: Record<string, number>;
        }
      ).counters;
    const before = await counters();
    // What a kernel that gives the TUN a link-local sends into it (RFC 4443 §2.4(e)(3) and RFC
    // 1812 §4.3.2.7 forbid answering these with an error).
    nsh(cl.lab, cl.laptop, 'ip -6 addr add fe80::1/64 dev clat0 nodad');
    nsh(cl.lab, cl.laptop, 'ping -6 -c 1 -W 1 ff02::1%clat0', true);
    nsh(cl.lab, cl.laptop, 'ip -6 addr del fe80::1/64 dev clat0');
    nsh(cl.lab, cl.laptop, 'ping -4 -c 1 -W 1 -I clat0 224.0.0.1', true);
    const after = await counters();
    const untranslatable = (c: Record<string, number>) => c['drop.dst-untranslatable'] ?? 0;
    assert.ok(untranslatable(after) >= untranslatable(before) + 2, JSON.stringify(after));
    assert.equal(after.icmpErrorsSent, before.icmpErrorsSent, JSON.stringify(after));
  });

  await t.test('a drop shows with its reason in words', async () => {
    const counters = async () =>
      (
        JSON.parse((await status('--control-socket', sock, '--json')).out) as {
          counters: Record<string, number>;
        }
      ).counters;
    const before = await counters();
    // TTL 1 leaves the host (local packets are not decremented) and expires in the translator,
    // which answers Time Exceeded (RFC 7915 §4.1) and counts the drop.
    nsh(cl.lab, cl.laptop, `ping -c 1 -W 2 -t 1 ${SERVER_V4}`, true);
    const after = await counters();
    const expired = after['drop.ttl-expired'];
    assert.equal(expired, (before['drop.ttl-expired'] ?? 0) + 1);
    assert.equal(after.icmpErrorsSent, before.icmpErrorsSent + 1);
    const r = await status('--control-socket', sock);
    assert.match(
      r.out,
      new RegExp(` ${expired} {2}hop limit ran out \\(Time Exceeded sent back\\) \\(ttl-expired\\)\\n`),
    );
    assert.match(r.out, new RegExp(`made by the translator: ${after.icmpErrorsSent} ICMP error`));
  });

  await t.test('a client holding its connection open does not keep SIGTERM from ending it', async () => {
    // server.close() alone waits for every open connection: this idle client would keep the
    // engine from ever exiting.
    const holder = connect(sock);
    holder.on('error', () => {});
    await new Promise<void>((r) => holder.once('connect', () => r()));
    const holderClosed = new Promise<void>((r) => holder.once('close', () => r()));
    const exited = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
    run.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running 20 s after SIGTERM'), 20000).unref()),
    ]);
    assert.equal(code, 0, log);
    await holderClosed;
    assert.match(log, /stopped; the host is as it was/, log);
  });

  await t.test('after the engine stops: no engine, exit 1', async () => {
    const r = await status('--control-socket', sock);
    assert.equal(r.code, 1);
    assert.match(r.err, /no engine is running/);
  });
});
