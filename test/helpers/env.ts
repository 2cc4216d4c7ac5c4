// What a test needs from the machine: root, a Debian package's binary, /dev/net/tun.
// In CI (CI=true) a missing requirement fails the test with the fix; on a developer's machine
// it skips with the same message, so `npm test` without root still runs the unit suites.
import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

function missing(t: TestContext, what: string): false {
  if (inCI) throw new Error(`test requirement missing: ${what}`);
  t.skip(what);
  return false;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns true when the test may go on. Call as
 * `if (!requires(t, { root: true, binaries: ['tayga'] })) return;`
 */
/** What a test needs from the machine. */
export interface Needs {
  root?: boolean;
  tun?: boolean;
  binaries?: string[];
}

export function requires(t: TestContext, need: Needs): boolean {
  if (need.root && !isRoot()) return missing(t, 'needs root (run the suite with sudo, as CI does)');
  if (need.tun) {
    try {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      return missing(t, '/dev/net/tun is not usable (modprobe tun)');
    }
  }
  for (const b of need.binaries ?? []) {
    if (!hasBinary(b))
      return missing(t, `needs \`${b}\` (apt-get install the package that ships it; .ci/run lists them)`);
  }
  return true;
}
