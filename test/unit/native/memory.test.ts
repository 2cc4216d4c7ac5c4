// releaseMemory (native/src/memory.cc): garbage of both kinds a network change leaves, V8 objects
// and malloc'd chunks, is back with the system after one call. Run in a child process of its own,
// so the test runner's heap does not blur the numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const wrapper = new URL('../../../src-main/engine/native/memory.js', import.meta.url).href;

/**
 * The child fills ~40 MB of old space with small objects and ~48 MB of the C heap with 16 KiB
 * ArrayBuffer backing stores (below glibc's mmap threshold), keeps one buffer allocated after them
 * (so the heap's top cannot shrink by itself), drops the rest and reads RSS before and after.
 * Nothing allocates between the readings, so nothing collects unless asked: without the call the
 * garbage stays; a plain full collection (`gc()`) keeps most of it (179 of 194 MB measured) and
 * V8's collection without the trim keeps the C heap's 48 MB (95 MB).
 */
function child(call: boolean): { before: number; garbage: number; after: number; trimmed: boolean | null } {
  const script = `
    const { releaseMemory } = await import(${JSON.stringify(wrapper)});
    const rss = () => process.memoryUsage.rss() / 1048576;
    releaseMemory();
    const before = rss();
    let junk = [];
    for (let i = 0; i < 400000; i++) junk.push({ i, s: 'garbage ' + i, a: [i] });
    for (let i = 0; i < 3000; i++) junk.push(new ArrayBuffer(16384));
    const keeper = new ArrayBuffer(1024);
    junk = null;
    const garbage = rss();
    const trimmed = ${call ? 'releaseMemory()' : 'null'};
    console.log(JSON.stringify({ before, garbage, after: rss(), trimmed, kept: keeper.byteLength }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: number; garbage: number; after: number; trimmed: boolean | null };
}

test('releaseMemory gives V8 garbage and freed C heap back: RSS within 15 MB of before the garbage', () => {
  const m = child(true);
  assert.ok(
    m.garbage - m.before > 80,
    `the garbage was resident (${m.before.toFixed(1)} -> ${m.garbage.toFixed(1)} MB)`,
  );
  assert.ok(
    m.after - m.before < 15,
    `RSS ${m.before.toFixed(1)} MB, with garbage ${m.garbage.toFixed(1)}, after releaseMemory ${m.after.toFixed(1)}`,
  );
  assert.equal(m.trimmed, true, 'malloc_trim gave pages back');
});

test('without the call the same garbage stays resident (the bound above needs it)', () => {
  const m = child(false);
  assert.ok(
    m.after - m.before > 80,
    `RSS ${m.before.toFixed(1)} MB, with garbage ${m.garbage.toFixed(1)}, later ${m.after.toFixed(1)}`,
  );
});
