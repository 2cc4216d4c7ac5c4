#!/usr/bin/env node
// `npm run bench [-- NAME...]`: compiles, then runs each benchmark under build/bench/ in turn
// (translate, tun-echo, clat, dns64, netaware). Each prints its own table comparing clatbar with the
// reference (TAYGA, Unbound, a plain veth) measured in the same run. Needs root for the netns ones.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const wanted = process.argv.slice(2);

const built = spawnSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const dir = join(root, 'build/bench');
const all = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') && !f.startsWith('_')) : [];
const order = ['translate.js', 'tun-echo.js', 'clat.js', 'dns64.js', 'netaware.js'];
const benches = all
  .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
if (benches.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ') || '(none built)'}; have: ${all.join(', ')}`);
  process.exit(1);
}
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, [join(dir, b)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
