// `npm run soak -- --quick` inside `npm test` (issue 16): the whole soak at small counts, as its
// own process (it builds and removes its own pid-tagged namespaces), then its JSON read back.
// Every stage's verdict must be PASS, with the exceptions written down here (the project's rule
// for the explicit timings in tests: generous bounds; this machine is shared and loaded):
// the control stage's status p99, 50 ms in the soak's own verdict, is asserted at 500 ms (every
// call must still be answered: no error, no call without a reply within 3 s; the reasons are in
// the stage's summary, which the assertions print first); the DNS stage's 5 s answer bound at 15 s; everything else those stages check is asserted as is.
// The flap stage's RSS bound is printed, not asserted (see below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';

const MAIN = new URL('./main.js', import.meta.url).pathname;

interface Doc {
  ok: boolean;
  preset: string;
  stages: { stage: string; ok: boolean; summary: string; data: Record<string, unknown> }[];
}

test('soak --quick: every stage passes', { timeout: 240_000 }, async (t) => {
  if (!requires(t, { root: true, binaries: ['tayga', 'unbound', 'iperf3', 'nft', '/usr/bin/python3'] }))
    return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-soak-quick-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'quick.json');
  let log = '';
  const child = spawn(process.execPath, [MAIN, '--quick', '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const doc = JSON.parse(readFileSync(out, 'utf8')) as Doc;
  t.diagnostic(
    log
      .split('\n')
      .filter((l) => /^\S+ +(PASS|FAIL) /.test(l))
      .join('\n'),
  );
  assert.equal(doc.preset, 'quick');
  assert.deepEqual(
    doc.stages.map((s) => s.stage),
    ['translate', 'dns', 'kill9', 'flaps', 'control', 'traffic'],
  );
  for (const s of doc.stages) {
    if (s.stage === 'control') {
      assert.equal(s.data.alive, true, `control: the daemon died\n${log}`);
      assert.equal(s.data.failures, 0, `control: status calls failed: ${s.summary}\n${log}`);
      t.diagnostic(`control: ${s.summary}`);
      assert.ok(Number(s.data.p99Ms) < 500, `control: status p99 ${s.data.p99Ms} ms: ${s.summary}\n${log}`);
    } else if (s.stage === 'dns') {
      // The 5 s answer bound at a generous 15 s here (the stub and its clients share a loaded
      // machine); everything else as is.
      for (const k of ['unanswered', 'malformed', 'wrongAnswers', 'exceptions'])
        assert.equal(s.data[k], 0, `dns: ${k}\n${s.summary}\n${log}`);
      assert.equal(s.data.stillAnswers, true, `dns: ${s.summary}`);
      assert.equal(s.data.stoppedEarly, false, `dns: ${s.summary}`);
      assert.ok(Number(s.data.maxMs) < 15_000, `dns: slowest answer ${s.data.maxMs} ms`);
    } else if (s.stage === 'flaps') {
      // RSS is printed, not asserted here: test/netns/daemon.test.ts item 7 asserts the same
      // bound over 100 changes, measured the same way (after a full collection): one home for it.
      assert.deepEqual(s.data.problems, [], `flaps: ${s.summary}\n${log}`);
      assert.equal(s.data.complete, true, `flaps: ${s.summary}\n${log}`);
      t.diagnostic(`flaps RSS: ${JSON.stringify(s.data.rssProblems)}`);
    } else assert.ok(s.ok, `${s.stage}: ${s.summary}\n${log}`);
  }
  const lenient = doc.stages.filter((s) => ['control', 'flaps', 'dns'].includes(s.stage) && !s.ok);
  assert.ok(code === 0 || (code === 1 && lenient.length > 0), `exit ${code}\n${log}`);
});
