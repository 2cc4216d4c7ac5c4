// Binding the control socket safely. The engine runs as root and the socket path may come from
// the command line, so: never follow a symlink at the path, never delete something that is not
// a socket, never take over a socket another live engine listens on (a connect probe tells a
// stale socket from a live one), and create the socket connectable by every local user without
// a chmod after the fact (chmod follows symlinks: a swapped path would make root chmod 0666
// whatever it points at). Who may do what is decided from peer credentials, not file modes.
import { connect, type Server } from 'node:net';
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
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

/**
 * Listens on path with `server` (created by the caller with its connection handler). Returns
 * the socket's inode, so stop can remove exactly the file it made.
 */
export async function bindControlSocket(server: Server, path: string): Promise<number> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
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
    throw new SocketInUse(
      `the control socket ${path} is not safe: ${why}. Nothing was changed. Put it in a directory only root can write (the default /run/clatbar/engine.sock is)`,
    );
  }
  return lstatSync(path).ino;
}

/** Removes the socket file if it is still the one we bound (not a successor engine's). */
export function unlinkControlSocket(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
