// Replays Jool's 124 graybox SIIT cases (../shared/conformance) through `bin/clatbar translate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const runner = join(root, '..', 'shared', 'conformance', 'run-jool-siit.mjs');

test('Jool SIIT graybox suite: all 124 cases pass through clatbar translate', () => {
  assert.ok(
    existsSync(runner),
    `the conformance data is missing: expected ${runner} (the shared/ folder beside the repository)`,
  );
  const r = spawnSync(process.execPath, [runner], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  const lines = r.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  assert.equal(last, 'jool-siit: 124 passed, 0 failed', `runner output:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0);
});
