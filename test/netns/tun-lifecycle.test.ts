// TUN device lifecycle: closing while busy, fd leaks over 1000 open/close cycles, EAGAIN retry
// queue and drain, multi-queue and persistent devices, the device vanishing underneath us, and
// errors that say what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Lab, labNamespace } from '../helpers/netns.js';
import { TunDevice, type HeldBatch } from '../../src-main/engine/native/tun.js';
import { isSysError, type SysError } from '../../src-main/engine/native/native.js';
import { nodeIn, parseIp, put16, superPacket, swapInPlace } from './tun-packets.js';

const need = { root: true, tun: true };

function fds(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '(gone)'; // the fd readdir itself used
    }
  });
}
const tunFds = () => fds().filter((l) => l === '/dev/net/tun').length;

/** A UDP sender in `ns` that floods 192.0.2.2 until killed, ignoring send errors. */
function flood(lab: Lab, ns: string) {
  return nodeIn(
    lab,
    ns,
    `const s = require('dgram').createSocket('udp4'); s.on('error', () => {});
     const m = Buffer.alloc(200);
     const go = () => { for (let i = 0; i < 200; i++) s.send(m, 9000, '192.0.2.2', () => {}); setImmediate(go); };
     s.bind(0, '192.0.2.1', go);`,
  );
}

function udpPacket(): Uint8Array {
  const sp = superPacket('udp', '192.0.2.2', '192.0.2.1', new Uint8Array(100), 1000);
  put16(sp.packet, 26, 0); // UDP over IPv4 without a checksum (RFC 768): a complete packet
  return sp.packet;
}

test('closing while packets stream in, from inside the callback and from outside', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'busy');
  if (!setup) return;
  const { lab, ns } = setup;
  const baseline = tunFds();

  // 1. close() from inside the packet callback, mid-stream, while echoing; with read coalescing,
  // so under the flood the callback runs from the coalescing timer too.
  const a = TunDevice.open({ name: 'tunbusy0', netns: ns, up: true, batchSize: 8, rxCoalesceUs: 200 });
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunbusy0']);
  const sender = flood(lab, ns);
  sender.done.catch(() => {}); // killed at the end
  let batches = 0;
  let afterClose = 0;
  await new Promise<void>((resolve) => {
    a.onPackets((b) => {
      if (a.closed) afterClose++;
      for (let i = 0; i < b.count; i++) {
        const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
        if (parseIp(p).proto === 17) swapInPlace(p);
      }
      a.writeBatch(b.buffer, b.offsets, b.lengths, b.count);
      if (++batches === 50) {
        a.close();
        assert.throws(() => a.writeBatch(b.buffer, b.offsets, b.lengths, b.count), { code: 'EBADF' });
        setTimeout(resolve, 200); // let any stray event fire
      }
    });
  });
  assert.equal(afterClose, 0, 'no callback after close');
  assert.equal(a.closed, true);
  assert.equal(a.close(), 0, 'second close is a no-op');
  assert.equal(tunFds(), baseline);

  // 2. close() from outside while a batch is held and writes are queued behind EAGAIN.
  const b = TunDevice.open({ name: 'tunbusy1', netns: ns, up: true, faultEagainEvery: 1 });
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunbusy1']);
  let held: HeldBatch | undefined;
  await new Promise<void>((resolve) => {
    b.onPackets((batch) => {
      if (held) return;
      held = batch.hold();
      resolve();
    });
  });
  const pkt = udpPacket();
  for (let i = 0; i < 10; i++) assert.equal(b.write(pkt), true);
  assert.ok(b.stats().writeQueuePackets >= 10, 'writes queued behind EAGAIN');
  await new Promise((r) => setImmediate(r));
  assert.equal(b.close() >= 10, true, 'close reports the dropped queue');
  // The held batch's memory stays valid; releasing after close is harmless.
  assert.ok(held!.count > 0 && held!.buffer.byteLength > 0);
  held!.release();
  sender.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(tunFds(), baseline);
  assert.equal(lab.exec(ns, 'ip', ['-o', 'link', 'show', 'type', 'tun']).trim(), '', 'devices gone');
});

test('1000 open/close cycles leave the fd count unchanged', (t) => {
  const setup = labNamespace(t, need, 'tun', 'leak');
  if (!setup) return;
  const { lab, ns } = setup;
  const before = fds().length;
  for (let i = 0; i < 1000; i++) {
    const d = TunDevice.open({
      name: 'tunleak0',
      netns: ns,
      offloads: i % 2 ? 'all' : undefined,
      up: i % 3 === 0,
      rxCoalesceUs: i % 4 === 0 ? 100 : undefined, // with its timerfd
      rxUring: i % 5 === 0, // with its io_uring ring
    });
    if (i % 10 === 0) d.onPackets(() => {}); // with a poll handle too
    d.close();
  }
  // Failed opens must not leak either: a name that exists as a non-TUN device.
  lab.exec(ns, 'ip', ['link', 'add', 'vleak0', 'type', 'veth', 'peer', 'name', 'vleak1']);
  for (let i = 0; i < 100; i++)
    assert.throws(() => TunDevice.open({ name: 'vleak0', netns: ns }), { code: 'EINVAL' });
  assert.equal(fds().length, before);
});

