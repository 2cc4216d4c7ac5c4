// Edge cases of the TUN addon found in review: packets larger than a slot, a ring detached from
// under the reader, an error listener closing the device mid-write, option getters running while
// the thread is in another namespace, argument types the native side must not trust, and errors
// for a missing TUN driver or a path that is not a network namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { Lab, labNamespace } from '../helpers/netns.js';
import { TunDevice, type HeldBatch } from '../../src-main/engine/native/tun.js';
import { RaSocket } from '../../src-main/engine/discovery/ra-socket.js';
import { isSysError, loadNative, type SysError } from '../../src-main/engine/native/native.js';
import { get16, nodeIn, parseIp } from './tun-packets.js';

const need = { root: true, tun: true };

/** Sends UDP datagrams of the given payload sizes from 192.0.2.1 to 192.0.2.2, in order. */
async function sendUdp(lab: Lab, ns: string, sizes: number[]): Promise<void> {
  await nodeIn(
    lab,
    ns,
    `const s = require('dgram').createSocket('udp4');
     const sizes = ${JSON.stringify(sizes)};
     s.bind(0, '192.0.2.1', () => {
       let left = sizes.length;
       for (const n of sizes) s.send(Buffer.alloc(n, 0x61), 9000, '192.0.2.2', () => { if (--left === 0) s.close(); });
     });`,
  ).done;
}

test('a packet larger than maxPacket is dropped and counted, never delivered cut short', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'trunc');
  if (!setup) return;
  const { lab, ns } = setup;
  // Slots for 1280-byte packets on a 1500-byte link: the kernel would hand over a 1428-byte
  // datagram cut to whatever fits, and say nothing about it.
  const dev = TunDevice.open({ name: 'tuntr0', netns: ns, mtu: 1500, up: true, maxPacket: 1280 });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tuntr0']);
  const udp: { len: number; ipLen: number }[] = [];
  // The small datagram is sent last: once it is in, everything before it has been read.
  const last = new Promise<void>((resolve) =>
    dev.onPackets((b) => {
      for (let i = 0; i < b.count; i++) {
        const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
        if (p[0] >> 4 !== 4 || parseIp(p).proto !== 17) continue;
        udp.push({ len: b.lengths[i], ipLen: get16(p, 2) });
        if (b.lengths[i] === 128) resolve();
      }
    }),
  );
  // 1252 + 28 = 1280 fits exactly; 1400 + 28 does not; 100 + 28 does.
  await sendUdp(lab, ns, [1252, 1400, 100]);
  await last;
  assert.deepEqual(
    udp.map((u) => u.len),
    [1280, 128],
  );
  for (const u of udp) assert.equal(u.len, u.ipLen, 'delivered length matches the IPv4 total length');
  assert.equal(dev.stats().rxTruncated, 1);
});

test('a detached ring stops reading with an error instead of being written into', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'detach');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tundet0', netns: ns, up: true, slots: 4, maxPacket: 1500 });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tundet0']);
  const errors: SysError[] = [];
  const failed = new Promise<void>((resolve) =>
    dev.onError((e) => {
      errors.push(e);
      resolve();
    }),
  );
  let batches = 0;
  dev.onPackets(() => batches++);
  // Transferring the ring moves its memory to another owner; the device must not write there.
  const ring = dev.buffer.buffer as ArrayBuffer;
  const moved = new Uint8Array(structuredClone(ring, { transfer: [ring] }));
  assert.equal(dev.buffer.byteLength, 0);
  await sendUdp(lab, ns, [100]);
  await failed;
  await new Promise((r) => setImmediate(r));
  assert.equal(batches, 0);
  assert.ok(
    moved.every((x) => x === 0),
    'nothing written into the transferred memory',
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /ring .*detached.*close the device/);
});

