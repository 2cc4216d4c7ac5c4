// The small helpers the native addon adds beside TUN: SO_PEERCRED on a Unix socket, and a raw
// ICMPv6 socket that receives Router Advertisements (PREF64, RFC 8781) and sends solicitations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../helpers/netns.js';
import { requires } from '../helpers/env.js';
import { peerCred } from '../../src-main/engine/native/peercred.js';
import { RaSocket, type RouterAdvertisement } from '../../src-main/engine/discovery/ra-socket.js';
import { runAsync } from './tun-packets.js';

test('peerCred reports the uid, gid and pid of the process at the other end', async (t) => {
  if (!requires(t, { root: true })) return; // to run the client as another user
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-peercred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const path = join(dir, 'sock');
  const conn = new Promise<Socket>((resolve) => {
    const srv = createServer((s) => {
      srv.close();
      resolve(s);
    });
    srv.listen(path, () => chmodSync(path, 0o777));
  });
  await new Promise((r) => setTimeout(r, 50));
  const child = spawn(
    process.execPath,
    ['-e', `const c = require('net').connect(${JSON.stringify(path)}); c.on('data', () => process.exit(0));`],
    { uid: 65534, gid: 65534, stdio: 'ignore' },
  );
  const exited = new Promise((r) => child.on('exit', r));
  const sock = await conn;
  const cred = peerCred(sock);
  assert.deepEqual(cred, { pid: child.pid, uid: 65534, gid: 65534 });
  sock.end('bye');
  await exited;
  const file = openSync('/dev/null', 'r');
  t.after(() => closeSync(file));
  assert.throws(
    () => peerCred(file),
    (e: NodeJS.ErrnoException) => e.code === 'ENOTSOCK' && /Unix-domain/.test(e.message),
  );
});

/** Python, not our own socket, sends the RAs: a raw ICMPv6 socket with the hop limit we choose. */
const sendRa = (hops: number, hex: string) => `
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'vra1')
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ${hops})
idx = socket.if_nametoindex('vra1')
for i in range(50):
    try:
        s.sendto(bytes.fromhex('${hex}'), ('ff02::1', 0, 0, idx)); break
    except OSError:
        time.sleep(0.1)  # link-local address not there yet
`;

function ra(options: string): string {
  // type 134, code 0, checksum (kernel), hop limit 64, flags 0, router lifetime 1800, timers 0
  return '8600000040000708' + '00000000' + '00000000' + options;
}
// RFC 8781 §4: type 38, length 2, scaled lifetime 75 (600 s) << 3 | PLC 0 (/96), 64:ff9b::
const pref64wkp = '2602' + ((75 << 3) | 0).toString(16).padStart(4, '0') + '0064ff9b0000000000000000';
// 2001:db8:64::/48 (PLC 3), lifetime 0 (withdrawn)
const pref64doc = '2602' + ((0 << 3) | 3).toString(16).padStart(4, '0') + '20010db80064000000000000';

test('raw ICMPv6 socket receives router advertisements with PREF64 and sends solicitations', async (t) => {
  if (!requires(t, { root: true, binaries: ['python3'] })) return;
  const lab = new Lab('tun');
  t.after(() => lab.dispose());
  const host = lab.ns('rah');
  const router = lab.ns('rar');
  for (const ns of [host, router]) lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0']);
  // A router: forwarding makes its link join all-routers (ff02::2), where solicitations go.
  lab.exec(router, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  lab.veth(host, 'vra0', router, 'vra1');

  const sock = RaSocket.open({ ifname: 'vra0', netns: host });
  t.after(() => sock.close());
  const got: RouterAdvertisement[] = [];
  const first = new Promise<void>((resolve) =>
    sock.onMessage((m) => {
      got.push(m);
      resolve();
    }),
  );
  // Forwarded (hop limit 64) first: must be dropped (RFC 4861 §6.1.2). Then a valid one.
  await runAsync(lab, router, 'python3', ['-c', sendRa(64, ra(pref64wkp))]).done;
  await runAsync(lab, router, 'python3', ['-c', sendRa(255, ra(pref64wkp + pref64doc))]).done;
  await first;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(got.length, 1, 'only the valid RA is delivered');
  assert.equal(sock.invalid, 1);
  const m = got[0];
  assert.match(m.source, /^fe80:/);
  assert.equal(m.ifindex, sock.ifindex);
  assert.equal(m.routerLifetime, 1800);
  assert.deepEqual(
    m.pref64.map((p) => [p.prefix, p.len, p.lifetime]),
    [
      ['64:ff9b::/96', 96, 600],
      ['2001:db8:64::/48', 48, 0],
    ],
  );

  // A router solicitation from us reaches the router's link.
  const listener = runAsync(lab, router, 'python3', [
    '-c',
    `
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'vra1')
s.settimeout(5)
print('ready', flush=True)
while True:
    data, addr = s.recvfrom(1500)
    if data[0] == 133:
        print('rs', addr[0], data[1], flush=True); break
`,
  ]);
  await new Promise<void>((r) =>
    listener.child.stdout!.on('data', (d: Buffer) => d.includes('ready') && r()),
  );
  sock.solicit();
  const out = await listener.done;
  assert.match(out, /rs fe80:\S+ 0/);
});
