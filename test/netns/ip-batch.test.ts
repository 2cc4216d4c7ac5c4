// clat/host.ts ipBatch: several `ip` changes as one `ip -batch -`, every undo journaled first.
// Run inside a namespace of its own (the engine code acts on the namespace it runs in): a batch
// that works leaves its changes and their journal entries; one whose later line fails leaves
// nothing, neither the lines before it nor journal entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../helpers/netns.js';

const HOST = new URL('../../src-main/engine/clat/host.js', import.meta.url).href;
const JOURNAL = new URL('../../src-main/engine/system/journal.js', import.meta.url).href;

/** Runs ipBatch on these steps inside ns; returns the error (if any) and the journal's entries. */
function batch(
  lab: Lab,
  ns: string,
  stateDir: string,
  steps: unknown[],
): { error?: string; entries: string[] } {
  const script = `
    const { ipBatch } = await import(${JSON.stringify(HOST)});
    const { Journal } = await import(${JSON.stringify(JOURNAL)});
    const j = Journal.create(${JSON.stringify(stateDir)});
    let error;
    try { await ipBatch(j, ${JSON.stringify(steps)}); } catch (e) { error = e.message; }
    console.log(JSON.stringify({ error, entries: j.entries.map((e) => e.what) }));`;
  return JSON.parse(lab.exec(ns, process.execPath, ['--input-type=module', '-e', script]).trim()) as {
    error?: string;
    entries: string[];
  };
}

const addr = (a: string) => ({
  what: `address ${a}`,
  argv: ['ip', 'addr', 'add', a, 'dev', 'lo'],
  undo: ['ip', 'addr', 'del', a, 'dev', 'lo'],
});

test('ip -batch: all lines made and journaled; a failing line leaves nothing behind', (t) => {
  const lab = new Lab('ib');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-ipbatch-'));
  t.after(async () => {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const ns = lab.ns('a');
  const addrs = () => lab.exec(ns, 'ip', ['-o', 'addr', 'show', 'dev', 'lo']);

  const ok = batch(lab, ns, join(dir, 'ok'), [addr('192.0.2.1/32'), addr('2001:db8::1/128')]);
  assert.equal(ok.error, undefined);
  assert.deepEqual(ok.entries, ['address 192.0.2.1/32', 'address 2001:db8::1/128']);
  assert.match(addrs(), /192\.0\.2\.1\/32/);
  assert.match(addrs(), /2001:db8::1\/128/);

  // The second line fails (a route to a device that is not there); the third never runs, and
  // its undo must not run either: 192.0.2.1 (made above, same text) stays.
  const failing = batch(lab, ns, join(dir, 'fail'), [
    addr('192.0.2.2/32'),
    {
      what: 'route into a missing device',
      argv: ['ip', 'route', 'add', '2001:db8:9::/64', 'dev', 'nosuch0'],
      undo: ['ip', '-6', 'route', 'del', '2001:db8:9::/64', 'dev', 'nosuch0'],
    },
    addr('192.0.2.1/32'),
  ]);
  assert.match(failing.error ?? '', /ip -batch -.*failed/);
  assert.deepEqual(failing.entries, [], 'nothing left in the journal');
  assert.doesNotMatch(addrs(), /192\.0\.2\.2/, 'the line before the failing one was undone');
  assert.match(addrs(), /192\.0\.2\.1\/32/, 'a line that never ran was not undone');

  // Not an ip command line a batch can carry, or an undo the journal refuses: refused before
  // anything is made, and the journal holds none of the batch's steps.
  const refused = batch(lab, ns, join(dir, 'refused'), [
    { what: 'with an option', argv: ['ip', '-6', 'addr', 'add', '2001:db8::2/128', 'dev', 'lo'], undo: [] },
  ]);
  assert.match(refused.error ?? '', /not an ip command for a batch/);
  assert.deepEqual(refused.entries, []);
  const badUndo = batch(lab, ns, join(dir, 'bad-undo'), [
    addr('192.0.2.3/32'),
    {
      what: 'odd undo',
      argv: ['ip', 'addr', 'add', '192.0.2.4/32', 'dev', 'lo'],
      undo: ['ip', 'link', 'set', 'lo', 'down'],
    },
  ]);
  assert.match(badUndo.error ?? '', /is not a command clatbar runs to undo/);
  assert.deepEqual(badUndo.entries, []);
  assert.doesNotMatch(addrs(), /2001:db8::2|192\.0\.2\.[34]/);
});