test('EAGAIN: packets are queued, written when the fd is writable, and drain is reported', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'again');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({
    name: 'tunagain0',
    netns: ns,
    up: true,
    faultEagainEvery: 3,
    writeQueueBytes: 100 * 130,
  });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunagain0']);
  // Count what the kernel really receives: the datagrams go to a listening UDP socket.
  // Few enough that the receiver's default socket buffer holds them all.
  const n = 150;
  const rx = nodeIn(
    lab,
    ns,
    `const s = require('dgram').createSocket('udp4'); let got = 0;
     s.on('message', () => { if (++got === ${n}) { console.log('got', got); process.exit(0); } });
     s.bind(5201, '192.0.2.1', () => console.log('ready'));
     setTimeout(() => { console.log('got', got); process.exit(1); }, 10000);`,
  );
  await new Promise<void>((r) => rx.child.stdout!.on('data', (d: Buffer) => d.includes('ready') && r()));
  const pkt = udpPacket();
  // n copies of the packet back to back, one writeBatch at a time until all are taken.
  const stride = pkt.length;
  const buf = new Uint8Array(stride * n);
  const offsets = new Uint32Array(n);
  const lengths = new Uint32Array(n).fill(pkt.length);
  for (let i = 0; i < n; i++) {
    buf.set(pkt, i * stride);
    offsets[i] = i * stride;
  }
  let drains = 0;
  dev.onDrain(() => drains++);
  // Waiting for one drain at a time removes each one-shot listener, and removed ones stay quiet.
  let removedCalls = 0;
  dev.onDrain(() => removedCalls++)();
  let taken = dev.writeBatch(buf, offsets, lengths, n);
  assert.ok(taken < n, `the bounded queue refuses the excess (took ${taken})`);
  assert.ok(dev.stats().writeQueuePackets > 0);
  while (taken < n) {
    await new Promise<void>((r) => {
      const off = dev.onDrain(() => {
        off();
        r();
      });
    });
    taken += dev.writeBatch(buf, offsets, lengths, n - taken, taken);
  }
  assert.match(await rx.done, new RegExp(`got ${n}`));
  const s = dev.stats();
  assert.equal(s.txPackets, n);
  assert.ok(s.txEagain > 0 && s.txQueued > 0 && drains > 0, JSON.stringify(s));
  assert.equal(removedCalls, 0);
  assert.equal(s.writeQueuePackets, 0);
});

test('multi-queue and persistent devices: attach, detach, flags that must match', (t) => {
  const setup = labNamespace(t, need, 'tun', 'mq');
  if (!setup) return;
  const { lab, ns } = setup;
  const q1 = TunDevice.open({ name: 'tunmq0', netns: ns, multiQueue: true, offloads: 'all' });
  const q2 = TunDevice.open({ name: 'tunmq0', netns: ns, multiQueue: true, offloads: 'all' });
  assert.equal(q1.ifindex, q2.ifindex);
  assert.equal(q1.multiQueue, true);
  q1.close();
  assert.match(lab.exec(ns, 'ip', ['link', 'show', 'tunmq0']), /tunmq0/, 'the other queue keeps the device');
  assert.throws(
    () => TunDevice.open({ name: 'tunmq0', netns: ns }),
    (e: SysError) => e.code === 'EINVAL' && /multi_queue/.test(e.message) && e.syscall === 'ioctl(TUNSETIFF)',
  );
  q2.close();
  assert.equal(lab.exec(ns, 'ip', ['link', 'show', 'tunmq0'], { allowFail: true }), '');

  lab.exec(ns, 'ip', ['tuntap', 'add', 'dev', 'tunpers0', 'mode', 'tun', 'vnet_hdr']);
  const p = TunDevice.open({ name: 'tunpers0', netns: ns, vnetHdr: true, mtu: 1280 });
  assert.equal(p.mtu, 1280);
  p.close();
  assert.match(lab.exec(ns, 'ip', ['link', 'show', 'tunpers0']), /mtu 1280/, 'persistent device stays');
});

test('a device deleted underneath an open fd is reported once, then closes cleanly', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'gone');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tungone0', netns: ns, up: true });
  const errors: SysError[] = [];
  dev.onError((e) => errors.push(e));
  dev.onPackets(() => {});
  lab.exec(ns, 'ip', ['link', 'del', 'tungone0']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('; '));
  assert.equal(errors[0].code, 'EBADFD');
  assert.match(errors[0].message, /deleted or detached/);
  assert.throws(() => dev.setMtu(1400), { code: 'ENODEV' });
  dev.close();
});

