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
import { say } from '../../src-main/shared/say.js';

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
  ring.log(say('run.signal', { signal: 'first' }));
  ring.log(say('run.signal', { signal: 'second' }));

  const once = spawn(process.execPath, [clatbar, 'logs', '--after-seq', '1', '--control-socket', path]);
  let onceOut = '';
  once.stdout.on('data', (d: Buffer) => (onceOut += d.toString()));
  assert.equal(await new Promise((r) => once.on('close', r)), 0);
  assert.match(onceOut, /^2 \S+ second received\n$/);

  const f = follow(path);
  await until('the backlog', () => f.out().includes('second received'));
  ring.log(say('run.signal', { signal: 'third' }));
  await until('the new line', () => f.out().includes('third received'));
  assert.deepEqual(
    f
      .out()
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(2).join(' ')),
    ['first received', 'second received', 'third received'],
  );
  f.c.kill('SIGINT');
  assert.equal(await f.exited, 0);

  const g = follow(path);
  await until('the backlog again', () => g.out().includes('third received'));
  await server.stop();
  assert.equal(await g.exited, 1);
  assert.match(g.err(), /the engine closed the connection/);
});

test('logs --since TIME: a time ago or a date, as journalctl reads it; a bare number points at --after-seq', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'engine.sock');
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const lines = [
    { seq: 1, time: at(120), level: 'info', text: 'two hours ago' },
    { seq: 2, time: at(30), level: 'info', text: 'half an hour ago' },
    { seq: 3, time: at(5), level: 'info', text: 'five minutes ago' },
  ] as const;
  const server = await serveStatus(path, () => ({ state: 'running' }), {
    backend: { logs: (since = 0, limit = 500) => lines.filter((l) => l.seq > since).slice(-limit) },
  });
  t.after(() => server.stop());
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(process.execPath, [clatbar, 'logs', ...args, '--control-socket', path]);
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => resolve({ code, out, err }));
    });
  const texts = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ').slice(2).join(' '));
  assert.deepEqual(texts((await run(['--since', '1h'])).out), ['half an hour ago', 'five minutes ago']);
  assert.deepEqual(texts((await run(['--since', '10 min ago'])).out), ['five minutes ago']);
  assert.deepEqual(texts((await run(['--since', at(60)])).out), ['half an hour ago', 'five minutes ago']);
  assert.deepEqual(texts((await run(['--since', '3h', '--limit', '1'])).out), ['five minutes ago']);
  assert.deepEqual(texts((await run(['--since', '3h', '--after-seq', '2'])).out), ['five minutes ago']);
  assert.deepEqual(texts((await run(['--since', new Date(now + 60_000).toISOString()])).out), []);
  const bare = await run(['--since', '5']);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /'5' is not a time .*use --after-seq 5/);
  const bad = await run(['--since', 'last tuesday']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /'last tuesday' is not a time; use one of 10m, 2h/);
  const help = await run(['--help']);
  assert.match(help.out, /--since TIME .*journalctl/s);
  assert.match(help.out, /clatbar logs --since 10m/);
});
