#!/usr/bin/env node
// The whole test suite, as CI runs it: build what tests need, lint, then every compiled
// `*.test.js` under build/test/ through Node's own runner (its summary lines are what CI reads).
//
// usage: npm test [-- SUITE...]   SUITE is a folder under test/ (unit, netns, conformance, ui)
//                                 or a substring of a test file's path.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (name.endsWith('.test.js')) yield p;
  }
}

run('npx', ['tsc', '-b']);
if (!process.env.CLATBAR_SKIP_LINT) run('npm', ['run', '--silent', 'lint']);

const files = [...walk(join(root, 'build/test'))].filter(
  (f) => filters.length === 0 || filters.some((s) => relative(join(root, 'build/test'), f).includes(s)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// One file at a time: the netns suites share the machine's kernel and the benchmarks' cores.
run(process.execPath, ['--test', '--test-concurrency=1', ...files]);