test('an error listener may close the device in the middle of writeBatch', (t) => {
  const setup = labNamespace(t, need, 'tun', 'wclose');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tunwc0', netns: ns, up: true });
  t.after(() => dev.close());
  const codes: string[] = [];
  // What the CLAT data path does: a device that went away is closed from its error listener.
  dev.onError((e) => {
    codes.push(e.code);
    dev.close();
  });
  lab.exec(ns, 'ip', ['link', 'del', 'tunwc0']);
  const buf = new Uint8Array(300);
  const taken = dev.writeBatch(buf, Uint32Array.of(0, 100, 200), Uint32Array.of(28, 28, 28));
  assert.deepEqual(codes, ['EBADFD']);
  assert.equal(taken, 1, 'the rejected packet was taken; the rest were not');
  assert.equal(dev.closed, true);
});

test('options are read before the thread enters the namespace', (t) => {
  const setup = labNamespace(t, need, 'tun', 'getter');
  if (!setup) return;
  const { ns } = setup;
  const Tun = loadNative().Tun!;
  const here = readlinkSync('/proc/thread-self/ns/net');
  const seen: string[] = [];
  // A getter is JS; if it ran while the main thread was in `ns`, anything it did (open a
  // socket, say) would land in the wrong namespace.
  const opts = {
    name: 'tunget0',
    netns: `/run/netns/${ns}`,
    get sndbuf() {
      seen.push(readlinkSync('/proc/thread-self/ns/net'));
      return 0;
    },
  };
  const dev = new Tun(opts);
  dev.close();
  assert.ok(seen.length > 0);
  assert.deepEqual(new Set(seen), new Set([here]));
});

test('writeBatch and release refuse offsets and lengths that are not Uint32Array', (t) => {
  const setup = labNamespace(t, need, 'tun', 'types');
  if (!setup) return;
  const { ns } = setup;
  const dev = TunDevice.open({ name: 'tunty0', netns: ns });
  t.after(() => dev.close());
  const Tun = loadNative().Tun!;
  const raw = new Tun({ name: 'tunty1', netns: `/run/netns/${ns}` });
  t.after(() => raw.close());
  const buf = new Uint8Array(64);
  // A Uint8Array of 4 elements read as 4 uint32 would run 12 bytes past its end.
  const bytes = new Uint8Array(4);
  assert.throws(
    () => raw.writeBatch(buf, bytes as unknown as Uint32Array, Uint32Array.of(1, 1, 1, 1), 0, 4),
    TypeError,
  );
  assert.throws(
    () => raw.writeBatch(buf, Uint32Array.of(0, 0, 0, 0), bytes as unknown as Uint32Array, 0, 4),
    TypeError,
  );
  assert.throws(() => raw.release(bytes as unknown as Uint32Array, 4), TypeError);
});

test('a missing TUN driver and a path that is no network namespace get errors that say so', (t) => {
  const setup = labNamespace(t, { ...need, binaries: ['unshare', 'mknod'] }, 'tun', 'nodrv');
  if (!setup) return;
  const { ns } = setup;
  // A kernel without the TUN driver: /dev/net/tun is a device node nothing answers (ENXIO).
  // Made in a private mount namespace, so the real node is untouched.
  const tunJs = new URL('../../src-main/engine/native/tun.js', import.meta.url).pathname;
  const script = `import(${JSON.stringify(tunJs)}).then(({ TunDevice }) => {
      try { TunDevice.open({ name: 'tunnd0' }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    });`;
  const r = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --make-rprivate / && d=$(mktemp -d) && mknod "$d/tun" c 240 250 && ' +
        'mount --bind "$d/tun" /dev/net/tun && exec "$0" --input-type=module -e "$1"',
      process.execPath,
      script,
    ],
    { encoding: 'utf8' },
  );
  const e = JSON.parse(r.stdout) as { code: string; message: string };
  assert.equal(e.code, 'ENXIO', r.stderr);
  assert.match(e.message, /no TUN driver.*modprobe tun/);
  assert.doesNotMatch(e.message, /interface does not exist/);

  // A namespace file of another kind: setns refuses it with EINVAL, which is no permission problem.
  const notNet = (err: unknown) =>
    isSysError(err) &&
    err.code === 'EINVAL' &&
    /not a network namespace/.test(err.message) &&
    !/root/.test(err.message);
  assert.throws(() => TunDevice.open({ name: 'tunnd1', netns: '/proc/self/ns/mnt' }), notNet);
  assert.throws(() => RaSocket.open({ ifname: 'lo', netns: '/proc/self/ns/mnt' }), notNet);
  assert.throws(
    () => RaSocket.open({ ifname: 'lo', netns: `${ns}-missing` }),
    (err: unknown) =>
      isSysError(err) && err.code === 'ENOENT' && /no such network namespace/.test(err.message),
  );
});

