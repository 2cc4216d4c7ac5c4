// The packaged systemd unit (assets/linux/clatbar-engine.service) as the tests need it: its
// directives, its system call filter expanded the way systemd does it (systemd-analyze
// syscall-filter), and a command line that runs a program the way the unit would, as far as this
// machine without systemd as PID 1 can: the unit's capability bounding set (setpriv), no new
// privileges, and a mount namespace where everything is read-only except the unit's writable
// paths (ProtectSystem=strict), with /home, /root and /run/user hidden (ProtectHome) and a private
// /tmp (PrivateTmp). Not emulated here: the device cgroup (DevicePolicy), RestrictAddressFamilies
// and the seccomp filter itself (checked instead against a system call trace), the IPC and
// hostname namespaces.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const UNIT_PATH = new URL('../../../assets/linux/clatbar-engine.service', import.meta.url).pathname;

/** Every assignment of the unit, by key, in order (a key may repeat, as SystemCallFilter does). */
export function unitDirectives(path = UNIT_PATH): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

export function directive(key: string, path = UNIT_PATH): string {
  const v = unitDirectives(path).get(key);
  if (!v) throw new Error(`${path} has no ${key}=`);
  return v[v.length - 1];
}

/** systemd's named system call sets, each expanded to plain system call names. */
function syscallSets(): Map<string, Set<string>> {
  const text = execFileSync('systemd-analyze', ['syscall-filter', '--no-pager'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const raw = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    if (/^@\S+/.test(line)) {
      current = line.trim();
      raw.set(current, []);
    } else if (current && /^\s+[@a-z0-9_]/.test(line)) raw.get(current)?.push(line.trim());
  }
  const expanded = new Map<string, Set<string>>();
  const expand = (name: string): Set<string> => {
    const done = expanded.get(name);
    if (done) return done;
    const set = new Set<string>();
    expanded.set(name, set);
    for (const m of raw.get(name) ?? []) {
      if (m.startsWith('@')) for (const s of expand(m)) set.add(s);
      else set.add(m);
    }
    return set;
  };
  for (const name of raw.keys()) expand(name);
  return expanded;
}

/**
 * The system calls the unit's SystemCallFilter= lines allow, evaluated as systemd does: the first
 * line that is an allow list sets the list, every `~` line after it removes from it, later allow
 * lines add. Calls systemd always permits (execve, exit_group, rt_sigreturn...) are in @default.
 */
export function allowedSyscalls(path = UNIT_PATH): Set<string> {
  const sets = syscallSets();
  const names = (words: string[]): string[] =>
    words.flatMap((w) => (w.startsWith('@') ? [...(sets.get(w) ?? fail(`unknown set ${w}`))] : [w]));
  const allowed = new Set<string>(sets.get('@default'));
  for (const line of unitDirectives(path).get('SystemCallFilter') ?? []) {
    const deny = line.startsWith('~');
    const words = (deny ? line.slice(1) : line).trim().split(/\s+/);
    for (const s of names(words)) {
      if (deny) allowed.delete(s);
      else allowed.add(s);
    }
  }
  return allowed;
}

function fail(msg: string): never {
  throw new Error(msg);
}

/** System call names in an `strace -f` output file, with a sample line for each. */
export function tracedSyscalls(traceText: string): Map<string, string> {
  const seen = new Map<string, string>();
  for (const line of traceText.split('\n')) {
    // "1234  name(args) = ..." or "1234  <... name resumed>..."; signals and exits have no "(".
    const m = /^\d+\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()/.exec(line);
    const name = m?.[1] ?? m?.[2];
    if (name && !seen.has(name)) seen.set(name, line.slice(0, 200));
  }
  return seen;
}

/** The unit's capability bounding set as setpriv wants it: "-all,+net_admin,...". */
export function setprivCaps(path = UNIT_PATH): string {
  const caps = directive('CapabilityBoundingSet', path)
    .split(/\s+/)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  return ['-all', ...caps].join(',');
}

/**
 * A `sh -c` script for `unshare -m --propagation private`: every mount read-only (ProtectSystem=
 * strict; /proc/sys too, ProtectKernelTunables) except /dev and /proc themselves, then `writable`
 * (the unit's ReadWritePaths, and the test's stand-ins for its RuntimeDirectory and
 * StateDirectory) bound read-write, ProtectHome's directories hidden, a private /tmp; then it
 * execs argv.
 */
export function readOnlyViewScript(writable: string[], argv: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -e',
    // Writable paths first bound onto themselves, so they survive as their own mounts.
    ...writable.map((p) => `mount --bind ${q(p)} ${q(p)}`),
    // Every mount point, read-only, but the API file systems systemd leaves alone and ours.
    `awk '{print $5}' /proc/self/mountinfo | sort -u | while read -r m; do`,
    '  case "$m" in /dev|/dev/*|/proc|/sys/fs/cgroup*) continue;; esac',
    ...writable.map((p) => `  [ "$m" = ${q(p)} ] && continue`),
    '  mount -o remount,bind,ro "$m" 2>/dev/null || mount -o bind,ro "$m" "$m"',
    'done',
    // ProtectKernelTunables: /proc/sys read-only (its writable children re-bound below).
    'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys',
    // A bind inherits the read-only flag of where it comes from: made writable explicitly.
    ...writable
      .filter((p) => p.startsWith('/proc/sys/'))
      .map((p) => `mount --bind ${q(p)} ${q(p)} && mount -o remount,bind,rw ${q(p)}`),
    // ProtectHome=yes, PrivateTmp=yes.
    'for d in /home /root /run/user; do [ -d "$d" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$d"; done',
    'mount -t tmpfs -o mode=1777 tmpfs /tmp',
    `exec ${argv.map(q).join(' ')}`,
  ].join('\n');
}

/** argv that runs a `sh -c` script in a private mount namespace (nothing it mounts leaks out). */
export function inPrivateMounts(script: string): [string, string[]] {
  return ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]];
}