/**
 * What an unprivileged user (uid/gid 65534) gets from TunDevice.open when /dev/net/tun has file
 * mode `mode`. The machine's own node is never touched (its mode differs between machines: 0666
 * on most distributions, 0600 on a fresh Debian, and other tests use it): a private mount
 * namespace gets a fresh node (same major/minor, 10:200) on a private tmpfs, bind-mounted over
 * /dev/net/tun there only.
 */
async function openAsNobody(mode: string, dir: string): Promise<{ code: string; message: string }> {
  const script = `import('${new URL('../../src-main/engine/native/tun.js', import.meta.url).href}').then(({ TunDevice }) => {
      try { TunDevice.open({ name: 'tunperm0' }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, message: e.message })); }
    });`;
  const sh =
    `mount -t tmpfs -o mode=0755 clatbar-tun "${dir}" && mknod -m ${mode} "${dir}/tun" c 10 200 && ` +
    `mount --bind "${dir}/tun" /dev/net/tun && ` +
    `exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "${process.execPath}" --input-type=module -e "$0"`;
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', sh, script]);
    let s = '';
    c.stdout.on('data', (d: Buffer) => (s += d.toString()));
    c.stderr.on('data', (d: Buffer) => (s += d.toString()));
    c.on('exit', () => resolve(s));
    c.on('error', reject);
  });
  try {
    return JSON.parse(out) as { code: string; message: string };
  } catch {
    throw new Error(`no error report from the unprivileged open: ${out}`);
  }
}

test('errors carry the errno name and say what to do', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'err');
  if (!setup) return;
  const { ns } = setup;
  const dir = mkdtempSync(join(tmpdir(), `clatbar-tunnode-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // A node this user may open (mode 0666): TUNSETIFF itself needs CAP_NET_ADMIN.
  const perm = await openAsNobody('0666', dir);
  assert.equal(perm.code, 'EPERM', JSON.stringify(perm));
  assert.match(perm.message, /ioctl\(TUNSETIFF\) failed with EPERM .*needs root or CAP_NET_ADMIN/);
  // A node only root may open (mode 0600, as on a fresh Debian): the open fails first, and the
  // advice is about the file mode, which CAP_NET_ADMIN would not get past.
  const acces = await openAsNobody('0600', dir);
  assert.equal(acces.code, 'EACCES', JSON.stringify(acces));
  assert.match(acces.message, /open\(\/dev\/net\/tun\) failed with EACCES/);
  assert.match(acces.message, /file mode .* run the engine as root, or give the node mode 0666/);
  assert.doesNotMatch(acces.message, /CAP_NET_ADMIN \(|needs root or CAP_NET_ADMIN/);

  assert.throws(
    () => TunDevice.open({ name: 'x', netns: 'tun-no-such-namespace' }),
    (err: unknown) => {
      return isSysError(err) && err.code === 'ENOENT' && /no such network namespace/.test(err.message);
    },
  );
  assert.throws(() => TunDevice.open({ name: 'a-name-far-too-long' }), RangeError);
  assert.throws(
    () => TunDevice.open({ name: 'tunmtu0', netns: ns, mtu: 10 }),
    (err: unknown) => {
      return isSysError(err) && err.code === 'EINVAL' && /MTU out of range/.test(err.message);
    },
  );
  assert.equal(fds().filter((l) => l === '/dev/net/tun').length, 0, 'failed opens close their fds');
});

test('backpressure: with every slot held, reading stops; releasing resumes it', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'bp');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tunbp0', netns: ns, up: true, slots: 4, batchSize: 2 });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunbp0']);
  const sender = flood(lab, ns);
  sender.done.catch(() => {});
  t.after(() => sender.child.kill('SIGKILL'));
  const held: HeldBatch[] = [];
  let calls = 0;
  const full = new Promise<void>((resolve) =>
    dev.onPackets((b) => {
      calls++;
      held.push(b.hold());
      if (held.reduce((n, h) => n + h.count, 0) === 4) resolve();
    }),
  );
  await full;
  await new Promise((r) => setTimeout(r, 300));
  const stalled = dev.stats();
  assert.equal(stalled.freeSlots, 0);
  assert.equal(stalled.rxPackets, 4, 'nothing read while no slot is free');
  assert.equal(calls, held.length);
  // Held packets are intact and distinct slots.
  const offs = new Set(held.flatMap((h) => [...h.offsets]));
  assert.equal(offs.size, 4);
  for (const o of offs) assert.ok(o % dev.slotSize >= dev.headroom, 'headroom in front of every packet');
  held.shift()!.release();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(dev.stats().rxPackets > 4, 'reading resumed after release');
});