test('a multi-queue queue whose vnet header setting differs from the device is refused', (t) => {
  const setup = labNamespace(t, need, 'tun', 'mqvnet');
  if (!setup) return;
  const { lab, ns } = setup;
  // The kernel keeps the flags of the first queue for every later one whatever they ask for, so
  // a later queue that believed its own request would misread every packet by 10 bytes.
  for (const [first, second] of [
    [{ offloads: 'all' }, {}],
    [{}, { vnetHdr: true }],
  ] as const) {
    const q1 = TunDevice.open({ name: 'tunmqv0', netns: ns, multiQueue: true, ...first });
    assert.throws(
      () => TunDevice.open({ name: 'tunmqv0', netns: ns, multiQueue: true, ...second }),
      (e: unknown) => isSysError(e) && e.code === 'EINVAL' && /other queues .*vnet header/.test(e.message),
    );
    // The same settings attach fine.
    const q2 = TunDevice.open({ name: 'tunmqv0', netns: ns, multiQueue: true, ...first });
    assert.equal(q2.vnetHdrLen, q1.vnetHdrLen);
    q2.close();
    q1.close();
  }
  assert.equal(lab.exec(ns, 'ip', ['-o', 'link', 'show', 'type', 'tun']).trim(), '', 'no device left');
});

test('asking for TSO alone also gets the checksum offload it cannot work without', (t) => {
  const setup = labNamespace(t, need, 'tun', 'csum');
  if (!setup) return;
  const { ns } = setup;
  const dev = TunDevice.open({ name: 'tuncs0', netns: ns, offloads: ['tso4'] });
  t.after(() => dev.close());
  assert.equal(dev.vnetHdrLen, 10);
  assert.deepEqual(
    Object.entries(dev.offloads)
      .filter(([, on]) => on)
      .map(([k]) => k),
    ['csum', 'tso4'],
  );
});

test('a worker thread may exit with a device open, closed, or closing, without a crash or a leaked fd', (t) => {
  const setup = labNamespace(t, need, 'tun', 'worker');
  if (!setup) return;
  const { lab, ns } = setup;
  // libuv finishes closing a poll handle on a later loop turn; a worker's last turns run after
  // Node has unloaded the addon, so the handle's close callback must not be left pending then.
  // In a child process, because the failure is a segfault.
  const tunJs = new URL('../../src-main/engine/native/tun.js', import.meta.url).pathname;
  const raJs = new URL('../../src-main/engine/discovery/ra-socket.js', import.meta.url).pathname;
  const script = `
    const { Worker } = require('node:worker_threads');
    const fs = require('node:fs');
    const devFds = () => fs.readdirSync('/proc/self/fd').filter((f) => {
      try { return /^(\\/dev\\/net\\/tun|socket:|anon_inode:\\[timerfd\\]|anon_inode:\\[io_uring\\])/.test(fs.readlinkSync('/proc/self/fd/' + f)); } catch { return false; }
    }).length;
    const before = devFds();
    (async () => {
      for (const how of ['open', 'closed', 'open', 'closed']) {
        const w = new Worker(\`
          const { parentPort } = require('node:worker_threads');
          Promise.all([import(${JSON.stringify(tunJs)}), import(${JSON.stringify(raJs)})]).then(([{ TunDevice }, { RaSocket }]) => {
            const d = TunDevice.open({ name: 'tunwk0', netns: '/run/netns/${ns}', up: true, offloads: 'all', rxCoalesceUs: 100, rxUring: true });
            d.onPackets(() => {});
            const ra = RaSocket.open({ ifname: 'lo', netns: '/run/netns/${ns}' });
            ra.onMessage(() => {});
            if ('\${how}' === 'closed') { d.close(); ra.close(); }
            parentPort.postMessage('ready');
          });\`, { eval: true });
        await new Promise((r) => w.once('message', r));
        await w.terminate();
      }
      console.log(JSON.stringify({ before, after: devFds() }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, null, `worker teardown crashed the process (${r.signal}): ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  assert.equal(after, before, 'every device and socket fd closed with its worker');
  assert.equal(lab.exec(ns, 'ip', ['-o', 'link', 'show', 'type', 'tun']).trim(), '', 'no device left');
});

