#!/usr/bin/env node
// `npm run bench [-- [--compare] [--threshold F] [--no-save] NAME...]`: compiles, then runs each
// benchmark under build/bench/ in turn (the order of BENCH_ORDER in bench/data/load.ts). Each
// prints its own table comparing clatbar with the reference (TAYGA, unbound, native IPv6, a veth
// pair) measured in the same run, and saves its figures as docs/bench/NAME.json
// (bench/data/schema.ts). Then the chart (docs/bench/chart.svg) is drawn and README's generated
// region rewritten from all the JSON.
// --compare: afterwards, names every ratio to the same-run reference that moved against clatbar by
// more than the threshold (default 20%) since the results the run replaced; exits 1 if any did.
// Needs root for the netns ones.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values, positionals: wanted } = parseArgs({
  allowPositionals: true,
  options: {
    compare: { type: 'boolean', default: false },
    threshold: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench [-- [--compare] [--threshold F] [--no-save] NAME...]
  NAME          run only the benchmarks whose name starts with NAME (translate, tun-echo, clat, udp-cost,
                dns64, netaware, app-click); default all. Each benchmark's own options: node build/bench/NAME.js --help
  --compare     after the run, compare each ratio (clatbar / the reference measured in the same
                run) with the results this run replaced; exit 1 if one moved against clatbar by
                more than the threshold. npm run bench:compare does the same against a commit.
  --threshold F the fraction for --compare (default 0.2 = 20%; the VM's absolute figures move by
                up to 2x between runs, the ratios far less)
  --no-save     print the tables only: docs/bench/, the chart and README stay as they are
Set CLATBAR_BENCH_SHARED=1 (and CLATBAR_BENCH_NOTE=TEXT) when other work shares the machine; the
results record it with the load average at start and end.`);
  process.exit(0);
}

const built = spawnSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const data = (m) => import(join(root, 'build/bench/data', m));
const { loadAll, BENCH_ORDER } = await data('load.js');
const cli = await data('cli.js');
const threshold = cli.threshold(values.threshold);
const before = values.compare ? loadAll() : [];

const dir = join(root, 'build/bench');
const all = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') && !f.startsWith('_')) : [];
const order = BENCH_ORDER.map((name) => `${name}.js`);
const benches = all
  .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
if (benches.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ') || '(none built)'}; have: ${all.join(', ')}`);
  process.exit(1);
}
const env = { ...process.env };
if (values['no-save']) delete env.CLATBAR_BENCH_OUT;
else env.CLATBAR_BENCH_OUT ??= 'docs/bench';
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, [join(dir, b)], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
if (env.CLATBAR_BENCH_OUT === 'docs/bench') {
  console.log(`\nchart: ${await cli.writeChart()}`);
  console.log(`README region rewritten: ${cli.writeReadme()}`);
}
if (values.compare) {
  const { compare, report } = await data('compare.js');
  const c = compare(before, loadAll(), threshold);
  console.log(`\n${report(c, threshold)}`);
  if (c.changes.some((x) => x.verdict === 'regression')) failed++;
}
process.exit(failed ? 1 : 0);
