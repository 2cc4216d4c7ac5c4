// `clatbar run --mtu 1280` on a 1500-byte link (a user who knows the path beyond is small):
// the TUN used to get MTU 1280, so the kernel refused to forward bigger IPv6 packets for the CLAT
// address into it and answers Packet Too Big instead, and the translator's ipv4Mtu
// (ipv6Mtu - 20) would have refused them too. A 1400-byte UDP reply from an IPv4 server (DF set,
// as Linux sends it) arrived on up0 and was lost; apps that do not retransmit (DNS over UDP, games,
// ping) never get it. Found by hand (tcpdump: "packet too big, mtu 1280" from the laptop).
// The IPv4 route MTU (--mtu - 28) is what keeps our own packets small; what comes in at link
// size should be taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../helpers/env.js';
import { buildClatLab, startServers, SERVER_V4, startClatbarRun } from '../helpers/clat-lab.js';

const UDP_SIZED = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[2])))
data = bytes((i * 7) & 255 for i in range(int(sys.argv[3])))
s.send(data)
try:
    print('same' if s.recv(70000) == data else 'different')
except socket.timeout:
    print('timeout')
`;

test('clatbar run --mtu 1280 on a 1500 link: a 1400-byte UDP reply still reaches the app', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'socat'] })) return;
  const cl = await buildClatLab('rm');
  t.after(() => cl.dispose());
  await startServers(cl, {});
  const { lab, laptop } = cl;
  const run = await startClatbarRun(cl, { args: ['--mtu', '1280'] });
  t.after(() => run.proc.kill('SIGTERM'));
  assert.match(run.log(), /MTU 1252 = IPv6 path MTU 1280 - 28/);
  for (const n of [1224, 1400]) {
    const r = lab.exec(laptop, '/usr/bin/python3', ['-c', UDP_SIZED, SERVER_V4, '7', String(n)]).trim();
    assert.equal(r, 'same', `${n}-byte UDP echo`);
  }
});