test('a worker terminated while packets flood into its device ends without an abort', (t) => {
  const setup = labNamespace(t, need, 'tun', 'wkflood');
  if (!setup) return;
  const { ns } = setup;
  // terminate() stops the worker's JS from another thread, possibly while the device's poll
  // callback is inside the packet handler: what is pending after that call is V8's termination,
  // and wrapping it in a node-addon-api Error aborted the process (about 1 in 100 terminations
  // here). Packets keep arriving so that a callback is running or due at every termination; the
  // point of termination moves a little each round. In a child process in the namespace, because
  // the failure is an abort.
  const tunJs = new URL('../../src-main/engine/native/tun.js', import.meta.url).pathname;
  const script = `
    const { Worker } = require('node:worker_threads');
    const { execFileSync } = require('node:child_process');
    const dgram = require('node:dgram');
    (async () => {
      const s = dgram.createSocket('udp4');
      for (let i = 0; i < 100; i++) {
        const w = new Worker(\`
          const { parentPort } = require('node:worker_threads');
          import(${JSON.stringify(tunJs)}).then(({ TunDevice }) => {
            const d = TunDevice.open({ name: 'tunfl0', up: true, rxCoalesceUs: 0, rxUring: true });
            d.onPackets(() => {});
            parentPort.postMessage('ready');
          });\`, { eval: true });
        await new Promise((r) => w.once('message', r));
        execFileSync('ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunfl0']);
        let flooding = true;
        const flood = () => {
          if (!flooding) return;
          for (let k = 0; k < 64; k++) s.send(Buffer.alloc(32), 9, '192.0.2.2', () => {});
          setImmediate(flood);
        };
        flood();
        await new Promise((r) => setTimeout(r, 5 + (i % 7) * 3));
        await w.terminate();
        flooding = false;
      }
      s.close();
      console.log('terminated 100 workers');
    })();`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.signal, null, `a worker's termination crashed the process (${r.signal}): ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /terminated 100 workers/);
});

test('MTU and up/down follow the device by ifindex, not by a name another interface can take', (t) => {
  const setup = labNamespace(t, need, 'tun', 'byidx');
  if (!setup) return;
  const { lab, ns } = setup;
  const dev = TunDevice.open({ name: 'tunix0', netns: ns });
  t.after(() => dev.close());
  // Renamed: the device is still ours.
  lab.exec(ns, 'ip', ['link', 'set', 'tunix0', 'name', 'tunix1']);
  dev.setMtu(1400);
  dev.setUp(true);
  assert.equal(dev.mtu, 1400);
  assert.equal(dev.isUp, true);
  assert.match(lab.exec(ns, 'ip', ['link', 'show', 'tunix1']), /mtu 1400/);
  // Deleted, and another interface takes the old name: it must not be touched.
  lab.exec(ns, 'ip', ['link', 'del', 'tunix1']);
  lab.exec(ns, 'ip', ['link', 'add', 'tunix1', 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'tunix2']);
  assert.throws(() => dev.setMtu(1300), { code: 'ENODEV' });
  assert.throws(() => dev.setUp(true), { code: 'ENODEV' });
  const other = lab.exec(ns, 'ip', ['link', 'show', 'tunix1']);
  assert.match(other, /mtu 1500/);
  assert.doesNotMatch(other, /[<,]UP[,>]/);
});

test('a batch held twice keeps its slots until both holds are released', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'hold2');
  if (!setup) return;
  const { lab, ns } = setup;
  // No IPv6 on the link: no kernel chatter, only the datagram sent below.
  lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const dev = TunDevice.open({ name: 'tunh20', netns: ns, up: true, slots: 4 });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunh20']);
  // Two consumers of one batch each hold it, say the translator and a capture.
  const holds = new Promise<HeldBatch[]>((resolve) => dev.onPackets((b) => resolve([b.hold(), b.hold()])));
  await sendUdp(lab, ns, [100]);
  const [first, second] = await holds;
  const held = first.count;
  assert.equal(dev.stats().freeSlots, 4 - held);
  first.release();
  assert.equal(dev.stats().freeSlots, 4 - held, 'still held by the second');
  first.release();
  assert.equal(dev.stats().freeSlots, 4 - held, 'releasing twice counts once');
  second.release();
  assert.equal(dev.stats().freeSlots, 4);
});

test('read coalescing: a flood is read in batches from the timer, all of it and in order; a lone packet after it still arrives; closing while the timer is armed is safe', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'coal');
  if (!setup) return;
  const { lab, ns } = setup;
  lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  // 5 ms between timer reads: far longer than a sender's gap between datagrams, so the flood
  // below is read by the timer, not once per wake-up.
  const dev = TunDevice.open({
    name: 'tunco0',
    netns: ns,
    up: true,
    rxCoalesceUs: 5000,
    slots: 512,
    batchSize: 256,
  });
  t.after(() => dev.close());
  lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunco0']);
  // Room for everything sent while the reader waits for its timer.
  lab.exec(ns, 'ip', ['link', 'set', 'tunco0', 'txqueuelen', '10000']);
  const seen: number[] = [];
  const batches: number[] = [];
  let waiting: { upTo: number; resolve: () => void } | null = null;
  let closeAfter = -1;
  let onClosed = () => {};
  dev.onPackets((b) => {
    batches.push(b.count);
    for (let i = 0; i < b.count; i++) {
      const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
      if (p[0] >> 4 !== 4 || parseIp(p).proto !== 17) continue;
      seen.push(Number(Buffer.from(p.subarray(28)).toString()));
    }
    if (closeAfter >= 0 && dev.stats().rxDeferred > closeAfter) {
      closeAfter = -1;
      setImmediate(() => {
        dev.close();
        onClosed();
      });
    }
    if (waiting && seen.length >= waiting.upTo) waiting.resolve();
  });
  const arrived = (upTo: number) => new Promise<void>((resolve) => (waiting = { upTo, resolve }));
  const send = (from: number, n: number) =>
    nodeIn(
      lab,
      ns,
      `const s = require('dgram').createSocket('udp4');
       s.bind(0, '192.0.2.1', () => {
         let left = ${n};
         for (let i = ${from}; i < ${from + n}; i++) s.send(String(i), 9000, '192.0.2.2', () => { if (--left === 0) s.close(); });
       });`,
    ).done;

  const n = 3000;
  const flood = arrived(n);
  await send(0, n);
  await flood;
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
    'every datagram, in order',
  );
  assert.ok(dev.stats().rxDeferred > 0, 'reads were left to the timer');
  assert.ok(batches.length < n, `batches: ${batches.length} for ${n} datagrams`);

  // Once the flood is over, a single datagram needs no further traffic to be read.
  const lone = arrived(n + 1);
  await send(n, 1);
  await lone;
  assert.equal(seen[n], n);

  // A second flood; once reads come from the timer, the device is closed right after a callback
  // returns, when the next timer read has just been armed.
  const deferredBefore = dev.stats().rxDeferred;
  closeAfter = deferredBefore;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  await send(n + 1, n);
  await closed;
  assert.ok(dev.closed);
  assert.ok(seen.length > n + 1, 'the second flood was being read');
});

/** What io_uring reads should do on this kernel: refused only where the sysctl turns it off. */
function uringAllowed(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';
  } catch {
    return true; // kernels before 6.6 have no such switch
  }
}

test('io_uring reads deliver a flood whole and in order, batch by batch, as read() does; small slots and packets too big for them are handled alike', async (t) => {
  const setup = labNamespace(t, need, 'tun', 'uring');
  if (!setup) return;
  const { lab, ns } = setup;
  lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const results: { uring: boolean; seen: number[]; batches: number; truncated: number }[] = [];
  for (const rxUring of [true, false]) {
    // 8-packet batches from 12 slots: every wake-up needs several rounds of reads, and the free
    // list runs out when JS holds a batch; 1280-byte slots so a big datagram is cut and dropped.
    const dev = TunDevice.open({
      name: 'tunur0',
      netns: ns,
      up: true,
      rxUring,
      slots: 12,
      batchSize: 8,
      maxPacket: 1280,
    });
    lab.exec(ns, 'ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'tunur0']);
    lab.exec(ns, 'ip', ['link', 'set', 'tunur0', 'txqueuelen', '10000']);
    const seen: number[] = [];
    let batches = 0;
    let held: HeldBatch | null = null;
    const done = new Promise<void>((resolve) =>
      dev.onPackets((b) => {
        batches++;
        // Every 10th batch stays lent until the next one: reads go on with fewer free slots.
        held?.release();
        held = batches % 10 === 0 ? b.hold() : null;
        for (let i = 0; i < b.count; i++) {
          const p = b.buffer.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
          if (p[0] >> 4 !== 4 || parseIp(p).proto !== 17) continue;
          const v = Number(
            Buffer.from(p.subarray(28, 28 + 8))
              .toString()
              .trim(),
          );
          seen.push(v);
          if (v === -1) resolve();
        }
      }),
    );
    // 2000 numbered datagrams, one of 1400 bytes in the middle (too big for a slot), then -1.
    await nodeIn(
      lab,
      ns,
      `const s = require('dgram').createSocket('udp4');
       const msgs = [];
       for (let i = 0; i < 2000; i++) msgs.push(i === 1000 ? Buffer.alloc(1400, 0x20) : Buffer.from(String(i).padEnd(8)));
       msgs.push(Buffer.from('-1'.padEnd(8)));
       s.bind(0, '192.0.2.1', () => {
         let left = msgs.length;
         for (const m of msgs) s.send(m, 9000, '192.0.2.2', () => { if (--left === 0) s.close(); });
       });`,
    ).done;
    await done;
    (held as HeldBatch | null)?.release();
    results.push({ uring: dev.rxUring, seen, batches, truncated: dev.stats().rxTruncated });
    assert.equal(dev.stats().freeSlots, 12, 'every slot back on the free list');
    dev.close();
  }
  const [uring, plain] = results;
  assert.equal(uring.uring, uringAllowed(), 'io_uring used wherever the kernel allows it');
  assert.equal(plain.uring, false);
  // The queue (10,000) holds the whole flood, so nothing is lost on the way: every datagram but
  // the one too big for a slot, each once, in the order sent.
  const expected = [...Array.from({ length: 2000 }, (_, i) => i).filter((i) => i !== 1000), -1];
  for (const r of [uring, plain]) {
    const how = r.uring ? 'io_uring' : 'read()';
    assert.deepEqual(r.seen, expected, `every datagram once, in order (${how})`);
    assert.equal(r.truncated, 1, `the datagram too big for a slot is dropped and counted (${how})`);
    assert.ok(r.batches > 1);
  }
});
