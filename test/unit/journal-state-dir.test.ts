// --state-dir pointing at a file (or below one): the undo journal cannot live there. Before,
// the user got Node's bare "EEXIST: file already exists, mkdir '...'"; now the directory, the
// reason, that nothing was changed, and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src-main/engine/system/journal.js';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

test('Journal.create on a path that is a file, or below a file: a clear refusal naming --state-dir', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  for (const p of [file, join(file, 'below')]) {
    assert.throws(
      () => Journal.create(p),
      (e: Error) =>
        e.message.includes(`state directory ${p}`) &&
        /nothing was changed/.test(e.message) &&
        /--state-dir/.test(e.message) &&
        !/^E[A-Z]+:/.test(e.message),
    );
  }
  // A fresh directory still works.
  const j = Journal.create(join(dir, 'ok'));
  assert.equal(j.entries.length, 0);
});

test('undoing a sysctl of an interface that is gone (adapter unplugged) counts as done', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const j = Journal.create(dir);
  j.record('sysctl net/ipv6/conf/gone0/forwarding=1 (was 0)', {
    kind: 'sysctl',
    key: 'net/ipv6/conf/clatbar-gone0/forwarding',
    value: '0',
  });
  const outcomes = j.undoAll();
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true],
    JSON.stringify(outcomes),
  );
});

test('run --cleanup without root on a root-owned journal says to use sudo, not to undo by hand', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to make a root-owned journal and drop privileges');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  writeFileSync(
    join(dir, 'journal.json'),
    JSON.stringify({ version: 1, owner: { pid: 999999, startedAt: 'x' }, entries: [] }),
    { mode: 0o600 },
  );
  const r = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      clatbar,
      'run',
      '--cleanup',
      '--state-dir',
      dir,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /belongs to root; run this as root \(sudo\)/);
  assert.doesNotMatch(r.stderr, /undo by hand/);
});
