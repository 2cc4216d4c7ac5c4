// `clatbar dns64` as a command: its help teaches, bad usage is exit 2 with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(new URL('../../../../', import.meta.url).pathname, 'bin/clatbar');
const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [bin, 'dns64', ...args], { encoding: 'utf8', timeout: 10000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('--help explains every flag, the modes and gives an example', () => {
  const r = run('--help');
  assert.equal(r.code, 0);
  for (const word of [
    '--listen',
    '--upstream',
    '--prefix',
    '--mode',
    'auto',
    'example',
    'SIGTERM',
    '64:ff9b::/96',
  ]) {
    assert.ok(r.out.includes(word), `help mentions ${word}`);
  }
});

test('usage errors name the problem and exit 2', () => {
  assert.match(run().err, /--listen ADDR:PORT is required/);
  assert.equal(run().code, 2);
  const bad = run('--listen', '127.0.0.1:5399', '--upstream', '127.0.0.1', '--prefix', '2001:db8::/33');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /32, 40, 48, 56, 64 or 96/);
  assert.match(run('--listen', '127.0.0.1', '--upstream', '127.0.0.1').err, /give ADDR:PORT/);
  assert.match(
    run('--listen', '127.0.0.1:5399', '--upstream', '127.0.0.1', '--mode', 'maybe').err,
    /on or auto/,
  );
  assert.match(run('--listen', '127.0.0.1:5399', '--bogus').err, /bogus/);
});
