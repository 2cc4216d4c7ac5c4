// The lab's record (src-main/engine/lab/state.ts): what `clatbar lab down` trusts, as root, to
// decide which processes to signal and which paths to remove. A record that root did not write,
// that others could have changed, that is not JSON or that names anything outside the lab's
// fixed paths is refused with the reason (down then works from the fixed names alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabLedger, LAB_NAMES, readState } from '../../src-main/engine/lab/state.js';
import { isRoot } from '../helpers/env.js';

test('lab state: a record root wrote reads back; planted, writable, malformed or out-of-bounds ones are refused', (t) => {
  if (!isRoot()) return t.skip('needs root: the record is trusted only when root owns it');
  const parent = mkdtempSync(join(tmpdir(), 'clatbar-labstate-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'lab');

  assert.deepEqual(readState(dir), { state: null });
  const ledger = LabLedger.create(true, dir);
  ledger.record((s) => {
    s.namespaces.push(LAB_NAMES.laptop);
    s.processes.push({ role: 'tayga', pid: 4242, startTime: '123' });
  });
  const back = readState(dir);
  assert.equal(back.problem, undefined);
  assert.deepEqual(back.state?.namespaces, [LAB_NAMES.laptop]);
  assert.deepEqual(back.state?.processes, [{ role: 'tayga', pid: 4242, startTime: '123' }]);
  assert.equal(back.state?.madeNetnsDir, true);
  assert.throws(() => LabLedger.create(true, dir), /EEXIST/, 'a second lab is refused');

  const file = join(dir, 'state.json');
  const valid = JSON.stringify(back.state);
  const refused = (content: string, why: RegExp) => {
    writeFileSync(file, content, { mode: 0o600 });
    const r = readState(dir);
    assert.equal(r.state, null);
    assert.match(r.problem ?? '', why);
  };
  refused('{', /not JSON/);
  refused(valid.replace('"paths":[]', '"paths":["/etc"]'), /ignoring .*state\.json/);
  refused(valid.replace('"clatbar-laptop"', '"other-ns"'), /ignoring/);
  refused(valid.replace('"pid":4242', '"pid":1'), /ignoring/);
  // A valid record that someone else could have written.
  writeFileSync(file, valid);
  chownSync(file, 65534, 65534);
  assert.match(readState(dir).problem ?? '', /owned by uid 65534, not root/);
  chownSync(file, 0, 0);
  chmodSync(dir, 0o777);
  assert.match(readState(dir).problem ?? '', /writable by group or others/);
  chmodSync(dir, 0o700);
  assert.equal(readState(dir).problem, undefined);
});
