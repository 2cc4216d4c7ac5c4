// The undo journal is replayed as root, so it is a root script for whoever can write it. These
// are the attacks: a journal planted in a directory other users can write, a directory or file
// owned by someone else, a symlink, and entries the engine itself never writes (a shell, a cron
// file, a sysctl it never touches). Each is refused as a whole and nothing of it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal, undoRefusal, type UndoAction } from '../../src-main/engine/system/journal.js';
import { V6ONLY_UNDO } from '../../src-main/engine/daemon/v6only-preferred.js';

const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-jtrust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function plant(dir: string, entries: Array<{ what: string; undo: unknown }>): void {
  writeFileSync(
    join(dir, 'journal.json'),
    JSON.stringify({
      version: 1,
      owner: { pid: 999999, startedAt: 'x' },
      entries: entries.map((e) => ({ ...e, at: 'x' })),
    }),
    { mode: 0o600 },
  );
}

/** An undo step that would leave a mark if it ran. */
function shellMark(mark: string) {
  return { what: 'innocent', undo: { kind: 'exec', argv: ['/bin/sh', '-c', `touch ${mark}`] } };
}

test('run --cleanup refuses a journal planted in a world-writable directory, and runs nothing of it', (t) => {
  const dir = scratch(t);
  const state = join(dir, 'state');
  mkdirSync(state);
  chmodSync(state, 0o777);
  const mark = join(dir, 'ran');
  // Even a step the engine could have written: the directory alone makes the file untrusted.
  plant(state, [shellMark(mark), { what: 'tun', undo: { kind: 'exec', argv: ['ip', 'link', 'del', 'x0'] } }]);
  const r = spawnSync(process.execPath, [clatbar, 'run', '--cleanup', '--state-dir', state], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /not safe for the undo journal: .* writable by every user/);
  assert.match(r.stderr, /chown root:root .* chmod 0755/);
  assert.match(r.stderr, /Nothing was changed/);
  assert.equal(existsSync(mark), false, 'the planted command did not run');
  assert.equal(existsSync(join(state, 'journal.json')), true, 'the evidence is left for the admin');
});

test('a state directory writable by its group, or owned by another user, is refused too', async (t) => {
  const dir = scratch(t);
  const state = join(dir, 'g');
  mkdirSync(state, { mode: 0o775 });
  chmodSync(state, 0o775);
  plant(state, []);
  await assert.rejects(Journal.recover(state), /writable by its group/);
  assert.throws(() => Journal.create(state), /writable by its group/);
  if (process.getuid?.() === 0) {
    const other = join(dir, 'other');
    mkdirSync(other, { mode: 0o755 });
    chownSync(other, 65534, 65534);
    plant(other, []);
    await assert.rejects(Journal.recover(other), /belongs to uid 65534, not root/);
  }
});

test('a journal.json that is a symlink, or not ours, is refused', async (t) => {
  const dir = scratch(t);
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o755 });
  const target = join(dir, 'elsewhere.json');
  writeFileSync(target, JSON.stringify({ version: 1, owner: { pid: 999999, startedAt: 'x' }, entries: [] }));
  symlinkSync(target, join(state, 'journal.json'));
  await assert.rejects(Journal.recover(state), /symbolic link/);
  rmSync(join(state, 'journal.json'));
  plant(state, []);
  chmodSync(join(state, 'journal.json'), 0o666);
  await assert.rejects(Journal.recover(state), /not written by clatbar/);
});

