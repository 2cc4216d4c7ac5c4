// Who is on the other end of a control connection, and may they change things. Every peer is
// treated as hostile: only what the kernel recorded when it connected counts.
//
// - uid, gid and pid: SO_PEERCRED, fixed at connect(); a client cannot forge them.
// - supplementary groups: SO_PEERGROUPS (Linux 4.13+), from the same connect-time credentials.
//   This is the process's real group list, however it got it (/etc/group, NSS/LDAP, systemd-
//   userdb), and it cannot be raced: the client may exit, or its pid be reused, before we look.
//   On an older kernel the fallback is /proc/PID/status, believed only while every uid of that
//   process is still the peer's (a pid reused by another user's process lends nothing; one
//   reused by the same user's process lends groups that user's own processes hold anyway).
// - the control group's gid: looked up by name through NSS (`getent group`, so LDAP and userdb
//   groups work), asynchronously, cached, and refreshed in the background; /etc/group when
//   getent cannot run. A member must log in again after `usermod -aG` before their processes
//   carry the group, which is what the denial message says.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { peerCred, peerGroups } from '../native/peercred.js';
import { execOut } from '../system/exec.js';
import type { Caller } from '../../shared/control.js';

export interface GroupInfo {
  name: string;
  /** null when no such group exists on this host (then only root is admin). */
  gid: number | null;
}

/** A group name getent and groupadd accept (and that cannot be read as an option). */
export const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

/** The group's gid from a group(5) file, or null. */
export function lookupGroupFile(name: string, groupFile = '/etc/group'): GroupInfo {
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

/** The group's gid through NSS (`getent group NAME`); the group file when getent cannot run. */
export async function lookupGroup(name: string): Promise<GroupInfo> {
  if (!GROUP_NAME.test(name)) throw new Error(`'${name}' is not a group name`);
  let out: string;
  try {
    out = await execOut(['getent', 'group', name], { timeoutMs: 5000 });
  } catch (err) {
    // getent exits 2 when the group does not exist; anything else: it could not check.
    if ((err as { status?: unknown }).status === 2) return { name, gid: null };
    return lookupGroupFile(name);
  }
  const [gname, , gid] = out.split('\n')[0].split(':');
  return gname === name && /^\d+$/.test(gid ?? '') ? { name, gid: Number(gid) } : { name, gid: null };
}

/**
 * The control group's gid, known at once when a connection comes in (accepting is synchronous):
 * resolved before the server listens, then refreshed in the background when older than maxAgeMs,
 * so a group created or renumbered while the engine runs is picked up.
 */
export class GroupResolver {
  private info: GroupInfo;
  private at = 0;
  private pending: Promise<GroupInfo> | null = null;

  constructor(
    readonly name: string,
    private readonly maxAgeMs = 30_000,
    private readonly lookup: (name: string) => Promise<GroupInfo> = lookupGroup,
  ) {
    this.info = { name, gid: null };
  }

  /** Looks the group up now (once at a time). */
  refresh(): Promise<GroupInfo> {
    this.pending ??= this.lookup(this.name)
      .then((info) => {
        this.info = info;
        this.at = Date.now();
        return info;
      })
      .finally(() => (this.pending = null));
    return this.pending;
  }

  /** What is known now; a stale answer starts a refresh for the next caller. */
  current(): GroupInfo {
    if (Date.now() - this.at > this.maxAgeMs) void this.refresh().catch(() => {});
    return this.info;
  }
}

/**
 * A process's supplementary groups from /proc (kernels before 4.13), if every one of its uids
 * (real, effective, saved, filesystem) is still `uid`; null when it cannot be believed.
 */
export function procGroups(pid: number, uid: number): number[] | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(status);
  if (!uids || uids.slice(1).some((u) => Number(u) !== uid)) return null;
  const groups = /^Groups:\s*([\d\s]*)$/m.exec(status);
  return groups ? groups[1].trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** The caller behind a connected Unix socket. */
export function callerOf(sock: Socket, group: GroupInfo): Caller {
  const cred = peerCred(sock);
  let admin = cred.uid === 0;
  if (!admin && group.gid !== null) {
    admin =
      cred.gid === group.gid ||
      (peerGroups(sock) ?? procGroups(cred.pid, cred.uid) ?? []).includes(group.gid);
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
