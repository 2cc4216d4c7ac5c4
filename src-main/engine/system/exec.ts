// Runs the system tools the engine configures the host with (ip, nft, nmcli, ln, ...).
//
// The engine runs as root on the same event loop that carries the packets, so every command is
// found by absolute path in the system directories (never through PATH, which a caller's
// environment could point at its own `ip`), runs asynchronously (a slow `nmcli` must not stall
// translation) and is killed after a timeout (a hung `nft` must not hang a reconfiguration).
// Failures become errors that say which command failed and what it printed.
//
// Commands get a fixed environment (commandEnv), never the engine's own: whoever started the
// engine (`sudo -E`, a unit's Environment=) could otherwise hand root's children NODE_OPTIONS
// (the journal's undo runs node), XTABLES_LIBDIR or LD_LIBRARY_PATH (libraries the tool
// loads), a PATH for the tools they exec themselves (`ip netns exec`), or a locale that
// translates the messages the journal matches ("Cannot find device") and the output we parse.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** Where system tools live; searched in this order. Never the caller's PATH. */
export const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;
/** Long enough for a busy machine's `ip` or `nft`, short enough that a hung tool is noticed. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
    /** exit: ran and failed; missing: not installed; timeout: killed after the timeout. */
    readonly reason: 'exit' | 'missing' | 'timeout' = 'exit',
  ) {
    super(
      reason === 'missing'
        ? `\`${argv[0]}\` is not installed (looked in ${SYSTEM_DIRS.join(', ')})`
        : `\`${argv.join(' ')}\` ${reason === 'timeout' ? 'did not finish in time and was killed' : 'failed'}${status === null ? '' : ` (exit ${status})`}: ${stderr.trim() || 'no output'}`,
    );
  }
}

const found = new Map<string, string>();

/**
 * The absolute path of a system tool. Only root-owned files that only root can change count:
 * a root process must not run a binary another user could have replaced.
 */
export function commandPath(name: string): string {
  if (isAbsolute(name)) return name;
  const cached = found.get(name);
  if (cached) return cached;
  if (name.includes('/'))
    throw new CommandError([name], 'a command name, not a relative path', null, 'missing');
  for (const dir of SYSTEM_DIRS) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (!st.isFile() || (st.mode & 0o111) === 0) continue;
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) continue;
      found.set(name, p);
      return p;
    } catch {
      // Not in this directory.
    }
  }
  throw new CommandError([name], '', null, 'missing');
}

/**
 * The whole environment of every command the engine runs: the system directories as PATH, the
 * C locale, and the system bus address when one is set (env-override.ts has already dropped
 * one that root may not trust), for the tools that talk to it (nmcli). Nothing else is passed.
 */
export function commandEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: SYSTEM_DIRS.join(':'), LC_ALL: 'C' };
  const bus = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  if (bus) env.DBUS_SYSTEM_BUS_ADDRESS = bus;
  return env;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
}

/** Runs argv (argv[0] by name or absolute path) and returns its stdout; throws CommandError. */
export function execOut(argv: readonly string[], opts: ExecOptions = {}): Promise<string> {
  let file: string;
  try {
    file = commandPath(argv[0]);
  } catch (err) {
    return Promise.reject(err);
  }
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv.slice(1),
      { encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, env: commandEnv() },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (e.killed) return reject(new CommandError(argv, stderr, null, 'timeout'));
        if (e.code === 'ENOENT') return reject(new CommandError(argv, '', null, 'missing'));
        reject(new CommandError(argv, stderr || e.message, typeof e.code === 'number' ? e.code : null));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
