// Which files a root process may trust. A file the engine reads as root (its undo journal, the
// native addon, a bus socket named in the environment) is only as trustworthy as whoever could
// have written it or swapped it: its owner, its group and other users if it is writable by
// them, and the owner of every directory above it. This is the rule OpenSSH's StrictModes and
// sudo apply: the file and every directory up to / owned by root (or by us) and writable by no
// one else, except sticky directories such as /tmp, where others cannot replace what we own.
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

function euid(): number {
  return process.geteuid?.() ?? 0;
}

/** Owners we trust: root, and ourselves (a test harness or developer running unprivileged). */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === euid();
}

/**
 * Why `path` cannot be trusted, in words, or null when it can. `kind` says what it must be.
 * Symlinks in the directories above are resolved (e.g. /var/run -> /run); the last component
 * itself must not be a symlink, since whoever owns the link decides where it points.
 */
export function untrustedReason(path: string, kind: 'file' | 'directory' | 'socket' | 'any'): string | null {
  const abs = resolve(path);
  let parent: string;
  try {
    parent = realpathSync(dirname(abs));
  } catch (err) {
    return `${dirname(abs)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const target = abs === '/' ? '/' : join(parent, basename(abs));
  let st;
  try {
    st = lstatSync(target);
  } catch (err) {
    return `${target} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (st.isSymbolicLink()) return `${target} is a symbolic link`;
  if (kind === 'file' && !st.isFile()) return `${target} is not a regular file`;
  if (kind === 'directory' && !st.isDirectory()) return `${target} is not a directory`;
  if (kind === 'socket' && !st.isSocket()) return `${target} is not a socket`;
  if (!trustedOwner(st.uid)) return `${target} belongs to uid ${st.uid}, not root`;
  // A socket's mode says who may connect, not who may replace it (the directory says that).
  if (kind !== 'socket' && (st.mode & 0o022) !== 0)
    return `${target} is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`;
  for (let dir = parent; ; dir = dirname(dir)) {
    const d = lstatSync(dir);
    if (!trustedOwner(d.uid)) return `${dir}, a directory above ${target}, belongs to uid ${d.uid}, not root`;
    if ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0)
      return `${dir}, a directory above ${target}, is writable by other users (mode ${(d.mode & 0o7777).toString(8)})`;
    if (dir === '/') break;
  }
  return null;
}

/** True when the process runs as root (effective uid 0). */
export function runningAsRoot(): boolean {
  return euid() === 0;
}