test('entries the engine never writes are refused as a whole, in a trusted directory too', async (t) => {
  const dir = scratch(t);
  const mark = join(dir, 'ran');
  const bad: Array<[string, unknown]> = [
    ['a shell', shellMark(mark).undo],
    ['ip by path with another verb', { kind: 'exec', argv: ['ip', 'link', 'set', 'eth0', 'down'] }],
    ['an option smuggled as an interface', { kind: 'exec', argv: ['ip', 'link', 'del', '-all'] }],
    ['ln over another file', { kind: 'exec', argv: ['ln', '-sfn', '/tmp/x', '/etc/shadow'] }],
    ['node running another script', { kind: 'exec', argv: [process.execPath, '-e', 'require("fs")'] }],
    [
      'the option-108 undo with an option as the interface',
      { kind: 'exec', argv: [process.execPath, V6ONLY_UNDO, 'reset', '--all', '7d3e2a1c-55aa-4f3b'] },
    ],
    [
      'the option-108 undo with a bus that is no unix socket path',
      {
        kind: 'exec',
        argv: [process.execPath, V6ONLY_UNDO, 'reset', 'wlan0', '7d3e2a1c-55aa', '--bus', 'tcp:host=x'],
      },
    ],
    ['a cron file', { kind: 'restore-file', path: '/etc/cron.d/clatbar', content: '* * * * * root id\n' }],
    ['a sysctl it never touches', { kind: 'sysctl', key: 'kernel.core_pattern', value: '1' }],
    [
      'a sysctl path escaping /proc/sys',
      { kind: 'sysctl', key: 'net/ipv6/conf/../../../../etc/x/forwarding', value: '1' },
    ],
    ['a wrong type', { kind: 'sysctl', key: 'net.ipv6.conf.all.forwarding', value: 1 }],
    ['an unknown kind', { kind: 'eval', code: 'x' }],
  ];
  for (const [name, undo] of bad) {
    const state = join(dir, name.replace(/\W+/g, '-'));
    mkdirSync(state, { mode: 0o700 });
    // The bad step sits under a good one, so "refused as a whole" is what is tested.
    plant(state, [
      { what: 'good', undo: { kind: 'sysctl', key: 'net.ipv6.conf.all.forwarding', value: '0' } },
      { what: name, undo },
    ]);
    await assert.rejects(Journal.recover(state), /nothing of it was run/, name);
    assert.equal(existsSync(join(state, 'journal.json')), true, name);
  }
  assert.equal(existsSync(mark), false);
});

test('what the engine does write passes, and record() refuses anything else before any change', (t) => {
  const good: UndoAction[] = [
    { kind: 'exec', argv: ['ip', 'link', 'del', 'clat0'] },
    { kind: 'exec', argv: ['ip', 'addr', 'del', '192.0.0.4/29', 'dev', 'clat0'] },
    { kind: 'exec', argv: ['ip', '-6', 'route', 'del', '2001:db8:1::c1a7/128', 'dev', 'clat0'] },
    { kind: 'exec', argv: ['ip', '-6', 'neigh', 'del', 'proxy', '2001:db8:1::c1a7', 'dev', 'wlan0'] },
    { kind: 'exec', argv: ['ip', '-6', 'addr', 'del', '2001:db8:1::c1a7/128', 'dev', 'wlan0'] },
    { kind: 'exec', argv: ['ip', 'route', 'del', 'default', 'dev', 'clat0', 'metric', '2147483647'] },
    { kind: 'exec', argv: ['ln', '-sfn', '../run/systemd/resolve/stub-resolv.conf', '/etc/resolv.conf'] },
    { kind: 'restore-file', path: '/etc/resolv.conf', content: 'nameserver 192.0.2.53\n' },
    { kind: 'sysctl', key: 'net/ipv6/conf/wlan0/accept_ra', value: '1' },
    { kind: 'sysctl', key: 'net/ipv6/neigh/wlan0/proxy_delay', value: '80' },
    { kind: 'sysctl', key: 'net.ipv6.conf.all.forwarding', value: '0' },
    // An option-108 request through NetworkManager (engine/daemon/v6only-preferred.ts).
    {
      kind: 'exec',
      argv: [process.execPath, V6ONLY_UNDO, 'reset', 'wlan0', '7d3e2a1c-55aa-4f3b-9c1d-0123456789ab'],
    },
    {
      kind: 'exec',
      argv: [
        process.execPath,
        V6ONLY_UNDO,
        'reset',
        'wlan0',
        '7d3e2a1c-55aa-4f3b-9c1d-0123456789ab',
        '--bus',
        'unix:path=/run/dbus/system_bus_socket',
      ],
    },
  ];
  for (const u of good) assert.equal(undoRefusal(u), null, JSON.stringify(u));
  const dir = scratch(t);
  const j = Journal.create(join(dir, 'state'));
  assert.throws(
    () => j.record('x', { kind: 'exec', argv: ['sh', '-c', 'id'] }),
    /not a command clatbar runs to undo a change/,
  );
  assert.equal(j.entries.length, 0);
});
