// SO_PEERCRED for the engine's control socket: the uid/gid/pid the kernel recorded for the
// process on the other end of a Unix-domain connection, which, unlike anything in the message,
// a client cannot forge.
import type { Socket } from 'node:net';
import { nativeFeature } from './native.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

function fdOf(socket: Socket): number {
  // Node has no public accessor for a socket's fd; on Unix its libuv handle exposes it.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new Error(
      'peerCred: the socket has no file descriptor (not connected, closed, or not a Unix socket)',
    );
  return fd;
}

/** Credentials of the peer of a connected Unix-domain socket (a net.Socket or a raw fd). */
export function peerCred(socket: Socket | number): PeerCred {
  const getPeerCred = nativeFeature('getPeerCred');
  return getPeerCred(typeof socket === 'number' ? socket : fdOf(socket));
}

/**
 * The peer's supplementary groups as the kernel recorded them at connect (SO_PEERGROUPS), or
 * null when this kernel or addon cannot say (the caller then falls back to /proc).
 */
export function peerGroups(socket: Socket | number): number[] | null {
  let get;
  try {
    get = nativeFeature('getPeerGroups');
  } catch {
    return null;
  }
  try {
    return get(typeof socket === 'number' ? socket : fdOf(socket));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOPROTOOPT') return null;
    throw err;
  }
}
