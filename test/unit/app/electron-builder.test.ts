// electron-builder.yml against electron-builder's own JSON schema (app-builder-lib/scheme.json),
// since `npm run dist` cannot run here (no Electron download): a typo or a wrong type in the
// packaging configuration fails here instead of on a release machine. Plus what the security
// of the app relies on: the fuses, asar, and the files the app loads at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const require = createRequire(import.meta.url);

function config(): Record<string, unknown> {
  return yaml.load(readFileSync(`${root}electron-builder.yml`, 'utf8')) as Record<string, unknown>;
}

function validator() {
  const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
  // The schema uses keywords of its generator beside JSON Schema's; those are not errors.
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

test('electron-builder.yml is valid by electron-builder’s schema', () => {
  const validate = validator();
  const ok = validate(config());
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  // The check can fail: an unknown key and a wrong type are caught.
  assert.equal(validate({ ...config(), electronFuse: {} }), false);
  assert.equal(validate({ ...config(), electronFuses: { runAsNode: 'no' } }), false);
});

test('fuses: no run-as-node, no NODE_OPTIONS or inspect, app only from an integrity-checked asar', () => {
  const c = config();
  assert.deepEqual(
    {
      ...(c.electronFuses as object),
    },
    {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
    },
  );
  assert.equal(c.asar, true);
  assert.deepEqual((c.linux as { target: string[] }).target, ['deb', 'AppImage']);
  const files = c.files as string[];
  for (const needed of ['build/renderer/**', 'assets/icons/tray/*.png', 'build/src-main/**/*.cjs'])
    assert.ok(files.includes(needed), needed);
});
