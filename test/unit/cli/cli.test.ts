// The `clatbar` command as a user meets it: help, unknown words, exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../../bin/clatbar', import.meta.url));

function clatbar(...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--help lists every command with a summary and exits 0', () => {
  const r = clatbar('--help');
  assert.equal(r.code, 0);
  for (const name of ['run', 'status', 'enable', 'disable', 'diag', 'translate', 'dns64', 'lab']) {
    assert.match(r.out, new RegExp(`^  ${name} +\\S`, 'm'), `${name} is listed`);
  }
});

test('no command prints the overview on stdout and exits 2', () => {
  const r = clatbar();
  assert.equal(r.code, 2);
  assert.match(r.out, /usage: clatbar COMMAND/);
});

test('an unknown command names itself and points to --help, exit 2', () => {
  const r = clatbar('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'frobnicate'/);
  assert.match(r.err, /clatbar --help/);
});

test('`clatbar help COMMAND` and `clatbar COMMAND --help` print the same text', () => {
  const a = clatbar('help', 'translate');
  const b = clatbar('translate', '--help');
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.out, b.out);
  assert.match(a.out, /clatbar translate/);
});

test('--version prints the version', () => {
  const r = clatbar('--version');
  assert.equal(r.code, 0);
  assert.match(r.out, /^clatbar \d+\.\d+\.\d+\n$/);
});
