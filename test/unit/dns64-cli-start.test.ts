// `clatbar dns64` as people start it: two --listen addresses (IPv6 and IPv4, same port), an IPv6
// upstream with a port ([::1]:PORT), bad flags (exit 2, the flag and the fix named), a port
// already taken over UDP or TCP and an address that is not on the host (exit 1, the fix named).
// Found by hand: a taken TCP port printed Node's bare "listen EADDRINUSE: address already in
// use", and a bad --prefix or --exclude did not say which flag was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import packet from 'dns-packet';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function start(args: string[]): { child: ChildProcess; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [clatbar, 'dns64', ...args]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, out: () => out, done };
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp6');
  await new Promise<void>((r) => s.bind(0, '::1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A minimal upstream on [::1]: A 192.0.2.7 for every name, no AAAA. */
async function fakeUpstream(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = dgram.createSocket('udp6');
  s.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const question = q.questions?.[0];
    const answers =
      question?.type === 'A'
        ? [{ type: 'A' as const, name: question.name, ttl: 300, data: '192.0.2.7' }]
        : [];
    const reply = packet.encode({
      type: 'response',
      id: q.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: q.questions,
      answers,
    });
    s.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '::1', r));
  return { port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

async function askAAAA(address: string, port: number, name: string): Promise<string[]> {
  const s = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  const q = packet.encode({
    type: 'query',
    id: 4711,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'AAAA', name }],
  });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      const reply = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 500);
        s.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        s.send(q, port, address);
      });
      if (reply) return (packet.decode(reply).answers ?? []).map((a) => ('data' in a ? String(a.data) : ''));
    }
    throw new Error(`no answer from ${address}:${port}`);
  } finally {
    s.close();
  }
}

test('two listeners ([::1] and 127.0.0.1, one port) and an IPv6 upstream with a port', async (t) => {
  const up = await fakeUpstream();
  t.after(() => up.close());
  const port = await freePort();
  const d = start([
    '--listen',
    `[::1]:${port}`,
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    `[::1]:${up.port}`,
    '--prefix',
    '2001:db8:64::/96',
  ]);
  t.after(() => d.child.kill('SIGKILL'));
  for (const addr of ['::1', '127.0.0.1']) {
    const answers = await askAAAA(addr, port, 'a-only.example');
    assert.deepEqual(answers, ['2001:db8:64::c000:207'], `via ${addr}`);
  }
  d.child.kill('SIGTERM');
  assert.equal(await d.done, 0);
  assert.match(d.out(), /listening on \[::1\]:\d+/);
  assert.match(d.out(), /asking \[::1\]:\d+/);
});

test('bad flags: exit 2 naming the flag and the fix', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--listen', '127.0.0.1:5353', '--upstream', '::1', '--prefix', '2001:db8::/95'],
      /--prefix 2001:db8::\/95: .*e\.g\. --prefix/,
    ],
    [
      ['--listen', '127.0.0.1:5353', '--upstream', '::1', '--exclude', 'foo'],
      /--exclude foo: .*e\.g\. --exclude/,
    ],
    [['--listen', '127.0.0.1', '--upstream', '::1'], /--listen 127\.0\.0\.1: give ADDR:PORT/],
    [['--listen', '127.0.0.1:5353', '--upstream', 'resolver.example'], /--upstream: /],
    [['--listen', '127.0.0.1:5353', '--upstream', '::1', '--mode', 'off'], /--mode is on or auto/],
    [['--listen', '127.0.0.1:5353', '--upstream', '::1', '--timeout', '0'], /--timeout wants a positive/],
    [['--upstream', '::1'], /--listen ADDR:PORT is required/],
  ];
  for (const [args, want] of cases) {
    const d = start(args);
    assert.equal(await d.done, 2, `${args.join(' ')}: ${d.out()}`);
    assert.match(d.out(), want);
    assert.match(d.out(), /Run `clatbar dns64 --help` for usage/);
  }
});

test('a port taken over UDP or over TCP, and an address not on this host: exit 1 with the fix', async (t) => {
  const udpPort = await freePort();
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(udpPort, '127.0.0.1', r));
  t.after(() => udp.close());
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  t.after(() => tcp.close());
  const tcpPort = (tcp.address() as net.AddressInfo).port;

  for (const port of [udpPort, tcpPort]) {
    const d = start(['--listen', `127.0.0.1:${port}`, '--upstream', '::1']);
    assert.equal(await d.done, 1, d.out());
    assert.match(
      d.out(),
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is taken .*Pick another --listen port`),
    );
    assert.doesNotMatch(d.out(), /^clatbar dns64: listen EADDRINUSE/m);
  }
  const d = start(['--listen', '[2001:db8::77]:5399', '--upstream', '::1']);
  assert.equal(await d.done, 1, d.out());
  assert.match(d.out(), /cannot listen on \[2001:db8::77\]:5399: that address is not on this host/);
});
