// The undo journal survives a crash: a child process journals changes and is killed with
// SIGKILL mid-run; a later process replays the journal and the host is as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Journal } from '../../src-main/engine/system/journal.js';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';

const journalModule = pathToFileURL(
  fileURLToPath(new URL('../../src-main/engine/system/journal.js', import.meta.url)),
).href;

/** Runs `body` in a child Node process that holds a Journal, then SIGKILLs it once it says "ready". */
async function crashAfter(
  stateDir: string,
  body: string,
  netns?: string,
  restorable: string[] = [],
): Promise<void> {
  const script = `
    import { Journal } from ${JSON.stringify(journalModule)};
    import { writeFileSync } from 'node:fs';
    const j = Journal.create(${JSON.stringify(stateDir)}, { restorable: ${JSON.stringify(restorable)} });
    ${body}
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const cmd = netns ? 'ip' : process.execPath;
  const args = [
    ...(netns ? ['netns', 'exec', netns, process.execPath] : []),
    '--input-type=module',
    '-e',
    script,
  ];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('recover() undoes file changes of a SIGKILLed process, newest first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const existing = join(dir, 'existing.conf');
  const created = join(dir, 'created.conf');
  writeFileSync(existing, 'original\n');
  await crashAfter(
    join(dir, 'state'),
    `
    await j.apply('rewrite existing', { kind: 'restore-file', path: ${JSON.stringify(existing)}, content: 'original\\n' },
      () => writeFileSync(${JSON.stringify(existing)}, 'changed once\\n'));
    await j.apply('rewrite existing again', { kind: 'restore-file', path: ${JSON.stringify(existing)}, content: 'changed once\\n' },
      () => writeFileSync(${JSON.stringify(existing)}, 'changed twice\\n'));
    await j.apply('create file', { kind: 'restore-file', path: ${JSON.stringify(created)}, content: null },
      () => writeFileSync(${JSON.stringify(created)}, 'new\\n'));
    `,
    undefined,
    [existing, created],
  );
  assert.equal(readFileSync(existing, 'utf8'), 'changed twice\n');
  assert.ok(existsSync(created));
  const left = Journal.leftover(join(dir, 'state'), { restorable: [existing, created] });
  assert.equal(left?.entries.length, 3);

  const lines: string[] = [];
  const outcomes = await Journal.recover(join(dir, 'state'), (l) => lines.push(l.text), {
    restorable: [existing, created],
  });
  assert.deepEqual(
    outcomes.map((o) => [o.what, o.ok]),
    [
      ['create file', true],
      ['rewrite existing again', true],
      ['rewrite existing', true],
    ],
  );
  assert.equal(readFileSync(existing, 'utf8'), 'original\n');
  assert.ok(!existsSync(created));
  assert.equal(Journal.leftover(join(dir, 'state')), null);
  assert.ok(lines[0].startsWith('recovering: undoing 3 change(s)'));
  // A second recovery finds nothing to do, and a new journal can start.
  assert.deepEqual(await Journal.recover(join(dir, 'state')), []);
  await Journal.create(join(dir, 'state')).undoAll();
});

test('undoEntry() undoes one change in the middle and keeps the others; a failed undo keeps its entry', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `${n}.conf`));
  const gone = join(dir, 'no-such-dir', 'x.conf');
  const restorable = [a, b, c, gone];
  const stateDir = join(dir, 'state');
  const j = Journal.create(stateDir, { restorable });
  for (const f of [a, b, c])
    await j.apply(`create ${f}`, { kind: 'restore-file', path: f, content: null }, () =>
      writeFileSync(f, 'x\n'),
    );
  assert.deepEqual(await j.undoEntry(`create ${b}`), { what: `create ${b}`, ok: true });
  assert.ok(existsSync(a) && !existsSync(b) && existsSync(c));
  // On disk as well: a crash now would undo only the two left.
  assert.deepEqual(
    Journal.leftover(stateDir, { restorable })?.entries.map((e) => e.what),
    [`create ${a}`, `create ${c}`],
  );
  assert.equal(await j.undoEntry(`create ${b}`), null, 'no entry of that name any more');
  // An undo that fails (its directory is gone) stays journaled, for stop or recovery to retry.
  j.record('restore x', { kind: 'restore-file', path: gone, content: 'old\n' });
  const failed = await j.undoEntry('restore x');
  assert.equal(failed?.ok, false);
  assert.equal(j.entries.length, 3);
  j.forgetLast();
  await j.undoAll();
  assert.ok(!existsSync(a) && !existsSync(c));
});

test('recover() refuses while the owning clatbar process is alive, not for a reused pid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A live process whose command line names clatbar owns the journal.
  const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'clatbar-test-owner']);
  t.after(() => owner.kill('SIGKILL'));
  await new Promise((r) => owner.once('spawn', r));
  const journal = (pid: number) =>
    writeFileSync(
      join(dir, 'journal.json'),
      JSON.stringify({ version: 1, owner: { pid, startedAt: 'x' }, entries: [] }),
    );
  journal(owner.pid!);
  await assert.rejects(Journal.recover(dir), new RegExp(`another clatbar engine \\(pid ${owner.pid}\\)`));
  // pid 1 is alive but is not clatbar: the pid was reused, the journal is an orphan.
  journal(1);
  assert.deepEqual(await Journal.recover(dir), []);
});

test('recover() undoes links, addresses, routes and sysctls of a SIGKILLed process in a netns', async (t) => {
  if (!requires(t, { root: true })) return;
  const lab = new Lab('jr');
  t.after(() => lab.dispose());
  const ns = lab.ns('host');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = () =>
    [
      lab.exec(ns, 'ip', ['-j', 'link', 'show']).replace(/"ifindex":\d+,/g, ''),
      lab.exec(ns, 'ip', ['-j', 'addr', 'show']).replace(/"ifindex":\d+,/g, ''),
      lab.exec(ns, 'ip', ['-j', '-6', 'route', 'show', 'table', 'all']),
      lab.exec(ns, 'sysctl', ['-n', 'net.ipv6.conf.all.forwarding']),
    ].join('\n');
  const before = state();
  await crashAfter(
    dir,
    `
    await j.exec('veth pair d0/d1', ['ip', 'link', 'add', 'd0', 'up', 'type', 'veth', 'peer', 'name', 'd1'], ['ip', 'link', 'del', 'd0']);
    await j.exec('address on d1', ['ip', 'addr', 'add', '192.0.0.4/29', 'dev', 'd1'], ['ip', 'addr', 'del', '192.0.0.4/29', 'dev', 'd1']);
    await j.exec('address on d0', ['ip', 'addr', 'add', '2001:db8:9::1/64', 'dev', 'd0', 'nodad'],
      ['ip', 'addr', 'del', '2001:db8:9::1/64', 'dev', 'd0']);
    await j.exec('route via d0', ['ip', '-6', 'route', 'add', '2001:db8:99::/64', 'dev', 'd0'],
      ['ip', '-6', 'route', 'del', '2001:db8:99::/64', 'dev', 'd0']);
    await j.setSysctl('net.ipv6.conf.all.forwarding', '1');
    `,
    ns,
  );
  assert.notEqual(state(), before, 'the child changed the namespace');
  const outcomes = JSON.parse(
    lab.exec(ns, process.execPath, [
      '--input-type=module',
      '-e',
      `import { Journal } from ${JSON.stringify(journalModule)};
       process.stdout.write(JSON.stringify(await Journal.recover(${JSON.stringify(dir)})));`,
    ]),
  ) as Array<{ what: string; ok: boolean }>;
  assert.equal(outcomes.length, 5);
  assert.ok(
    outcomes.every((o) => o.ok),
    JSON.stringify(outcomes),
  );
  assert.equal(state(), before);
});
