// The Linux package's file tree, made by electron-builder itself from electron-builder.yml (its
// `dir` target: the tree the .deb installs under /opt/clatbar). electron-builder cannot download
// Electron here, so it is handed a stand-in Electron distribution (an empty `electron` file):
// everything else (files, asar and asarUnpack, extraResources, the production node_modules) is
// electron-builder's real work. The stand-in is the only thing not real, and no test runs it.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../..', import.meta.url).pathname;
/** Where the .deb installs the tree (electron-builder's Linux installPrefix + productName). */
export const INSTALL_DIR = '/opt/clatbar';

export interface PackageDir {
  /** The tree that lands in INSTALL_DIR. */
  root: string;
  /** A path of the installed system (under INSTALL_DIR) in this tree. */
  map(installedPath: string): string;
  /** The temporary directory holding it all, for the caller to remove. */
  dir: string;
}

/** Builds the tree in a new directory under `parent` (default: the system's temporary directory). */
export async function buildPackageDir(parent = tmpdir()): Promise<PackageDir> {
  const dir = mkdtempSync(join(parent, 'clatbar-package-'));
  const electron = join(dir, 'electron-dist');
  mkdirSync(electron);
  writeFileSync(join(electron, 'electron'), '');
  chmodSync(join(electron, 'electron'), 0o755);
  const out = join(dir, 'out');
  // The real configuration less its fuses: flipping them needs the sentinel inside a real
  // Electron binary, which the stand-in has not (test/unit/app/electron-builder.test.ts checks them).
  const config = yaml.load(readFileSync(join(REPO, 'electron-builder.yml'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete config.electronFuses;
  const configFile = join(dir, 'electron-builder.json');
  writeFileSync(configFile, JSON.stringify(config));
  await new Promise<void>((resolve, reject) =>
    execFile(
      join(REPO, 'node_modules/.bin/electron-builder'),
      [
        '--linux',
        'dir',
        '--config',
        configFile,
        `-c.electronDist=${electron}`,
        `-c.directories.output=${out}`,
        '--publish',
        'never',
      ],
      { cwd: REPO, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`electron-builder failed: ${stderr || stdout}`)) : resolve(),
    ),
  );
  const root = join(out, 'linux-unpacked');
  return {
    root,
    dir,
    map(installedPath) {
      if (!installedPath.startsWith(`${INSTALL_DIR}/`))
        throw new Error(`${installedPath} is not under ${INSTALL_DIR}`);
      return join(root, installedPath.slice(INSTALL_DIR.length + 1));
    },
  };
}
