// Who is on the other end of a control connection, and may they change things. The kernel's
// SO_PEERCRED (uid, gid, pid at connect time) cannot be forged; the supplementary groups come
// from /proc/PID/status, accepted only while that process still has the uid the kernel gave us
// (a pid reused by another user's process does not lend its groups). The control group is
// looked up by name in /etc/group, like `usermod -aG` writes it: a member must log in again
// before their processes carry the group, which is what the denial message says.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { peerCred } from '../native/peercred.js';
import type { Caller } from '../../shared/control.js';

export interface GroupInfo {
  name: string;
  /** null when no such group exists on this host (then only root is admin). */
  gid: number | null;
}

/** The group's gid from /etc/group, or null. */
export function lookupGroup(name: string, groupFile = '/etc/group'): GroupInfo {
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // No group database: root only.
  }
  for (const line of text.split('\n')) {
    const [gname, , gid] = line.split(':');
    if (gname === name && /^\d+$/.test(gid ?? '')) return { name, gid: Number(gid) };
  }
  return { name, gid: null };
}

/** A process's supplementary groups, if it still runs with `uid` as its real and effective uid. */
function groupsOf(pid: number, uid: number): number[] | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!uids || Number(uids[1]) !== uid || Number(uids[2]) !== uid) return null;
  const groups = /^Groups:\s*([\d\s]*)$/m.exec(status);
  return groups ? groups[1].trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** The caller behind a connected Unix socket. */
export function callerOf(sock: Socket, group: GroupInfo): Caller {
  const cred = peerCred(sock);
  let admin = cred.uid === 0;
  if (!admin && group.gid !== null) {
    admin = cred.gid === group.gid || (groupsOf(cred.pid, cred.uid)?.includes(group.gid) ?? false);
  }
  return { uid: cred.uid, gid: cred.gid, pid: cred.pid, admin };
}

/** A user name for log lines ("uid 1000 (alice)"), from /etc/passwd; the number alone when unknown. */
export function describeUid(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id === String(uid)) return `uid ${uid} (${name})`;
    }
  } catch {
    // No passwd file: the number says enough.
  }
  return `uid ${uid}`;
}
