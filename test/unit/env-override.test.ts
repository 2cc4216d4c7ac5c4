// Test-only environment overrides are a way into root: CLATBAR_NATIVE_ADDON is require()d (a
// .js file there is simply run) and DBUS_SYSTEM_BUS_ADDRESS decides whose "systemd-resolved"
// the engine obeys. As root they count only when they name root-owned files in root-only
// directories; the attacker's file in a world-writable directory is never loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { overrideRefusal, envNumber } from '../../src-main/engine/system/env-override.js';
import { requires } from '../helpers/env.js';

const nativeModule = pathToFileURL(
  fileURLToPath(new URL('../../src-main/engine/native/native.js', import.meta.url)),
).href;
const clatbar = fileURLToPath(new URL('../../../bin/clatbar', import.meta.url));

function loadWith(addon: string): { stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { addonPath } from ${JSON.stringify(nativeModule)}; process.stdout.write(addonPath());`,
    ],
    { encoding: 'utf8', env: { ...process.env, CLATBAR_NATIVE_ADDON: addon } },
  );
  return r;
}

test('as root, CLATBAR_NATIVE_ADDON in a world-writable directory is ignored; a root-only one is used', (t) => {
  if (!requires(t, { root: true })) return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const evil = join(open, 'evil.js');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(join(dir, 'ran'))}, 'x');`);
  assert.notEqual(loadWith(evil).stdout, evil, 'the planted addon is not the one loaded');
  assert.match(overrideRefusal('CLATBAR_NATIVE_ADDON', evil) ?? '', /writable by other users/);
  // The same file in a root-only directory: what the harness does, honoured.
  const safe = join(dir, 'safe');
  mkdirSync(safe, { mode: 0o755 });
  const good = join(safe, 'addon.node');
  writeFileSync(good, '', { mode: 0o644 });
  assert.equal(loadWith(good).stdout, good);
  // Writable by others although in a safe directory: refused.
  chmodSync(good, 0o666);
  assert.notEqual(loadWith(good).stdout, good);
  assert.equal(existsSync(join(dir, 'ran')), false);
});

test('as root, a bus address that cannot be checked or sits in an open directory is dropped, with a warning', (t) => {
  if (!requires(t, { root: true })) return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  assert.match(
    overrideRefusal('DBUS_SYSTEM_BUS_ADDRESS', 'unix:abstract=evil') ?? '',
    /not a unix:path= address/,
  );
  assert.match(
    overrideRefusal('DBUS_SYSTEM_BUS_ADDRESS', 'tcp:host=192.0.2.1,port=1') ?? '',
    /not a unix:path=/,
  );
  assert.match(
    overrideRefusal('DBUS_SYSTEM_BUS_ADDRESS', `unix:path=${join(dir, 'bus')}`) ?? '',
    /cannot be read|writable/,
  );
  const r = spawnSync(process.execPath, [clatbar, 'status', '--control-socket', join(dir, 'none.sock')], {
    encoding: 'utf8',
    env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: 'unix:abstract=evil' },
  });
  assert.match(r.stderr, /ignoring DBUS_SYSTEM_BUS_ADDRESS=unix:abstract=evil while running as root/);
});

test('numeric tuning knobs are clamped', () => {
  process.env.CLATBAR_TEST_KNOB = '1e12';
  assert.equal(envNumber('CLATBAR_TEST_KNOB', 5, 1, 100), 100);
  process.env.CLATBAR_TEST_KNOB = 'x';
  assert.equal(envNumber('CLATBAR_TEST_KNOB', 5, 1, 100), 5);
  delete process.env.CLATBAR_TEST_KNOB;
  assert.equal(envNumber('CLATBAR_TEST_KNOB', 5, 1, 100), 5);
});
