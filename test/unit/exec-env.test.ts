// The engine runs as root; whoever started it may have left anything in its environment
// (`sudo -E`, a unit's Environment=). The commands it runs get a fixed environment, never that:
// a NODE_OPTIONS naming someone's script must not make the journal's undo step (which runs
// node) run it as root, and a locale or PATH of the caller's must not reach the tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execOut, SYSTEM_DIRS } from '../../src-main/engine/system/exec.js';

/** Sets variables in this process's environment for one test and puts them back after. */
function withEnv(t: { after: (fn: () => void) => void }, vars: Record<string, string>): void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  t.after(() => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test("a command gets a fixed PATH and the C locale, nothing of the engine's environment", async (t) => {
  withEnv(t, {
    PATH: '/tmp/attacker-bin:/usr/bin',
    LANG: 'de_DE.UTF-8',
    LC_MESSAGES: 'de_DE.UTF-8',
    LD_LIBRARY_PATH: '/tmp/attacker-lib',
    XTABLES_LIBDIR: '/tmp/attacker-xt',
    CLATBAR_REDTEAM_MARK: '1',
  });
  const env = (await execOut(['env'])).trim().split('\n').sort();
  assert.deepEqual(env, [`LC_ALL=C`, `PATH=${SYSTEM_DIRS.join(':')}`]);
});

test('the system bus address (already vetted at start) is the one variable passed on', async (t) => {
  withEnv(t, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/dbus/system_bus_socket' });
  const env = (await execOut(['env'])).trim().split('\n');
  assert.ok(env.includes('DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket'), env.join(' '));
});

test("NODE_OPTIONS in the engine's environment does not reach a node the engine runs (the journal's undo)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-exec-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'ran');
  const evil = join(dir, 'evil.cjs');
  writeFileSync(
    evil,
    `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran as ' + process.getuid());\n`,
  );
  withEnv(t, { NODE_OPTIONS: `--require ${evil}` });
  await execOut([process.execPath, '-e', '0']);
  assert.equal(existsSync(marker), false, 'the script named in NODE_OPTIONS ran');
});
