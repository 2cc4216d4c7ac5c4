// Every built command's --help teaches: what it does, its options, and at least one command
// line to copy. `clatbar --help` itself ends with examples and the exit codes. Before,
// `clatbar translate --help` showed only a config file and `clatbar --help` no example at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));
const help = (args: string[]) => spawnSync(process.execPath, [clatbar, ...args], { encoding: 'utf8' });

for (const cmd of ['run', 'status', 'translate', 'dns64']) {
  test(`clatbar ${cmd} --help: usage, options and an example to copy`, () => {
    const r = help([cmd, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage: clatbar ${cmd}`, 'm'));
    assert.match(r.stdout, /^options:/m);
    assert.match(r.stdout, /^examples?\b/m);
    assert.match(r.stdout, new RegExp(`^ {2}(sudo )?clatbar ${cmd}( |$)`, 'm'), 'an example command line');
    assert.deepEqual(help(['help', cmd]).stdout, r.stdout, '`clatbar help CMD` says the same');
  });
}

test('clatbar --help: the commands, examples and the exit codes', () => {
  const r = help(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^examples:/m);
  assert.match(r.stdout, /^ {2}sudo clatbar run --uplink \S+/m);
  assert.match(r.stdout, /exit status: 0 success, 1 failure.*2 bad usage/);
});

test('a mistyped option is a usage error that names the option meant', () => {
  const cases: Array<[string[], string]> = [
    [['dns64', '--listen', '127.0.0.1:5353', '--upstreams', '::1'], '--upstream'],
    [['run', '--state_dir', '/tmp/x'], '--state-dir'],
    [['status', '--jsn'], '--json'],
    [['translate', '--confg', 'x.json'], '--config'],
  ];
  for (const [args, meant] of cases) {
    const r = help(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`did you mean ${meant}\\?`), args.join(' '));
  }
  const r = help(['status', '--bogus']);
  assert.equal(r.status, 2);
  assert.doesNotMatch(r.stderr, /did you mean/, 'no guess when nothing is near');
});
