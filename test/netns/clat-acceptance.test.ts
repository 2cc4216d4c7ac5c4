// Issue 5 acceptance: on an IPv6-only laptop behind a NAT64 (TAYGA on the router), `clatbar run`
// gives IPv4 apps ping, a 100 MB HTTP download that hashes right, UDP, ICMP errors that reach
// the app (port unreachable, time exceeded), and path-MTU discovery across the translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  startServers,
  nsh,
  waitFor,
  hostState,
  SERVER_V4,
  ROUTER_V4,
  PREFIX,
  startClatbarRun,
  tracerouteHops,
} from '../helpers/clat-lab.js';

// An IPv4 UDP client as an app would be: connect, send, wait for an answer or an error.
const UDP_APP = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(sys.argv[3].encode())
try:
    print('reply:' + s.recv(2048).decode())
except ConnectionRefusedError:
    print('refused')
except socket.timeout:
    print('timeout')
`;

// A burst of numbered datagrams; the receiver checks every payload it gets against its number.
const UDP_BURST_SEND = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
for i in range(int(sys.argv[3])):
    s.send(b'%08d' % i + bytes((i + k) & 255 for k in range(92)))
`;
const UDP_BURST_RECV = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
s.settimeout(10)
got = bad = 0
try:
    while True:
        d = s.recv(2048)
        s.settimeout(2)
        i = int(d[:8])
        if d[8:] != bytes((i + k) & 255 for k in range(92)):
            bad += 1
        got += 1
except socket.timeout:
    pass
print(json.dumps({'got': got, 'bad': bad}), flush=True)
`;

test('clatbar run: IPv4 apps work on an IPv6-only laptop', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat', 'curl', 'traceroute'] })) return;
  const cl = await buildClatLab('ca');
  t.after(() => cl.dispose());
  await startServers(cl, { 'big.bin': 100 });
  const { lab, laptop, router } = cl;
  const before = hostState(lab, laptop);
  const run = await startClatbarRun(cl);
  assert.match(run.log(), /CLAT is up/, run.log());
  assert.match(run.log(), /offloads csum tso4 tso6/, 'the TUN has offloads');
  // Proxied neighbour answers go out at once (Linux holds them back up to 800 ms by default);
  // the state comparison at the end proves it is put back like every other sysctl.
  assert.equal(nsh(lab, laptop, `cat /proc/sys/net/ipv6/neigh/${cl.uplink}/proxy_delay`).trim(), '0');

  await t.test('ping 203.0.113.10', () => {
    assert.match(nsh(lab, laptop, `timeout 20 ping -c 3 -W 5 ${SERVER_V4}`), /3 received/);
  });

  await t.test('100 MB HTTP download, sha256 matches', () => {
    const want = createHash('sha256')
      .update(readFileSync(join(cl.wwwDir, 'big.bin')))
      .digest('hex');
    const got = nsh(lab, laptop, `timeout 120 curl -sS --fail http://${SERVER_V4}/big.bin | sha256sum`).split(
      ' ',
    )[0];
    assert.equal(got, want);
  });

  await t.test('UDP request/response', () => {
    assert.equal(
      lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_APP, SERVER_V4, '7', 'hello over udp']).trim(),
      'reply:hello over udp',
    );
  });

  await t.test('a burst of small UDP datagrams is merged into GSO packets and arrives intact', async (tt) => {
    const recv = lab.spawn(cl.server, '/usr/bin/python3', ['-c', UDP_BURST_RECV, SERVER_V4, '9998']);
    let got = '';
    recv.stdout?.on('data', (d: Buffer) => (got += d.toString()));
    await waitFor('the burst receiver', () => got.includes('ready'));
    const done = new Promise((r) => recv.once('exit', r));
    lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_BURST_SEND, SERVER_V4, '9998', '20000']);
    await done;
    const r = JSON.parse(got.split('\n')[1]) as { got: number; bad: number };
    assert.equal(r.bad, 0);
    assert.ok(r.got > 0);
    const status = JSON.parse(
      nsh(lab, laptop, `echo '{"jsonrpc":"2.0","id":1,"method":"status"}' | socat - UNIX:${run.sock}`),
    ) as { result: { counters: Record<string, number> } };
    const c = status.result.counters;
    tt.diagnostic(`received ${r.got}/20000; ${c.udpMerged} merged into ${c.udpSuperPackets} GSO packets`);
    assert.ok(c.udpSuperPackets > 0, JSON.stringify(c));
    assert.equal(c.writeErrors, 0);
  });

  await t.test('UDP to a closed port: the app gets ICMP port unreachable', () => {
    assert.equal(
      lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_APP, SERVER_V4, '9', 'anyone?']).trim(),
      'refused',
    );
  });

  await t.test('TTL expiry comes back as ICMP time exceeded (traceroute)', () => {
    const { hops, text: tr } = tracerouteHops(lab, laptop, SERVER_V4);
    // Hop 1 is the CLAT itself (its ICMP source, 192.0.0.5); the IPv6 router's answer has no
    // IPv4 form and comes from 192.0.0.8 (RFC 7600); the IPv4 router behind the NAT64 answers
    // for its own hop; the last hop is the server.
    assert.equal(hops[0], '192.0.0.5', tr);
    assert.ok(hops.includes('192.0.0.8'), tr);
    assert.ok(hops.includes(ROUTER_V4), tr);
    assert.equal(hops[hops.length - 1], SERVER_V4, tr);
  });

  await t.test(
    'a smaller MTU on the IPv6 path: Packet Too Big reaches the IPv4 app as Fragmentation Needed',
    () => {
      lab.exec(router, 'ip', ['-6', 'route', 'replace', PREFIX, 'dev', 'nat64', 'mtu', '1400']);
      // DF set, too big for the new path: the first try is refused with the MTU the path allows.
      const ping = nsh(lab, laptop, `timeout 10 ping -c 2 -W 2 -M do -s 1400 ${SERVER_V4} 2>&1; true`);
      assert.match(ping, /Frag needed and DF set \(mtu = 1380\)/, ping);
      assert.match(nsh(lab, laptop, `ip route get ${SERVER_V4}`), /mtu 1380/);
      // TCP honours it: a 4 MB upload (full-size segments, DF set) arrives intact.
      nsh(lab, laptop, `dd if=/dev/urandom of=${cl.wwwDir}/up.bin bs=1M count=4 status=none`);
      const want = nsh(lab, laptop, `sha256sum ${cl.wwwDir}/up.bin`).split(' ')[0];
      const reply = nsh(lab, laptop, `timeout 60 socat -t 10 - TCP4:${SERVER_V4}:9000 < ${cl.wwwDir}/up.bin`);
      assert.equal(reply.split(' ')[0], want);
      // The upload went through as TSO super-packets, translated whole (never cut up by us).
      const status = JSON.parse(
        nsh(lab, laptop, `echo '{"jsonrpc":"2.0","id":1,"method":"status"}' | socat - UNIX:${run.sock}`),
      ) as { result: { counters: Record<string, number> } };
      assert.ok(status.result.counters.gsoIn > 0, JSON.stringify(status.result.counters));
      assert.equal(status.result.counters.writeErrors, 0);
      lab.exec(router, 'ip', ['-6', 'route', 'replace', PREFIX, 'dev', 'nat64']);
    },
  );

  await t.test('SIGTERM: exit 0, and the laptop is exactly as before', async () => {
    run.proc.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.log());
    assert.deepEqual(hostState(lab, laptop), before);
  });
});
