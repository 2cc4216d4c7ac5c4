// Binding the control socket safely. The engine runs as root and the socket path may come from
// the command line, so: the directory must be one only root can change (checked before anything
// is created, removed or bound there; every later step works on its canonical path, with no
// symlink left to swap), never delete something that is not a socket, never take over a socket
// another live engine listens on (a connect probe tells a stale socket from a live one), and
// create the socket connectable by every local user without a chmod after the fact (chmod
// follows symlinks: a swapped path would make root chmod 0666 whatever it points at). Who may do
// what is decided from peer credentials, not file modes.
//
// Why the directory first: libuv unlinks a listening socket's path when it closes, whatever is
// there by then, and bind(2) follows symlinks in the directories above. In a directory another
// user can change, they could swap a directory for a symlink between our checks and make root
// bind, or delete, `engine.sock` somewhere else (another engine's /run/clatbar/engine.sock).
import { connect, type Server } from 'node:net';
import { existsSync, lstatSync, mkdirSync, realpathSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { peerCred } from '../native/peercred.js';
import { untrustedReason } from '../system/trusted-path.js';

/** Why the socket cannot be bound: a live engine, or a path that is not ours to replace. */
export class SocketInUse extends Error {}

/** Resolves with the pid of the engine listening on path, null when nothing listens. */
function probe(path: string, timeoutMs = 1000): Promise<{ pid: number | null } | null> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      // Accepted the connection but did not let go: something is alive there.
      resolve({ pid: null });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      let pid: number | null = null;
      try {
        pid = peerCred(sock).pid;
      } catch {
        // No native addon: a live listener without a name.
      }
      sock.destroy();
      resolve({ pid });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // ECONNREFUSED: a socket file nobody listens on any more (a crashed engine's).
      resolve(err.code === 'ECONNREFUSED' ? null : { pid: null });
    });
  });
}

function notSafe(given: string, why: string): SocketInUse {
  return new SocketInUse(
    `the control socket ${given} is not safe: ${why}. Nothing was changed. Put it in a directory only root can write (the default /run/clatbar/engine.sock is)`,
  );
}

/**
 * Listens on `given` with `server` (created by the caller with its connection handler). Returns
 * the canonical path it bound and the socket's inode, so stop can remove exactly the file it made.
 */
export async function bindControlSocket(
  server: Server,
  given: string,
): Promise<{ path: string; ino: number }> {
  const path = join(safeDirectory(dirname(resolve(given)), given), basename(given));
  let existing;
  try {
    existing = lstatSync(path);
  } catch {
    existing = null;
  }
  if (existing) {
    if (!existing.isSocket())
      throw new SocketInUse(
        `${path} exists and is ${existing.isSymbolicLink() ? 'a symbolic link' : 'not a socket'}; clatbar does not replace it. Remove it, or pass another --control-socket`,
      );
    const live = await probe(path);
    if (live)
      throw new SocketInUse(
        `another clatbar engine${live.pid ? ` (pid ${live.pid})` : ''} is listening on ${path}; nothing was changed. Stop it first (sudo systemctl stop clatbar-engine, or kill ${live.pid ?? 'it'}), or pass another --control-socket`,
      );
    unlinkSync(path);
  }
  // bind(2) creates the socket with mode 0777 & ~umask and never follows a symlink at the path;
  // Node binds synchronously inside listen(), so the umask is ours only for that moment.
  const old = process.umask(0o111);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
      process.umask(old);
    });
  } finally {
    process.umask(old);
  }
  const why = untrustedReason(path, 'socket');
  if (why) {
    await new Promise<void>((r) => server.close(() => r()));
    throw notSafe(given, why);
  }
  return { path, ino: lstatSync(path).ino };
}

/**
 * The canonical path of dir, made if missing (0755, one level at a time), once it and every
 * directory above it are root's and writable by no one else (sticky /tmp is fine). Throws
 * SocketInUse saying why otherwise, before anything was created there.
 */
function safeDirectory(dir: string, given: string): string {
  const missing: string[] = [];
  let existing = dir;
  while (!existsSync(existing)) {
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
  const refuse = (why: string) => notSafe(given, why);
  // A symlink on the way decides where the path leads: only one that root (or we) made counts.
  // (Past this point the canonical path is used, so a symlink swapped later changes nothing.)
  for (let p = existing; ; p = dirname(p)) {
    const st = lstatSync(p);
    if (st.isSymbolicLink() && st.uid !== 0 && st.uid !== process.geteuid?.())
      throw refuse(`${p} is a symbolic link that belongs to uid ${st.uid}, not root`);
    if (p === dirname(p)) break;
  }
  let real = realpathSync(existing);
  let why = untrustedReason(real, 'directory');
  if (why) throw refuse(why);
  for (const name of missing) {
    real = join(real, name);
    try {
      mkdirSync(real, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Made by us, or by root meanwhile (EEXIST): either way it must pass the same rule.
    why = untrustedReason(real, 'directory');
    if (why) throw refuse(why);
  }
  return real;
}

/**
 * Removes the socket file if it is still the one we bound (not a successor engine's). libuv has
 * usually unlinked the path already when the server closed; this covers a server never closed.
 */
export function unlinkControlSocket(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
