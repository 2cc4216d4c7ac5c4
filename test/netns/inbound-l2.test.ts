// The inbound filter's other door: a neighbour on the laptop's IPv6-only link that does not
// bother with the NAT64 prefix and sends plain IPv4 to 192.0.0.4, the CLAT's IPv4 address,
// straight to the laptop's uplink. Linux takes a packet for any of its addresses on any
// interface (the weak host model); with rp_filter 0 (the kernel's default, where no systemd
// sysctl file sets 2) it also answers ARP for 192.0.0.4 on the uplink. Replies go out through
// the CLAT to whatever IPv4 source the neighbour wrote (its own public address: a full TCP
// connection). Before the fix a UDP listener on 0.0.0.0 heard the neighbour with --inbound deny,
// and the DNS64 stub was asked its question.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  startRouterResolver,
  nsh,
  waitFor,
  privateEtc,
  startClatbarRun,
} from '../helpers/clat-lab.js';
import { callControl } from '../../src-main/engine/control/client.js';

const UDP_PORT = 4446;
/** The neighbour's own IPv4 address on the shared link (the link is IPv6-only otherwise). */
const NEIGHBOUR_V4 = '198.51.100.9';

const LISTENER = `
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', int(sys.argv[1])))
print('ready', flush=True)
while True:
    d, a = u.recvfrom(2048)
    print('udp ' + d.decode(errors='replace') + ' from ' + a[0], flush=True)
`;

// From the neighbour's IPv4 address: five UDP datagrams, or one DNS query (AAAA v4only.example).
const SEND = `
import socket, struct, sys
kind, dst, port, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
if kind == 'udp':
    for i in range(5):
        s.sendto(b'neighbour%d' % i, (dst, port))
else:
    q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b'\\x07v4only\\x07example\\x00' + struct.pack('!HH', 28, 1)
    s.sendto(q, (dst, port))
print('sent')
`;

interface Status {
  counters: Record<string, number>;
  dns64?: { queries?: number };
}

test('plain IPv4 from a neighbour on the uplink to the CLAT address reaches no listener and not the DNS64 stub', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'unbound', 'nft', 'python3', 'dig'] }))
    return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-inbound-l2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cl = await buildClatLab('il');
  t.after(() => cl.dispose());
  const { lab, laptop, router } = cl;
  // The laptop's resolver for the stub to forward to (v4only.example: an A record only).
  await startRouterResolver(cl, dir);
  const { prefix: inPrivateEtc } = privateEtc(dir, 'nameserver 2001:db8:1::1\n');
  // The kernel's default (a namespace's too): no reverse-path check.
  nsh(lab, laptop, 'sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0');
  nsh(lab, laptop, `sysctl -qw net.ipv4.conf.${cl.uplink}.rp_filter=0`);
  const listener = lab.spawn(laptop, '/usr/bin/python3', ['-c', LISTENER, String(UDP_PORT)]);
  t.after(() => listener.kill());
  let heard = '';
  listener.stdout?.on('data', (d: Buffer) => (heard += d.toString()));
  await waitFor('the laptop listener', () => heard.includes('ready'));
  const run = await startClatbarRun(cl, {
    args: ['--dns64', 'on'],
    stateDir: join(dir, 'state'),
    privateEtc: inPrivateEtc,
    until: /DNS64 \(on\) on|DNS64 stub not started/,
  });
  t.after(() => run.proc.kill('SIGTERM'));
  assert.match(run.log(), /DNS64 \(on\) on 192\.0\.0\.4:53/, run.log());
  await waitFor('the control socket', () => /status: clatbar status/.test(run.log()));
  const status = async () => (await callControl(run.sock, 'status')) as Status;

  // The neighbour: its IPv4 address on its side of the link, 192.0.0.4 on-link there (found by
  // ARP, which the laptop answers on its uplink).
  nsh(
    lab,
    router,
    `ip addr add ${NEIGHBOUR_V4}/32 dev r0 && ip route add 192.0.0.4/32 dev r0 src ${NEIGHBOUR_V4}`,
  );
  const send = (kind: 'udp' | 'dns', port: number) =>
    lab.exec(router, '/usr/bin/python3', ['-c', SEND, kind, '192.0.0.4', String(port), NEIGHBOUR_V4]).trim();
  const queriesBefore = (await status()).dns64?.queries ?? 0;
  assert.equal(send('udp', UDP_PORT), 'sent');
  assert.equal(send('dns', 53), 'sent');
  // Counted where the filter's other drops are, once the engine's background read catches up.
  let drops = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < 5000 && drops < 6) {
    drops = (await status()).counters['drop.inbound-unsolicited'] ?? 0;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.doesNotMatch(heard, /neighbour/, 'a datagram from the link reached the listener on 0.0.0.0');
  assert.equal(
    (await status()).dns64?.queries ?? 0,
    queriesBefore,
    'the DNS64 stub was asked by a neighbour',
  );
  assert.ok(drops >= 6, `${drops} packets counted as inbound-unsolicited`);
  // The laptop's own use of the address is untouched: its DNS64 stub still answers it.
  const own = nsh(lab, laptop, 'dig +short +time=3 +tries=1 AAAA v4only.example @192.0.0.4', true);
  assert.match(own, /^2001:db8:64::/, own);
});
