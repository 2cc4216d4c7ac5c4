// Environment overrides meant for tests and packaging (which native addon to load, which system
// bus to talk to) are a way into a root process: whoever sets the environment of `sudo -E
// clatbar run`, or of a helper started with it, could make root load their own addon or obey
// their own "systemd-resolved". An environment variable alone therefore never decides:
//
// - run as a user, every override is honoured (it can only hurt that user);
// - run as root, a path override is honoured only when it names a root-owned file in
//   directories only root can write (system/trusted-path.ts). Only root can make such a file,
//   and root could load anything anyway; the test harness, which runs as root and creates its
//   buses and builds under root-owned temporary directories, passes. Anything else is dropped
//   from the environment with a warning, before any module reads it.
// - numeric tuning knobs are clamped to sane bounds, whoever runs.
import { untrustedReason, runningAsRoot } from './trusted-path.js';

/** Overrides naming a file or socket, and what kind of file each must be. */
const PATH_OVERRIDES = {
  CLATBAR_NATIVE_ADDON: 'file',
  DBUS_SYSTEM_BUS_ADDRESS: 'socket',
} as const;
type PathOverride = keyof typeof PATH_OVERRIDES;

/** The filesystem path an override names: the value, or the path of a `unix:path=` bus address. */
function pathOf(name: PathOverride, value: string): string | null {
  if (name !== 'DBUS_SYSTEM_BUS_ADDRESS') return value;
  // Only a single unix:path= address (with a guid, as dbus-daemon prints it) can be checked;
  // abstract sockets, TCP and lists of fallbacks cannot.
  const m = /^unix:path=([^,;%]+)(,guid=[0-9a-f]+)?$/.exec(value);
  return m ? m[1] : null;
}

/** Why root must not honour this override, or null when it may (or we are not root). */
export function overrideRefusal(name: PathOverride, value: string): string | null {
  if (!runningAsRoot()) return null;
  const path = pathOf(name, value);
  if (path === null) return `${value} is not a unix:path= address whose owner can be checked`;
  return untrustedReason(path, PATH_OVERRIDES[name]);
}

/**
 * Drops every path override root may not trust from process.env, saying so on stderr. Call
 * first thing in each program that may run as root (the CLI, resolved-undo).
 */
export function scrubEnvOverrides(
  warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): void {
  for (const name of Object.keys(PATH_OVERRIDES) as PathOverride[]) {
    const value = process.env[name];
    if (!value) continue;
    const why = overrideRefusal(name, value);
    if (why === null) continue;
    delete process.env[name];
    warn(
      `clatbar: ignoring ${name}=${value} while running as root: ${why} (only root-owned files in root-only directories are trusted)`,
    );
  }
}

/** A numeric tuning knob from the environment, clamped to [min, max]; the default when unset or not a number. */
export function envNumber(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}
