// A system bus that accepts the connection and then says nothing (a hung dbus-daemon, or a stale
// socket something else listens on): asking it whether systemd-resolved runs fails after the
// timeout with an error naming the fix, and leaves no socket open that would keep a stopped
// engine alive. The silent listener is another process, so its own sockets are not counted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvedOnBus } from '../../../src-main/engine/dns64/resolved-dbus.js';

const SILENT = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(5)
held = []
while True:
    held.append(s.accept()[0])
`;

test('a bus that never answers: an error with the fix, and no socket left open', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-hungbus-'));
  const path = join(dir, 'system_bus_socket');
  const silent = spawn('python3', ['-c', SILENT, path], { stdio: 'ignore' });
  t.after(() => {
    silent.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(existsSync(path), 'the silent listener is up');
  const old = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${path}`;
  t.after(() => {
    if (old === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = old;
  });
  const pipes = () => process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap').length;
  const before = pipes();
  await assert.rejects(resolvedOnBus(300), (err: Error) => {
    assert.match(err.message, /no answer from the system bus at unix:path=.* within 300 ms/);
    assert.match(err.message, /systemctl status dbus/);
    return true;
  });
  // The socket closes asynchronously; one left open stays open for good.
  for (let i = 0; i < 300 && pipes() > before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pipes(), before, JSON.stringify(process.getActiveResourcesInfo()));
});
