// Issue 13 acceptance: nothing gets in through the CLAT that the laptop did not ask for. The
// router, a host on the laptop's IPv6 link, plays the attacker: it owns an address inside the
// NAT64 prefix (2001:db8:64::cb00:7163, "203.0.113.99") and sends from it to the CLAT's IPv6
// address, which the translator turns into IPv4 for 192.0.0.4. With the default --inbound deny
// none of it reaches a listener on the laptop and each packet is counted under
// inbound-unsolicited; the laptop's own flows, PMTUD and traceroute keep working, also through a
// flood of 100,000 forged SYNs; --inbound allow lets the UDP through; no rule outlives the engine.
// The engine runs with a private /etc (bind-mounted in its mount namespace) so that --dns64 on
// hooks a resolv.conf of the test's own, never the machine's.
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
  waitFor,
  CLATBAR,
  PREFIX,
  SERVER_V4,
  ROUTER_V4,
  privateEtc,
  tracerouteHops,
  startClatbarRun,
  type ClatbarRun,
} from '../helpers/clat-lab.js';

/** The attacker's address on the router: inside the NAT64 prefix, so it translates (203.0.113.99). */
const FORGED_SRC = '2001:db8:64::cb00:7163';
const UDP_PORT = 4444;
const TCP_PORT = 4445;

// A listener bound to 0.0.0.0 on the laptop, as a dev server would be: prints every UDP datagram
// and every accepted TCP connection.
const LISTENER = `
import select, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', int(sys.argv[1])))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('0.0.0.0', int(sys.argv[2])))
t.listen(16)
print('ready', flush=True)
while True:
    r, _, _ = select.select([u, t], [], [])
    if u in r:
        d, a = u.recvfrom(2048)
        print('udp ' + d.decode(errors='replace') + ' from ' + a[0], flush=True)
    if t in r:
        c, a = t.accept()
        print('tcp from ' + a[0], flush=True)
        c.close()
`;

// The attacker's tools, from FORGED_SRC: one UDP datagram; a TCP connect (a SYN-ACK would
// complete it); a DNS query for the stub; each prints what came back.
const ATTACK = `
import socket, struct, sys
kind, src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == 'udp':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for i in range(5):
        s.sendto(b'forged%d' % i, (dst, port))
    print('sent')
elif kind == 'tcp':
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(3)
    try:
        s.connect((dst, port))
        print('connected')
    except socket.timeout:
        print('timeout')
    except ConnectionRefusedError:
        print('refused')
elif kind == 'dns':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(3)
    q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b'\\x07v4only\\x07example\\x00' + struct.pack('!HH', 28, 1)
    s.sendto(q, (dst, port))
    try:
        s.recvfrom(2048)
        print('answered')
    except socket.timeout:
        print('timeout')
`;

// The laptop's own UDP request/response, retried every 300 ms for up to 10 s: prints the reply and
// how many sends it took.
const UDP_RETRY = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.3)
for i in range(1, 34):
    s.send(sys.argv[3].encode())
    try:
        print('reply:%s after %d %s' % (s.recv(2048).decode(), i, 'try' if i == 1 else 'tries'))
        break
    except socket.timeout:
        pass
`;

// 100,000 TCP SYNs written straight onto the link (AF_PACKET), each from a random address inside
// the NAT64 prefix and a random port, to the CLAT address: what a flood from the link looks like.
const SYN_FLOOD = `
import os, random, socket, struct, sys
ifname, dst_mac, src_mac, dst, port, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
prefix = socket.inet_pton(socket.AF_INET6, sys.argv[7])[:12]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
eth = bytes.fromhex(dst_mac.replace(':', '')) + bytes.fromhex(src_mac.replace(':', '')) + b'\\x86\\xdd'
d = socket.inet_pton(socket.AF_INET6, dst)
def csum(b):
    if len(b) % 2: b += b'\\0'
    n = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while n >> 16: n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff
