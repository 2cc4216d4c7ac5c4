// Benchmarks as data (issue 16): the committed docs/bench/*.json match the schema, README's
// measured-numbers region and docs/bench/chart.svg are exactly what the JSON generates, and the
// pieces that turn samples into ratios, goals and regression verdicts do what README says. Fast:
// no benchmark runs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, BENCH_ORDER, CHART_FILE, ROOT, goalMet, loadAll } from '../../bench/data/load.js';
import { currentSection, renderSection, rewrite, BEGIN, END } from '../../bench/data/readme.js';
import { renderChart } from '../../bench/data/chart.js';
import { compare } from '../../bench/data/compare.js';
import { figure } from '../../bench/data/write.js';
import { parseResults, SCHEMA_VERSION, type BenchResults } from '../../bench/data/schema.js';

test('every benchmark has a committed results file that matches the schema', () => {
  const results = loadAll();
  assert.deepEqual(
    results.map((r) => r.bench),
    BENCH_ORDER,
    'docs/bench/ should hold one NAME.json per benchmark: run sudo npm run bench',
  );
  for (const r of results) {
    assert.ok(r.load.start.length === 3 && r.load.end.length === 3, `${r.bench}: load average recorded`);
    for (const f of r.figures)
      for (const ref of f.refs)
        if (f.value !== null && ref.value !== null)
          assert.notEqual(
            ref.ratio,
            null,
            `${r.bench}/${f.id}: a ratio to ${ref.id} where both were measured`,
          );
  }
  const udp = results.find((r) => r.bench === 'clat')?.figures.find((f) => f.id === 'udp-iperf3');
  assert.deepEqual(
    udp?.refs.map((r) => r.id).filter((id) => id === 'native' || id === 'tayga'),
    ['tayga', 'native'],
    'the iperf3 64-byte UDP figure carries both the TAYGA ratio and the share of native IPv6',
  );
});

test("README's measured numbers are generated from docs/bench/*.json", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = currentSection(readme);
  assert.notEqual(section, null, `README.md needs the markers ${BEGIN} ... ${END}`);
  assert.equal(
    section,
    renderSection(loadAll()),
    'README.md and docs/bench/*.json disagree: run npm run bench:readme (never edit the region by hand)',
  );
});

test('docs/bench/chart.svg is drawn from docs/bench/*.json', async () => {
  const svg = readFileSync(join(BENCH_DIR, CHART_FILE), 'utf8');
  assert.equal(svg, await renderChart(loadAll()), 'the chart is stale: run npm run bench:chart');
  for (const who of ['clatbar', 'TAYGA as CLAT', 'native IPv6', 'unbound dns64, 1 thread'])
    assert.ok(svg.includes(who), `the chart shows ${who}`);
});

test('a ratio is the median of the per-round ratios, so each pair shares one round of machine load', () => {
  // Round 2 was slow for both (machine busy): the per-round ratio stays 2, a ratio of medians would not.
  const f = figure({
    id: 'x',
    label: 'x',
    unit: 'u',
    better: 'higher',
    rounds: [10, 2, 12],
    refs: [
      { id: 'tayga', name: 'T', rounds: [5, 1, 6] },
      { id: 'native', name: 'N', rounds: [] },
      { id: 'unbound', name: 'U', rounds: [4], value: 8 },
    ],
  });
  assert.equal(f.value, 10);
  assert.equal(f.refs[0].value, 5);
  assert.equal(f.refs[0].ratio, 2);
  assert.equal(f.refs[1].value, null);
  assert.equal(f.refs[1].ratio, null, 'a reference that was not measured has no ratio');
  assert.equal(f.refs[2].ratio, 10 / 8, 'a reference with its own summary: the ratio of the two values');
  const pooled = figure({ id: 'p', label: 'p', unit: 'ms', better: 'lower', rounds: [1, 3], value: 2.5 });
  assert.equal(pooled.value, 2.5, 'a pooled summary overrides the median');
});

