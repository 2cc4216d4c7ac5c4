// `clatbar logs` and `logs -f` against the real control server: the backlog, then new lines as
// they are written, Ctrl-C ends with 0, an engine that goes away ends with 1 and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatus } from '../helpers/control.js';
import { LogRing } from '../../src-main/engine/control/log-ring.js';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function follow(path: string) {
  const c = spawn(process.execPath, [clatbar, 'logs', '-f', '--control-socket', path]);
  let out = '';
  let err = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
  return { c, out: () => out, err: () => err, exited };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
}

test('logs: the backlog; logs -f: then each new line; Ctrl-C exits 0; the engine gone exits 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'engine.sock');
  const ring = new LogRing(() => {});
  const server = await serveStatus(path, () => ({ state: 'running' }), { ring });
  t.after(() => server.stop());
  ring.push('first line');
  ring.push('second line');

  const once = spawn(process.execPath, [clatbar, 'logs', '--since', '1', '--control-socket', path]);
  let onceOut = '';
  once.stdout.on('data', (d: Buffer) => (onceOut += d.toString()));
  assert.equal(await new Promise((r) => once.on('close', r)), 0);
  assert.match(onceOut, /^2 \S+ second line\n$/);

  const f = follow(path);
  await until('the backlog', () => f.out().includes('second line'));
  ring.push('third line');
  await until('the new line', () => f.out().includes('third line'));
  assert.deepEqual(
    f
      .out()
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(2).join(' ')),
    ['first line', 'second line', 'third line'],
  );
  f.c.kill('SIGINT');
  assert.equal(await f.exited, 0);

  const g = follow(path);
  await until('the backlog again', () => g.out().includes('third line'));
  await server.stop();
  assert.equal(await g.exited, 1);
  assert.match(g.err(), /the engine closed the connection/);
});