sent = 0
for i in range(count):
    src = prefix + bytes([203, 0, 113, random.randint(100, 250)])
    sport = random.randint(1024, 65535)
    tcp = struct.pack('!HHIIBBHHH', sport, port, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(src + d + struct.pack('!IxxxB', len(tcp), 6) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip6 = struct.pack('!IHBB', 6 << 28, len(tcp), 6, 64) + src + d
    try:
        s.send(eth + ip6 + tcp)
        sent += 1
    except OSError:
        pass
print(sent, flush=True)
`;

interface Status {
  clatIpv6: string;
  counters: Record<string, number>;
  inbound?: string;
  inboundFilter?: { how: string; drops?: number; countedAt?: string; problem?: string };
}

test('clatbar run --inbound: only what the laptop asked for comes in through the CLAT', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound', 'socat', 'traceroute', 'nft'] }))
    return;
  const cl = await buildClatLab('ib');
  t.after(() => cl.dispose());
  await startServers(cl);
  const { lab, laptop, router } = cl;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-inbound-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await startRouterResolver(cl, dir);
  const { etc, prefix: inPrivateEtc } = privateEtc(dir, 'nameserver 2001:db8:1::1\n');
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
  t.after(() =>
    assert.equal(
      readFileSync('/etc/resolv.conf', 'utf8'),
      hostResolv,
      "the machine's own resolv.conf is untouched",
    ),
  );
  const stateDir = join(dir, 'state');
  const sock = join(stateDir, 'engine.sock');

  // The attacker: an address inside the NAT64 prefix on the router (a local address wins over
  // the prefix's route to TAYGA, so replies, if any, come back to it).
  lab.exec(router, 'ip', ['-6', 'addr', 'add', `${FORGED_SRC}/128`, 'dev', 'lo']);
  const listener = lab.spawn(laptop, '/usr/bin/python3', [
    '-c',
    LISTENER,
    String(UDP_PORT),
    String(TCP_PORT),
  ]);
  let heard = '';
  listener.stdout?.on('data', (d: Buffer) => (heard += d.toString()));
  listener.stderr?.resume();
  await waitFor('the laptop listener', () => heard.includes('ready'));

  const start = async (args: string[]): Promise<ClatbarRun> => {
    const run = await startClatbarRun(cl, {
      args: ['--dns64', 'on', ...args],
      stateDir,
      privateEtc: inPrivateEtc,
      until: /DNS64 \(on\) on|DNS64 stub not started/,
    });
    assert.match(run.log(), /DNS64 \(on\) on 192\.0\.0\.4:53/, run.log());
    return run;
  };
  const status = (): Status =>
    (
      JSON.parse(
        nsh(lab, laptop, `echo '{"jsonrpc":"2.0","id":1,"method":"status"}' | socat - UNIX:${sock}`),
      ) as { result: Status }
    ).result;
  /** The filter's drops once the engine's background read has caught up with at least `min`. */
  const dropsAtLeast = async (min: number): Promise<number> => {
    let n = -1;
    await waitFor(`${min} inbound drops in the status`, () => {
      n = status().counters['drop.inbound-unsolicited'] ?? 0;
      return n >= min;
    });
    return n;
  };
  const attack = (kind: string, dst: string, port: number): string =>
    lab.exec(router, '/usr/bin/python3', ['-c', ATTACK, kind, FORGED_SRC, dst, String(port)]).trim();
  const tables = () => nsh(lab, laptop, 'nft list tables');
  const ownFlowsWork = () => {
    assert.match(nsh(lab, laptop, `timeout 20 ping -c 2 -W 5 ${SERVER_V4}`), /2 received/);
    const udp = nsh(lab, laptop, `echo own-udp | timeout 10 socat -t 3 - UDP4:${SERVER_V4}:7`);
    assert.equal(udp.trim(), 'own-udp');
    const tcp = nsh(lab, laptop, `echo own-tcp | timeout 10 socat -t 5 - TCP4:${SERVER_V4}:9000`);
    assert.match(tcp, /^[0-9a-f]{64} /, 'the TCP upload came back hashed');
  };

  let engine = await start([]);
  const clat = status().clatIpv6;
  assert.match(engine.log(), /inbound: deny/, engine.log());
  assert.equal(status().inbound, 'deny');
  assert.match(tables(), /table ip clatbar/);

  await t.test(
    'deny: unsolicited UDP from the link does not reach an IPv4 listener, and is counted',
    async () => {
      const before = await dropsAtLeast(0);
      assert.equal(attack('udp', clat, UDP_PORT), 'sent');
      // Counted means the five datagrams made it through the translator to the filter.
      const after = await dropsAtLeast(before + 5);
      assert.ok(after >= before + 5);
      assert.doesNotMatch(heard, /udp forged/, heard);
    },
  );

  await t.test('deny: an unsolicited TCP SYN gets no SYN-ACK', async () => {
    const before = await dropsAtLeast(0);
    assert.equal(attack('tcp', clat, TCP_PORT), 'timeout');
    await dropsAtLeast(before + 1);
    assert.doesNotMatch(heard, /tcp from/, heard);
  });

  await t.test(
    'deny: a DNS query through the CLAT gets no answer; the laptop asks its stub fine',
    async () => {
      const before = await dropsAtLeast(0);
      assert.equal(attack('dns', clat, 53), 'timeout');
      await dropsAtLeast(before + 1);
      assert.equal(
        nsh(lab, laptop, 'dig +short +time=3 AAAA v4only.example @192.0.0.4').trim(),
        '2001:db8:64::cb00:710a',
      );
    },
  );

  await t.test('the drops are in `clatbar status` under their own reason, with the mode in force', () => {
    const text = nsh(lab, laptop, `${process.execPath} ${CLATBAR} status --control-socket ${sock}`);
    assert.match(text, /inbound\s+deny: only replies to this host's own flows/);
    assert.match(text, /\d+\s+came in from the network through the CLAT unasked .*\(inbound-unsolicited\)/);
  });

  await t.test("the laptop's own TCP, UDP and ping work", () => ownFlowsWork());

  await t.test('traceroute from the laptop shows the hops (time exceeded is related)', () => {
    const { hops, text: tr } = tracerouteHops(lab, laptop, SERVER_V4);
    // The translator's own Time Exceeded (from 192.0.0.5) is related too, as are the routers'.
    assert.equal(hops[0], '192.0.0.5', tr);
    assert.ok(hops.includes('192.0.0.8'), tr);
    assert.ok(hops.includes(ROUTER_V4), tr);
    assert.equal(hops[hops.length - 1], SERVER_V4, tr);
  });

  await t.test("a Packet Too Big for the laptop's own flow still lowers its path MTU", (tt) => {
    lab.exec(router, 'ip', ['-6', 'route', 'replace', PREFIX, 'dev', 'nat64', 'mtu', '1400']);
    tt.after(() => lab.exec(router, 'ip', ['-6', 'route', 'replace', PREFIX, 'dev', 'nat64']));
    const ping = nsh(lab, laptop, `timeout 10 ping -c 2 -W 2 -M do -s 1400 ${SERVER_V4} 2>&1; true`);
    assert.match(ping, /Frag needed and DF set \(mtu = 1380\)/, ping);
    assert.match(nsh(lab, laptop, `ip route get ${SERVER_V4}`), /mtu 1380/);
  });

  await t.test(
    'a flood of 100,000 forged SYNs: memory bounded, conntrack not filled, own flows work',
    async (tt) => {
      const pid = engine.proc.pid!;
      const rssKb = () =>
        Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
      const laptopMac = JSON.parse(lab.exec(laptop, 'ip', ['-j', 'link', 'show', cl.uplink]))[0]
        .address as string;
      const routerMac = JSON.parse(lab.exec(router, 'ip', ['-j', 'link', 'show', 'r0']))[0].address as string;
      const before = await dropsAtLeast(0);
      const rss0 = rssKb();
      // SYNs the engine did not read in time are dropped by the kernel at the TUN's queue.
      const tunDropped = () =>
        (
          JSON.parse(lab.exec(laptop, 'ip', ['-j', '-s', 'link', 'show', 'clat0'])) as Array<{
            stats64: { tx: { dropped: number } };
          }>
        )[0].stats64.tx.dropped;
      const queue0 = tunDropped();
      const flood = lab.spawn(router, '/usr/bin/python3', [
        '-c',
        SYN_FLOOD,
        'r0',
        laptopMac,
        routerMac,
        clat,
        String(TCP_PORT),
        '100000',
        PREFIX.split('/')[0],
      ]);
      let sent = '';
      flood.stdout?.on('data', (d: Buffer) => (sent += d.toString()));
      flood.stderr?.on('data', (d: Buffer) => (sent += d.toString()));
      const floodDone = new Promise((r) => flood.once('exit', r));
      // While it floods: the laptop's own UDP still gets its answer.
      // While it floods: the laptop's own UDP request, retried as resolvers and games do (the
      // flood fills the TUN's queue, which the laptop's replies share), and a TCP upload.
      const during = lab
        .exec(laptop, '/usr/bin/python3', ['-c', UDP_RETRY, SERVER_V4, '7', 'during'], { allowFail: true })
        .trim();
      const tcpDuring = nsh(
        lab,
        laptop,
        `echo own-tcp | timeout 20 socat -t 5 - TCP4:${SERVER_V4}:9000`,
        true,
      );
      const floodStillRunning = flood.exitCode === null;
      let peakKb = rssKb();
      while (flood.exitCode === null) {
        peakKb = Math.max(peakKb, rssKb());
        await new Promise((r) => setTimeout(r, 50));
      }
      await floodDone;
      peakKb = Math.max(peakKb, rssKb());
      const dropped = (await dropsAtLeast(before + 1)) - before;
      const atQueue = tunDropped() - queue0;
      const conntrack = Number(nsh(lab, laptop, 'cat /proc/sys/net/netfilter/nf_conntrack_count').trim());
      tt.diagnostic(
        `sent ${sent.trim()} SYNs; the filter dropped ${dropped}, the TUN's queue ${atQueue}; engine RSS ${rss0} kB -> peak ${peakKb} kB (+${peakKb - rss0} kB); ` +
          `conntrack entries after: ${conntrack}; own UDP during the flood: ${during || 'no answer'}; ` +
          `TCP upload during the flood: ${tcpDuring ? 'answered' : 'no answer'}; flood still running after both: ${floodStillRunning}`,
      );
      assert.equal(Number(sent.trim()), 100000, sent);
      assert.match(
        during,
        /^reply:during after \d+ (try|tries)$/,
        "the laptop's own UDP got its answer during the flood",
      );
      assert.match(tcpDuring, /^[0-9a-f]{64} /, "the laptop's own TCP upload during the flood");
      assert.ok(peakKb - rss0 <= 10 * 1024, `engine RSS grew by ${peakKb - rss0} kB`);
      // Dropped SYNs never confirm their conntrack entries: the table holds the laptop's own flows.
      assert.ok(conntrack < 1000, `conntrack holds ${conntrack} entries`);
      assert.ok(dropped > 0);
      assert.doesNotMatch(heard, /tcp from/, heard);
      ownFlowsWork();
    },
  );

  await t.test('SIGTERM: the table goes with the engine', async () => {
    engine.proc.kill('SIGTERM');
    assert.equal(await engine.exited, 0, engine.log());
    assert.doesNotMatch(tables(), /clatbar/);
  });

  await t.test(
    '--inbound allow: the UDP datagram gets through, the status says so, DNS still does not',
    async () => {
      engine = await start(['--inbound', 'allow']);
      const clat2 = status().clatIpv6;
      assert.equal(status().inbound, 'allow');
      assert.match(
        nsh(lab, laptop, `${process.execPath} ${CLATBAR} status --control-socket ${sock}`),
        /inbound\s+allow: anyone on the IPv6 network can reach IPv4 services/,
      );
      assert.equal(attack('udp', clat2, UDP_PORT), 'sent');
      await waitFor('the forged datagram at the listener', () => heard.includes('udp forged'));
      assert.match(heard, /udp forged\d from 203\.0\.113\.99/);
      assert.equal(attack('dns', clat2, 53), 'timeout');
      await dropsAtLeast(1);
      ownFlowsWork();
    },
  );

  await t.test('kill -9, then `run --cleanup`: no rule left behind', async () => {
    engine.proc.kill('SIGKILL');
    await engine.exited;
    assert.match(tables(), /table ip clatbar/, 'the table outlives a kill -9 until recovery');
    // With the same private /etc as the engine: the journal restores "/etc/resolv.conf", which
    // outside that mount is the machine's own.
    lab.exec(laptop, 'sh', [
      '-c',
      `${inPrivateEtc} ${process.execPath} ${CLATBAR} run --cleanup --state-dir ${stateDir}`,
    ]);
    assert.doesNotMatch(tables(), /clatbar/);
  });

  await t.test('kill -9, then the next start recovers first; its stop leaves no rule', async () => {
    engine = await start([]);
    engine.proc.kill('SIGKILL');
    await engine.exited;
    engine = await start([]);
    assert.match(engine.log(), /undone: nftables table ip clatbar/, engine.log());
    assert.equal((nsh(lab, laptop, 'nft list tables').match(/clatbar/g) ?? []).length, 1);
    engine.proc.kill('SIGTERM');
    assert.equal(await engine.exited, 0, engine.log());
    assert.doesNotMatch(tables(), /clatbar/);
    // The user's own resolv.conf copy is back too (recovery undid the DNS hook of the killed run).
    assert.equal(readFileSync(join(etc, 'resolv.conf'), 'utf8'), 'nameserver 2001:db8:1::1\n');
  });
});
