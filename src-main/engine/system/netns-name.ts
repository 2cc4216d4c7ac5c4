// Which named network namespace (`ip netns`) this process runs in, and where an engine running
// in one listens. `ip netns exec NS clatbar status` must find the engine of NS, not the host's:
// a Unix socket path is not scoped by network namespace, so each named namespace gets its own
// directory, outside /run/clatbar (the packaged unit's RuntimeDirectory, which systemd removes
// when the host's engine stops).
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { controlSocketPath } from '../../shared/control.js';

/** Where `ip netns add` pins named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';
/** Per named namespace: NETNS_SOCKET_ROOT/NAME/engine.sock. */
export const NETNS_SOCKET_ROOT = '/run/clatbar-netns';

/**
 * The `ip netns` name of the namespace this process is in (as `ip netns identify` finds it: the
 * entry of /run/netns that is the same namespace inode), or null in the host's namespace or an
 * unnamed one (a container has its own /run).
 */
export function currentNetnsName(): string | null {
  let self;
  try {
    self = statSync('/proc/self/ns/net');
  } catch {
    return null;
  }
  let names: string[];
  try {
    names = readdirSync(NETNS_RUN_DIR);
  } catch {
    return null;
  }
  for (const name of names) {
    try {
      const st = statSync(join(NETNS_RUN_DIR, name));
      if (st.ino === self.ino && st.dev === self.dev) return name;
    } catch {
      // Being deleted, or not a namespace: not ours.
    }
  }
  return null;
}

/** The directory holding the control socket of the engine in named namespace `name`. */
export function netnsSocketDir(name: string): string {
  return dirname(controlSocketPath(name));
}

/** The control socket an engine in this namespace uses unless told otherwise. */
export function defaultControlSocket(): string {
  return controlSocketPath(currentNetnsName());
}
