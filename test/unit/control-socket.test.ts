// The engine's control server (ControlServer) and its one-shot client (callControl): a stop that
// no client can hold up, and a client that always settles, whatever answers on the socket.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { callControl, CallError as ControlError } from '../../src-main/engine/control/client.js';
import { serveStatus } from '../helpers/control.js';
import { requires } from '../helpers/env.js';

function tmpSocket(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'engine.sock');
}

/** A raw server that answers each connection with `reply` (or nothing), for the client tests. */
async function rawServer(t: TestContext, path: string, reply: string | null): Promise<void> {
  const conns = new Set<Socket>();
  const server = createServer((c) => {
    conns.add(c);
    c.on('error', () => {});
    if (reply !== null) c.write(reply);
  });
  server.listen(path);
  await once(server, 'listening');
  t.after(() => {
    for (const c of conns) c.destroy();
    server.close();
  });
}

test(
  'ControlServer: stop() ends even while clients hold their connections open',
  { timeout: 10_000 },
  async (t) => {
    const path = tmpSocket(t);
    const server = await serveStatus(path, () => ({ ok: true }));
    assert.deepEqual(await callControl(path, 'status'), { ok: true });
    // Two clients: one idle since connecting, one that asked and keeps the line open.
    const idle = connect(path);
    const asked = connect(path);
    for (const c of [idle, asked]) c.on('error', () => {});
    await Promise.all([once(idle, 'connect'), once(asked, 'connect')]);
    asked.write('{"jsonrpc":"2.0","id":7,"method":"status"}\n');
    await once(asked, 'data');
    const closed = Promise.all([once(idle, 'close'), once(asked, 'close')]);
    await server.stop();
    await closed;
    await server.stop(); // twice is fine
    await assert.rejects(
      callControl(path, 'status'),
      (e: unknown) => e instanceof ControlError && e.kind === 'unreachable',
    );
  },
);

test('callControl: a reply that is not JSON rejects (no uncaught exception)', async (t) => {
  const path = tmpSocket(t);
  await rawServer(t, path, 'SSH-2.0-OpenSSH_9.2\r\n');
  await assert.rejects(callControl(path, 'status'), (e: unknown) => {
    assert.ok(e instanceof ControlError);
    assert.equal(e.kind, 'garbage');
    assert.match(e.message, /is not JSON/);
    return true;
  });
});

test('callControl: JSON that is not JSON-RPC 2.0, and a JSON-RPC error', async (t) => {
  const a = tmpSocket(t);
  await rawServer(t, a, '[1,2,3]\n');
  await assert.rejects(callControl(a, 'status'), /not JSON-RPC 2\.0/);
  const b = tmpSocket(t);
  const server = await serveStatus(b, () => ({}));
  t.after(() => server.stop());
  await assert.rejects(
    callControl(b, 'nope'),
    (e: unknown) => e instanceof ControlError && e.kind === 'refused' && /method not found/.test(e.message),
  );
});

test('callControl: a peer that never answers times out', async (t) => {
  const path = tmpSocket(t);
  await rawServer(t, path, null);
  await assert.rejects(callControl(path, 'status', undefined, { timeoutMs: 200 }), (e: unknown) => {
    assert.ok(e instanceof ControlError);
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /no reply to "status" .* within 200 ms/);
    return true;
  });
});

test('callControl: a peer that hangs up without a line rejects', async (t) => {
  const path = tmpSocket(t);
  const server = createServer((c) => c.end('{"jsonrpc":"2.0"'));
  server.listen(path);
  await once(server, 'listening');
  t.after(() => server.close());
  await assert.rejects(callControl(path, 'status'), /closed the connection without a reply/);
});

test('a socket path in a directory another user can change is refused before anything is made, bound or removed there', async (t) => {
  if (!requires(t, { root: true })) return;
  const base = mkdtempSync(join(tmpdir(), 'clatbar-ctl-'));
  chmodSync(base, 0o755);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  // The victim: a running engine's socket in a root-only directory.
  const safe = join(base, 'safe');
  mkdirSync(safe, { mode: 0o755 });
  const victim = join(safe, 'engine.sock');
  const running = await serveStatus(victim, () => ({ victim: true }));
  t.after(() => running.stop());

  // A world-writable directory (not sticky): anyone could swap what is in it.
  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await assert.rejects(
    serveStatus(join(open, 'sub', 'engine.sock'), () => ({})),
    /the control socket .*open\/sub\/engine\.sock is not safe: .*open is writable by every user.*Nothing was changed/,
  );
  assert.equal(existsSync(join(open, 'sub')), false, 'no directory made in it');

  // A directory of another user (nobody) holding a symlink to the victim's directory: the path
  // resolves to a live engine's socket; a swap later could point it anywhere. Refused, and the
  // victim is untouched (libuv would unlink the path when a server on it closes).
  const theirs = join(base, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  symlinkSync(safe, join(theirs, 'link'));
  lchownSync(join(theirs, 'link'), 65534, 65534);
  chownSync(theirs, 65534, 65534);
  await assert.rejects(
    serveStatus(join(theirs, 'link', 'engine.sock'), () => ({})),
    /is not safe: .*theirs\/link is a symbolic link that belongs to uid 65534, not root/,
  );
  assert.ok(lstatSync(victim).isSocket());
  assert.deepEqual(await callControl(victim, 'status'), { victim: true });

  // A symlink owned by root to a root-only directory is fine: the engine binds the real path.
  const rootLink = join(base, 'rootlink');
  symlinkSync(safe, rootLink);
  const other = await serveStatus(join(rootLink, 'other.sock'), () => ({ other: true }));
  t.after(() => other.stop());
  assert.ok(lstatSync(join(safe, 'other.sock')).isSocket());
  assert.deepEqual(await callControl(join(safe, 'other.sock'), 'status'), { other: true });
});
