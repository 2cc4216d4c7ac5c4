// The engine's control server (ControlServer) and its one-shot client (callControl): a stop that
// no client can hold up, and a client that always settles, whatever answers on the socket.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { callControl, CallError as ControlError } from '../../src-main/engine/control/client.js';
import { serveStatus } from '../helpers/control.js';

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