test('goals: ratio goals read the named reference, value goals the figure; lower-is-better flips them', () => {
  const base = { unit: 'u', label: 'l', rounds: [], goals: [] };
  const hi = figure({
    ...base,
    id: 'a',
    better: 'higher',
    rounds: [6],
    refs: [{ id: 'tayga', name: 'T', rounds: [2] }],
  });
  assert.equal(goalMet(hi, { ref: 'tayga', ratio: 3, text: '' }), true);
  assert.equal(goalMet(hi, { ref: 'tayga', ratio: 3.1, text: '' }), false);
  assert.equal(goalMet(hi, { ref: 'native', ratio: 0.8, text: '' }), null, 'not measured');
  const lo = figure({ ...base, id: 'b', better: 'lower', rounds: [1200] });
  assert.equal(goalMet(lo, { value: 1000, text: '' }), false);
  assert.equal(goalMet(lo, { value: 1500, text: '' }), true);
});

function results(bench: string, figures: BenchResults['figures']): BenchResults {
  const t = '2026-12-04T00:00:00.000Z';
  return parseResults(
    JSON.stringify({
      schema: SCHEMA_VERSION,
      bench,
      title: 't',
      command: 'c',
      settings: {},
      machine: { cpuModel: 'c', cores: 2, memGiB: 1, kernel: 'k', os: 'o', node: 'v20' },
      commit: { sha: 'unknown', dirty: false },
      startedAt: t,
      finishedAt: t,
      load: { start: [1, 1, 1], end: [1, 1, 1], shared: false },
      figures,
    }),
    `${bench}.json`,
  );
}

test('compare judges ratios to the same-run reference, in the direction that is better for clatbar', () => {
  const fig = (id: string, better: 'higher' | 'lower', v: number, ref: number) =>
    figure({
      id,
      label: id,
      unit: 'u',
      better,
      rounds: [v],
      refs: [{ id: 'tayga', name: 'T', rounds: [ref] }],
    });
  const before = [
    results('clat', [fig('tcp', 'higher', 10, 1), fig('udp', 'higher', 3, 1), fig('ping', 'lower', 1, 1)]),
  ];
  // Everything twice as slow (another run, a busier machine): only the ratios count.
  const after = [
    results('clat', [
      fig('tcp', 'higher', 6.5, 0.5),
      fig('udp', 'higher', 1.05, 0.5),
      fig('ping', 'lower', 2.2, 2),
    ]),
  ];
  const c = compare(before, after, 0.2);
  const v = Object.fromEntries(c.changes.map((x) => [x.figure, x.verdict]));
  assert.deepEqual(v, { tcp: 'improvement', udp: 'regression', ping: 'steady' });
  const noRef = [
    results('translate', [figure({ id: 'x', label: 'x', unit: 'u', better: 'higher', rounds: [1] })]),
  ];
  const c2 = compare(noRef, noRef, 0.2);
  assert.equal(c2.changes.length, 0);
  assert.match(c2.unjudged[0], /absolute figures are not judged/);
});

test('a results file that does not match the schema is refused, naming the file and the fix', () => {
  assert.throws(() => parseResults('{', 'docs/bench/x.json'), /docs\/bench\/x\.json: not JSON.*rerun/);
  const bad = JSON.parse(
    JSON.stringify(
      results('clat', [figure({ id: 'x', label: 'x', unit: 'u', better: 'higher', rounds: [1] })]),
    ),
  );
  bad.figures[0].goals = [{ ratio: 3, text: '>= 3x' }];
  assert.throws(
    () => parseResults(JSON.stringify(bad), 'x.json'),
    /x\.json: .*names its reference[\s\S]*npm run bench/,
  );
  bad.figures[0].goals = [];
  bad.load.start = [1, 2];
  assert.throws(() => parseResults(JSON.stringify(bad), 'x.json'), /load/);
});

test('the README rewrite replaces only the region between the markers', () => {
  const readme = `# x\n\nbefore\n${BEGIN}\nold | 19.1 Gbit/s\n${END}\nafter\n`;
  const out = rewrite(readme, 'new');
  assert.equal(out, `# x\n\nbefore\n${BEGIN}\nnew\n${END}\nafter\n`);
  assert.equal(currentSection(out), 'new');
  assert.throws(() => rewrite('# no markers\n', 'new'), /put the lines[\s\S]*npm run bench:readme/);
});
