// What real apps do through the CLAT, beyond the acceptance list: big pings (IPv4 fragments out,
// IPv6 fragments back from a NAT64 that fragments at 1280), DF pings at the route MTU, UDP of
// 2000 bytes and of exactly the MTU, DNS over TCP and a large DNS answer over UDP, many parallel
// TCP connections, TCP RST for a closed port, iperf3 both ways, echo id/seq preserved. Before
// the fix in siit/icmp-frag.ts, every ping above 1260 bytes of payload failed (icmp-fragmented).
//
// The router also owns 2001:db8:64::c000:263 (the mapped form of 192.0.2.99) itself, so a ping
// to 192.0.2.99 is answered by the router's kernel, which reassembles our IPv6 fragments and
// checks the ICMPv6 checksum of the whole message: TAYGA cannot serve as that check, it drops
// fragmented ICMPv6 itself (native `ping -6 -s 3000` to the NAT64 fails the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { requires } from '../helpers/env.js';
import { unboundConf } from '../dns64/helpers.js';
import { buildClatLab, startServers, nsh, waitFor, SERVER_V4, startClatbarRun } from '../helpers/clat-lab.js';

const ROUTER_OWNED_V4 = '192.0.2.99';
const ROUTER_OWNED_V6 = '2001:db8:64::c000:263';

// UDP of a given size to the echo server; prints whether the same bytes came back.
const UDP_SIZED = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[2])))
n = int(sys.argv[3])
data = bytes((i * 7) & 255 for i in range(n))
s.send(data)
try:
    d = s.recv(70000)
    print('same' if d == data else 'different %d' % len(d))
except socket.timeout:
    print('timeout')
`;

const TCP_CLOSED = `
import socket, sys
s = socket.socket()
s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print('connected')
except ConnectionRefusedError:
    print('refused')
except socket.timeout:
    print('timeout')
