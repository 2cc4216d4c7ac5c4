// The Linux package against what installs and runs it: the unit's ExecStart/ExecStopPost, the
// package scripts and the autostart entry name files that are in the package's file tree (made
// by electron-builder from electron-builder.yml), the engine's Node runtime there is new enough,
// the engine starts from that tree the way the unit starts it, and the package scripts act only
// on remove/purge, never hiding a failure behind `|| true`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackageDir, INSTALL_DIR } from '../helpers/package-dir.js';
import { directive, inPrivateMounts } from '../helpers/linux-unit.js';
import { isRoot } from '../helpers/env.js';

const ASSETS = new URL('../../../assets/linux/', import.meta.url).pathname;
const script = (name: string) => readFileSync(join(ASSETS, name), 'utf8');

/** after-install.sh's FILES table: [source in the package's assets, installed destination]. */
function installedFiles(): [string, string][] {
  const table = /FILES="\n([^"]*)"/.exec(script('after-install.sh'))?.[1] ?? '';
  return table
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/) as [string, string]);
}

test('the package tree holds what the unit, the scripts and the autostart entry name', async (t) => {
  const pkg = await buildPackageDir();
  t.after(() => rmSync(pkg.dir, { recursive: true, force: true }));

  for (const key of ['ExecStart', 'ExecStopPost']) {
    const [runtime, entry] = directive(key).split(/\s+/);
    for (const p of [runtime, entry]) {
      assert.ok(p.startsWith(`${INSTALL_DIR}/`), `${key} names ${p}, outside the package`);
      assert.ok(existsSync(pkg.map(p)), `${key}: ${p} is not in the package`);
    }
    accessSync(pkg.map(runtime), constants.X_OK);
  }
  const [runtime, entry] = directive('ExecStart').split(/\s+/);
  const version = execFileSync(pkg.map(runtime), ['--version'], { encoding: 'utf8' }).trim();
  const [major, minor] = version.slice(1).split('.').map(Number);
  assert.ok(
    major > 20 || (major === 20 && minor >= 19),
    `the engine's Node is ${version}; it needs >= 20.19`,
  );
  t.diagnostic(`engine runtime in the package: node ${version}`);

  // The engine's code, dependencies and addon are outside the asar, where plain Node reads them.
  const unpacked = pkg.map(`${INSTALL_DIR}/resources/app.asar.unpacked`);
  for (const p of [
    'package.json',
    'build/src-main/cli/main.js',
    'build/src-main/engine/clat/engine.js',
    'native/build/Release/clatbar_native.node',
    'node_modules/zod/package.json',
    'node_modules/dbus-next/package.json',
    'node_modules/dns-packet/package.json',
    'node_modules/write-file-atomic/package.json',
  ])
    assert.ok(existsSync(join(unpacked, p)), `${p} is not unpacked`);
  assert.equal(
    (JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as { type: string }).type,
    'module',
  );

  // Started the way the unit starts it: the packaged runtime runs the packaged entry.
  const run = (args: string[]) =>
    execFileSync(pkg.map(runtime), [pkg.map(entry), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  assert.match(run(['--version']), /^clatbar \d+\.\d+\.\d+/);
  assert.match(run(['run', '--help']), /clatbar run/);
  if (isRoot()) {
    // ExecStopPost's form, on an empty root-owned state directory.
    const state = mkdtempSync(join(tmpdir(), 'clatbar-pkg-state-'));
    t.after(() => rmSync(state, { recursive: true, force: true }));
    const [, , ...stopArgs] = directive('ExecStopPost').split(/\s+/);
    assert.match(run([...stopArgs, '--state-dir', state]), /nothing to clean up/);
  }

  // Every file the scripts install comes from the package; the autostart entry starts the app.
  for (const [src] of installedFiles())
    assert.ok(existsSync(pkg.map(`${INSTALL_DIR}/resources/assets/linux/${src}`)), `${src} is not packaged`);
  const exec = /^Exec=(\S+)/m.exec(script('clatbar-autostart.desktop'))?.[1] ?? '';
  assert.ok(existsSync(pkg.map(exec)), `the autostart entry runs ${exec}, not in the package`);
});

test('package scripts: remove undoes install, only remove/purge act, no failure hidden', () => {
  const installed = installedFiles().map(([, dst]) => dst);
  assert.ok(installed.includes('/lib/systemd/system/clatbar-engine.service'));
  const removed = script('after-remove.sh');
  for (const dst of installed) assert.ok(removed.includes(dst), `after-remove.sh leaves ${dst}`);
  for (const name of ['after-install.sh', 'before-remove.sh', 'after-remove.sh']) {
    const text = script(name);
    assert.doesNotMatch(text, /\|\|\s*true/, `${name} hides a failure`);
    assert.doesNotMatch(text, /2>\s*\/dev\/null/, `${name} hides an error message`);
    assert.match(text, /^set -eu$/m, `${name} must stop at the first failure`);
    execFileSync('sh', ['-n', join(ASSETS, name)]);
    assert.ok((statSync(join(ASSETS, name)).mode & 0o111) !== 0, `${name} is not executable`);
  }
  // postrm acts on remove and purge only; upgrade and the abort cases exit first.
  assert.match(removed, /case "\$\{1:-\}" in\s+remove \| purge\) ;;\s+\*\) exit 0 ;;/);
  const prerm = script('before-remove.sh');
  assert.match(prerm, /remove \| deconfigure\)/);
  assert.doesNotMatch(prerm, /upgrade\)/);
  const postinst = script('after-install.sh');
  assert.match(postinst, /try-restart clatbar-engine\.service/, 'an upgrade restarts the engine');
  // The prerm is wired into the .deb (electron-builder passes it to fpm).
  assert.match(
    readFileSync(new URL('../../../electron-builder.yml', import.meta.url), 'utf8'),
    /--before-remove', 'assets\/linux\/before-remove\.sh'/,
  );
});

test('after-remove.sh run for real: upgrade leaves all, remove takes the installed files, purge the state too', (t) => {
  if (!isRoot()) return t.skip('needs root for a private mount namespace');
  // In a private mount namespace whose /etc, /run, /var/lib and the install directories are empty
  // tmpfs: the installed files are laid out, the script runs, what is left is listed. /run is
  // empty, so the script takes its "systemd not running" branch and calls no systemctl.
  const installed = installedFiles().map(([, dst]) => dst);
  const dirs = [
    '/etc',
    '/run',
    '/var/lib',
    '/lib/systemd/system',
    '/usr/lib/sysusers.d',
    '/usr/lib/tmpfiles.d',
    '/usr/share/polkit-1/rules.d',
  ];
  const after = (arg: string): string[] =>
    execFileSync(
      ...inPrivateMounts(
        [
          'set -e',
          ...dirs.map((d) => `mount -t tmpfs tmpfs ${d}`),
          ...installed.map((f) => `mkdir -p $(dirname ${f}) && touch ${f}`),
          'mkdir -p /var/lib/clatbar && touch /var/lib/clatbar/networks.json',
          `sh ${join(ASSETS, 'after-remove.sh')} ${arg}`,
          `for f in ${installed.join(' ')} /var/lib/clatbar; do [ -e $f ] && echo $f; done; true`,
        ].join('\n'),
      ),
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
  for (const arg of ['upgrade 0.2.0', 'failed-upgrade 0.1.0', 'abort-install'])
    assert.deepEqual(after(arg), [...installed, '/var/lib/clatbar'], `postrm ${arg} must change nothing`);
  assert.deepEqual(after('remove'), ['/var/lib/clatbar'], 'postrm remove keeps the saved choices');
  assert.deepEqual(after('purge'), []);
});