`;

function status(lab: import('../helpers/netns.js').Lab, ns: string, sock: string): Record<string, number> {
  const reply = JSON.parse(
    nsh(lab, ns, `echo '{"jsonrpc":"2.0","id":1,"method":"status"}' | socat - UNIX:${sock}`),
  ) as { result: { counters: Record<string, number> } };
  return reply.result.counters;
}

test('clatbar run: what real apps do through the CLAT', async (t) => {
  if (
    !requires(t, {
      root: true,
      tun: true,
      binaries: ['tayga', 'socat', 'curl', 'iperf3', 'unbound', 'dig', 'ping'],
    })
  )
    return;
  const cl = await buildClatLab('rt');
  t.after(() => cl.dispose());
  await startServers(cl, { 'small.bin': 1 });
  const { lab, laptop, router, server } = cl;
  lab.exec(router, 'ip', ['-6', 'addr', 'add', `${ROUTER_OWNED_V6}/128`, 'dev', 'lo']);

  // A DNS server on the IPv4-only host: one big answer (over 1232 bytes) and a small one.
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = Array.from(
    { length: 120 },
    (_, i) => `local-data: "big.example. 300 IN A 198.51.100.${i + 1}"`,
  );
  writeFileSync(
    join(dir, 'unbound.conf'),
    unboundConf(dir, SERVER_V4, 53, {
      zones: false,
      extra: [
        'local-zone: "example." static',
        'local-data: "example. 3600 IN SOA ns.example. h.example. 1 3600 600 86400 60"',
        'local-data: "small.example. 300 IN A 192.0.2.7"',
        ...big,
      ],
    }),
  );
  const unbound = lab.spawn(server, 'unbound', ['-d', '-c', join(dir, 'unbound.conf')]);
  unbound.stdout?.resume();
  unbound.stderr?.resume();
  const iperf = lab.spawn(server, 'iperf3', ['-s', '-B', SERVER_V4]);
  iperf.stdout?.resume();
  iperf.stderr?.resume();

  const run = await startClatbarRun(cl);
  const sock = run.sock;
  assert.match(run.log(), /CLAT is up/, run.log());
  await waitFor('unbound on the server', () => nsh(lab, server, 'ss -lun').includes(`${SERVER_V4}:53`));
  await waitFor('iperf3 on the server', () => nsh(lab, server, 'ss -ltn').includes(`${SERVER_V4}:5201`));

  await t.test(
    'ping -s 3000: IPv4 fragments out, IPv6 fragments back, checksums verified by a kernel',
    () => {
      const r = nsh(lab, laptop, `timeout 20 ping -c 3 -i 0.3 -W 5 -s 3000 ${ROUTER_OWNED_V4}`, true);
      assert.match(r, /3 received/, r);
      const big = nsh(lab, laptop, `timeout 20 ping -c 2 -i 0.3 -W 5 -s 20000 ${ROUTER_OWNED_V4}`, true);
      assert.match(big, /2 received/, big);
    },
  );

  await t.test(
    'ping -s 1300 and ping -M do -s 1444 to the IPv4 server: TAYGA fragments the replies at 1280',
    () => {
      const r = nsh(lab, laptop, `timeout 20 ping -c 2 -i 0.3 -W 5 -s 1300 ${SERVER_V4}`, true);
      assert.match(r, /2 received/, r);
      // 1444 + 28 = 1472, the route MTU: the largest DF ping that fits.
      const df = nsh(lab, laptop, `timeout 20 ping -c 2 -i 0.3 -W 5 -M do -s 1444 ${SERVER_V4}`, true);
      assert.match(df, /2 received/, df);
    },
  );

  await t.test('echo id and seq come back as sent', () => {
    const r = nsh(lab, laptop, `timeout 20 ping -c 3 -i 0.3 -W 5 ${SERVER_V4}`);
    for (const seq of [1, 2, 3]) assert.match(r, new RegExp(`icmp_seq=${seq} ttl=`));
    assert.doesNotMatch(r, /DUP|wrong data/);
  });

  await t.test('UDP of 2000 bytes, exactly the MTU (1444), and 8000 bytes come back unchanged', () => {
    for (const n of [2000, 1444, 1445, 8000]) {
      const r = lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_SIZED, SERVER_V4, '7', String(n)]).trim();
      assert.equal(r, 'same', `${n} bytes`);
    }
  });

  await t.test('TCP to a closed port: connection refused (RST), not a timeout', () => {
    assert.equal(lab.exec(laptop, '/usr/bin/python3', ['-c', TCP_CLOSED, SERVER_V4, '81']).trim(), 'refused');
  });

  await t.test('DNS over TCP, and a big answer over UDP (IPv4 fragments from the server)', () => {
    const tcp = nsh(lab, laptop, `dig +tcp +short +time=5 +tries=1 @${SERVER_V4} small.example A`);
    assert.equal(tcp.trim(), '192.0.2.7');
    const udp = nsh(
      lab,
      laptop,
      `dig +notcp +ignore +bufsize=4096 +time=5 +tries=1 @${SERVER_V4} big.example A`,
    );
    assert.match(udp, /ANSWER: 120/, udp);
    assert.doesNotMatch(udp, /flags:[^;]* tc/);
  });

  await t.test('50 parallel TCP connections all complete', () => {
    const r = nsh(
      lab,
      laptop,
      `for i in $(seq 1 50); do curl -s -o /dev/null -w "%{http_code}\\n" --max-time 30 http://${SERVER_V4}/small.bin & done; wait`,
    );
    assert.equal(
      r
        .trim()
        .split('\n')
        .filter((l) => l === '200').length,
      50,
      r,
    );
  });

  await t.test('iperf3 upload and download (-R) move data', () => {
    for (const extra of ['', '-R']) {
      const j = JSON.parse(nsh(lab, laptop, `timeout 30 iperf3 -c ${SERVER_V4} -t 2 -J ${extra}`)) as {
        end: { sum_received: { bytes: number } };
      };
      assert.ok(j.end.sum_received.bytes > 1_000_000, `iperf3 ${extra}: ${j.end.sum_received.bytes} bytes`);
    }
  });

  await t.test(
    'a burst of TTL-1 datagrams: the CLAT answers the first ones, then rate limits (RFC 4443 §2.4(f))',
    () => {
      const before = status(lab, laptop, sock);
      lab.exec(laptop, '/usr/bin/python3', [
        '-c',
        `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)\nfor i in range(3000):\n    s.sendto(b'x' * 16, ('${SERVER_V4}', 33434))`,
      ]);
      const after = status(lab, laptop, sock);
      const sent = after.icmpErrorsSent - before.icmpErrorsSent;
      const limited = (after['drop.icmp-rate-limited'] ?? 0) - (before['drop.icmp-rate-limited'] ?? 0);
      const expired = after['drop.ttl-expired'] - (before['drop.ttl-expired'] ?? 0);
      t.diagnostic(`3000 TTL-1 datagrams: ${expired} expired, ${sent} errors sent, ${limited} limited`);
      assert.ok(sent >= 50, 'the burst allowance goes out');
      assert.ok(limited > 0, 'the rest is limited');
      assert.equal(sent + limited, expired, 'every expired datagram either got its error or was limited');
    },
  );

  await t.test('no fragmented-ICMP drops, no write errors', () => {
    const c = status(lab, laptop, sock);
    assert.equal(c['drop.icmp-fragmented'] ?? 0, 0, JSON.stringify(c));
    assert.equal(c.writeErrors, 0);
  });

  run.proc.kill('SIGTERM');
  await run.exited;
});
