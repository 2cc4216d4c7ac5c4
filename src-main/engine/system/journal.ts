// The undo journal: every change the engine makes to the host (TUN, addresses, routes, sysctls,
// proxy-ND, resolver) is written here, with how to undo it, *before* it is made. Stop, crash
// recovery and the next start all replay the undo steps newest first, so a kill -9, a crash or
// a power cut never leaves the user's network broken (ARCHITECTURE.md, "must never happen").
//
// The file is replaced atomically (write-file-atomic, fsync) on every change, so it is always
// either the old or the new list, never half of one.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { execOut, CommandError } from './exec.js';
import { untrustedReason } from './trusted-path.js';
import { say, sayNothing, type Say } from '../../shared/say.js';

/**
 * The resolved-undo program (dns64/resolved-undo.ts) that reverts our systemd-resolved link
 * settings: the one Node script an undo step may run, and only by this install's path.
 */
const RESOLVED_UNDO = fileURLToPath(new URL('../dns64/resolved-undo.js', import.meta.url));
/**
 * The program that puts back NetworkManager's ipv4.dhcp-ipv6-only-preferred after an option-108
 * request (daemon/v6only-undo.ts), by this install's path only.
 */
const V6ONLY_UNDO = fileURLToPath(new URL('../daemon/v6only-undo.js', import.meta.url));
/** The resolver file the DNS64 hook rewrites; tests add their own with `restorable`. */
const RESOLV_CONF = '/etc/resolv.conf';
/** A journal is a few dozen entries; anything near this is not ours. */
const MAX_JOURNAL_BYTES = 1024 * 1024;

// An interface name as the kernel allows it (IFNAMSIZ 16, no '/', no whitespace), never '.' or
// '..' (it becomes a /proc/sys path component) and never starting with '-' (an option to ip).
const IFNAME = /^(?!\.{1,2}$)(?!-)[A-Za-z0-9_.:@+-]{1,15}$/;
const ADDR = /^[0-9A-Fa-f:.]{2,45}$/;
const CIDR = /^[0-9A-Fa-f:.]{2,45}\/\d{1,3}$/;
const METRIC = /^\d{1,10}$/;
const UUID = /^[0-9A-Fa-f-]{8,64}$/;
const BUS = /^unix:path=\/[^;,]{1,200}(,guid=[0-9a-f]+)?$/;
type Token = RegExp | string;
/**
 * The only `ip` commands an undo step may be: the inverse of each change the engine makes
 * (clat/host.ts, clat/engine.ts, net/dad.ts). Anything else in a journal was not written by
 * the engine, so it is refused, whoever wrote it.
 */
const IP_UNDO: Token[][] = [
  ['link', 'del', IFNAME],
  ['addr', 'del', CIDR, 'dev', IFNAME],
  ['-6', 'addr', 'del', CIDR, 'dev', IFNAME],
  ['-6', 'route', 'del', CIDR, 'dev', IFNAME],
  ['-6', 'neigh', 'del', 'proxy', ADDR, 'dev', IFNAME],
  ['route', 'del', 'default', 'dev', IFNAME, 'metric', METRIC],
];
/** The Node programs an undo step may run (D-Bus calls are asynchronous), with their arguments. */
const NODE_UNDO = new Map<string, Token[]>([
  [RESOLVED_UNDO, ['revert-link', METRIC, IFNAME]],
  [V6ONLY_UNDO, ['reset', IFNAME, UUID]],
]);
/** The sysctls the engine changes (clat/host.ts), by slash-separated key. */
const SYSCTL_KEYS: Token[][] = [
  ['net', 'ipv6', 'conf', IFNAME, /^(accept_ra|forwarding|force_forwarding|proxy_ndp)$/],
  ['net', 'ipv6', 'neigh', IFNAME, 'proxy_delay'],
];

function matches(tokens: readonly string[], pattern: readonly Token[]): boolean {
  return (
    tokens.length === pattern.length &&
    pattern.every((p, i) => (typeof p === 'string' ? tokens[i] === p : p.test(tokens[i])))
  );
}

function sysctlTokens(key: string): string[] {
  return key.includes('/') ? key.split('/') : key.split('.');
}

/** How to put one change back. Plain data, so a later process can replay it. */
export type UndoAction =
  /** Run a command (e.g. `ip -6 route del ...`). */
  | { kind: 'exec'; argv: string[]; /** stderr fragments meaning "already undone" */ ignore?: string[] }
  /** Put a file back as it was; content null means it did not exist. */
  | { kind: 'restore-file'; path: string; content: string | null; mode?: number }
  /** Restore a sysctl to its old value. */
  | { kind: 'sysctl'; key: string; value: string };

const UndoSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('exec'),
      argv: z.array(z.string().max(4096)).min(1).max(16),
      ignore: z.array(z.string().max(200)).max(8).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('restore-file'),
      path: z.string().max(4096),
      content: z
        .string()
        .max(256 * 1024)
        .nullable(),
      mode: z.number().int().min(0).max(0o777).optional(),
    })
    .strict(),
  z
    .object({ kind: z.literal('sysctl'), key: z.string().max(256), value: z.string().regex(/^-?\d{1,10}$/) })
    .strict(),
]);

const JournalFileSchema = z
  .object({
    version: z.literal(1),
    owner: z.object({ pid: z.number().int().positive(), startedAt: z.string().max(64) }).strict(),
    entries: z
      .array(z.object({ what: z.string().max(1000), undo: UndoSchema, at: z.string().max(64) }).strict())
      .max(10_000),
  })
  .strict();

export interface JournalOptions {
  /**
   * Files an undo step may restore besides /etc/resolv.conf (tests that hook a resolver file of
   * their own). Recovery must be given the same list.
   */
  restorable?: readonly string[];
}

/**
 * Why the engine would never have written this undo step, or null when it could have. Known
 * commands with known arguments, the sysctls it touches, the files it restores by name.
 */
export function undoRefusal(undo: UndoAction, opts: JournalOptions = {}): string | null {
  const files = [RESOLV_CONF, ...(opts.restorable ?? [])];
  switch (undo.kind) {
    case 'exec': {
      const [cmd, ...args] = undo.argv;
      if (cmd === 'ip' && IP_UNDO.some((p) => matches(args, p))) return null;
      // The inbound filter's own table (engine/clat/inbound-filter.ts), never anyone else's.
      if (cmd === 'nft' && matches(args, ['delete', 'table', 'ip', 'clatbar'])) return null;
      if (
        cmd === 'ln' &&
        args.length === 3 &&
        args[0] === '-sfn' &&
        !args[1].startsWith('-') &&
        files.includes(args[2])
      )
        return null;
      // Our own undo programs, by this install's paths, each with its arguments and optionally
      // the bus it talked to.
      const program = cmd === process.execPath ? NODE_UNDO.get(args[0]) : undefined;
      if (program && [program, [...program, '--bus', BUS]].some((p) => matches(args.slice(1), p)))
        return null;
      return `\`${undo.argv.join(' ').slice(0, 200)}\` is not a command clatbar runs to undo a change`;
    }
    case 'restore-file':
      return files.includes(undo.path) ? null : `${undo.path} is not a file clatbar changes`;
    case 'sysctl':
      return SYSCTL_KEYS.some((p) => matches(sysctlTokens(undo.key), p)) ||
        ['net.ipv6.conf.all.forwarding', 'net/ipv6/conf/all/forwarding'].includes(undo.key)
        ? null
        : `sysctl ${undo.key} is not one clatbar changes`;
  }
}

export interface JournalEntry {
  /** Plain words for logs: "address 192.0.0.1/29 on clat0". */
  what: string;
  undo: UndoAction;
  at: string;
}

interface JournalFile {
  version: 1;
  owner: { pid: number; startedAt: string };
  entries: JournalEntry[];
}

export interface UndoOutcome {
  what: string;
  ok: boolean;
  detail?: string;
}

/** Default "already gone" answers from iproute2, so replaying after a partial undo is harmless. */
const ALREADY_GONE = [
  'Cannot find device',
  'No such process',
  'Cannot assign requested address',
  'No such file or directory',
  'does not exist',
  'not found',
];

export async function runUndo(undo: UndoAction): Promise<void> {
  switch (undo.kind) {
    case 'exec':
      try {
        await execOut(undo.argv);
      } catch (err) {
        const text = err instanceof CommandError ? err.stderr : String(err);
        if (![...ALREADY_GONE, ...(undo.ignore ?? [])].some((s) => text.includes(s))) throw err;
      }
      return;
    case 'restore-file':
      if (undo.content === null) rmSync(undo.path, { force: true });
      else writeFileSync(undo.path, undo.content, { mode: undo.mode });
      return;
    case 'sysctl': {
      const path = sysctlPath(undo.key);
      try {
        writeFileSync(path, `${undo.value}\n`);
      } catch (err) {
        // A per-interface sysctl of an interface that is gone (USB adapter unplugged, the
        // namespace's veth deleted) went with it: nothing is left to put back.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(dirname(path))) return;
        throw err;
      }
      return;
    }
  }
}

/**
 * Refuses a state directory someone other than root could write: its journal is replayed as
 * root, so whoever can write it could make root run commands.
 */
function checkStateDir(stateDir: string): void {
  const why = untrustedReason(stateDir, 'directory');
  if (why)
    throw new Error(
      `the state directory ${stateDir} is not safe for the undo journal: ${why}. Nothing was changed. ` +
        `A journal there is replayed as root, so only root may be able to write it: ` +
        `\`sudo chown root:root ${stateDir} && sudo chmod 0755 ${stateDir}\` (and the same for the directories above), ` +
        'or pass another --state-dir (the default /run/clatbar is right)',
    );
}

/** /proc/sys path of a dotted sysctl key such as net.ipv6.conf.eth0.accept_ra. */
export function sysctlPath(key: string): string {
  // Interface names may contain dots; sysctl(8) writes those as '/'. We take keys with '/' as paths.
  return key.includes('/') ? join('/proc/sys', key) : join('/proc/sys', ...key.split('.'));
}

export class Journal {
  private readonly path: string;
  private data: JournalFile;

  private constructor(
    readonly stateDir: string,
    data: JournalFile,
    private readonly opts: JournalOptions,
  ) {
    this.path = join(stateDir, 'journal.json');
    this.data = data;
  }

  /**
   * The journal file left by an earlier run in stateDir, if any: only from a directory and a
   * file only root can write, and only when every entry is an undo step the engine itself
   * could have written. Anything else is refused as a whole, so nothing of it runs.
   */
  static leftover(stateDir: string, opts: JournalOptions = {}): JournalFile | null {
    const path = join(stateDir, 'journal.json');
    if (!existsSync(stateDir)) return null;
    checkStateDir(stateDir);
    let text: string;
    try {
      // O_NOFOLLOW: a symlink planted as journal.json is not followed to another file.
      const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const st = fstatSync(fd);
        const owner = process.geteuid?.() ?? 0;
        if (!st.isFile() || (st.uid !== 0 && st.uid !== owner) || (st.mode & 0o022) !== 0)
          throw new Error(
            `the undo journal ${path} was not written by clatbar (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}); nothing of it was run. Inspect it, undo by hand what it lists, then delete it`,
          );
        if (st.size > MAX_JOURNAL_BYTES)
          throw new Error(
            `the undo journal ${path} is ${st.size} bytes, far more than clatbar writes; nothing of it was run. Inspect it, undo by hand, then delete it`,
          );
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      // Not ours to read (the journal is 0600 root): the fix is privilege, not hand-editing.
      if (code === 'EACCES' || code === 'EPERM')
        throw new Error(
          `the undo journal ${path} belongs to root; run this as root (sudo), which can read and replay it`,
        );
      if (code === 'ELOOP')
        throw new Error(
          `the undo journal ${path} is a symbolic link, which clatbar never writes; nothing of it was run. Delete it`,
        );
      if (code)
        throw new Error(
          `the undo journal ${path} is unreadable (${(err as Error).message}); inspect it, undo by hand, then delete it`,
        );
      throw err;
    }
    let parsed: z.infer<typeof JournalFileSchema>;
    try {
      parsed = JournalFileSchema.parse(JSON.parse(text));
    } catch (err) {
      const why =
        err instanceof z.ZodError
          ? z.prettifyError(err).split('\n').slice(0, 3).join('; ')
          : (err as Error).message;
      throw new Error(
        `the undo journal ${path} is unreadable (${why}); nothing of it was run. Inspect it, undo by hand, then delete it`,
      );
    }
    for (const e of parsed.entries) {
      const why = undoRefusal(e.undo, opts);
      if (why)
        throw new Error(
          `the undo journal ${path} lists a step clatbar never writes (${why}); nothing of it was run. Inspect it, undo by hand what clatbar changed, then delete it`,
        );
    }
    return parsed;
  }

  /**
   * Replays what an earlier run left behind (crash recovery). Refuses when that run's process
   * is still alive, since its changes are then still in use.
   */
  static async recover(
    stateDir: string,
    log: Say = sayNothing,
    opts: JournalOptions = {},
  ): Promise<UndoOutcome[]> {
    const left = Journal.leftover(stateDir, opts);
    if (!left) return [];
    if (left.owner.pid !== process.pid && ownerAlive(left.owner.pid)) {
      throw new Error(
        `another clatbar engine (pid ${left.owner.pid}) is running with --state-dir ${stateDir} (since ${left.owner.startedAt}); nothing was changed. Stop it first (Ctrl-C in its terminal, or kill ${left.owner.pid}: it puts the network back as it stops), or see it with \`clatbar status\``,
      );
    }
    const j = new Journal(stateDir, left, opts);
    log(
      say('journal.recovering', {
        count: left.entries.length,
        pid: left.owner.pid,
        startedAt: left.owner.startedAt,
      }),
    );
    return j.undoAll(log);
  }

  /** Starts a fresh journal owned by this process (after recover() has emptied any old one). */
  static create(stateDir: string, opts: JournalOptions = {}): Journal {
    // 0755: the control socket may live here too and the unprivileged tray app must reach it;
    // the journal file itself is 0600.
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o755 });
      if (!lstatIsDir(stateDir)) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `the state directory ${stateDir} cannot hold the undo journal (${e.code ?? e.message}): nothing was changed; ` +
          'pass a writable directory with --state-dir, or leave the default /run/clatbar',
      );
    }
    if (Journal.leftover(stateDir, opts)?.entries.length) {
      throw new Error(
        `${join(stateDir, 'journal.json')} still lists changes from an earlier run; run recovery first`,
      );
    }
    const j = new Journal(
      stateDir,
      { version: 1, owner: { pid: process.pid, startedAt: new Date().toISOString() }, entries: [] },
      opts,
    );
    j.flush();
    return j;
  }

  get entries(): readonly JournalEntry[] {
    return this.data.entries;
  }

  /**
   * Writes the undo step to disk. Call before making the change. A step recovery would refuse
   * is a bug in the caller: it throws here, before anything is changed.
   */
  record(what: string, undo: UndoAction): void {
    const why = undoRefusal(undo, this.opts);
    if (why) throw new Error(`internal: journaling "${what}": ${why}`);
    this.data.entries.push({ what, undo, at: new Date().toISOString() });
    this.flush();
  }

  /**
   * Journals then makes a change. If making it fails, the entry is undone at once (the change
   * may have half happened) and the error is rethrown, so a failed bring-up leaves nothing.
   */
  async apply(what: string, undo: UndoAction, change: () => Promise<unknown> | unknown): Promise<void> {
    this.record(what, undo);
    try {
      await change();
    } catch (err) {
      const entry = this.data.entries.pop();
      if (entry) {
        try {
          await runUndo(entry.undo);
        } catch {
          // The change failed, so most often there is nothing to undo; the original error matters.
        }
      }
      this.flush();
      throw err;
    }
  }

  /** Sets a sysctl, journaling its old value first. No-op when it already has the value. */
  async setSysctl(key: string, value: string): Promise<void> {
    const path = sysctlPath(key);
    const old = readFileSync(path, 'utf8').trim();
    if (old === value) return;
    await this.apply(`sysctl ${key}=${value} (was ${old})`, { kind: 'sysctl', key, value: old }, () =>
      writeFileSync(path, `${value}\n`),
    );
  }

  /** Runs a command, journaling the command that undoes it first. */
  exec(what: string, argv: string[], undo: string[], ignore?: string[]): Promise<void> {
    return this.apply(what, { kind: 'exec', argv: undo, ignore }, () => execOut(argv));
  }

  /** Drops the newest entry without running its undo: for a journaled change never made. */
  forgetLast(): void {
    this.data.entries.pop();
    this.flush();
  }

  /**
   * Undoes the newest change now and drops it from the journal: for temporary changes such as
   * a DAD probe address, so they are covered by the journal only while they exist.
   */
  async undoLast(): Promise<UndoOutcome | null> {
    const entry = this.data.entries[this.data.entries.length - 1];
    if (!entry) return null;
    let outcome: UndoOutcome = { what: entry.what, ok: true };
    try {
      await runUndo(entry.undo);
    } catch (err) {
      outcome = { what: entry.what, ok: false, detail: (err as Error).message };
    }
    this.data.entries.pop();
    this.flush();
    return outcome;
  }

  /**
   * Undoes one change now, wherever it stands (the newest entry named `what`), and drops it; the
   * entries after it stay. For a change that nothing journaled after it depends on: the daemon's
   * grace period takes the CLAT's IPv4 default route out and keeps the rest of the instance; the
   * DNS64 stub gives its resolver hook back. An undo that fails keeps its entry, so stop and crash
   * recovery try again. Null when no entry has that name.
   */
  async undoEntry(what: string): Promise<UndoOutcome | null> {
    const i = this.data.entries.findLastIndex((e) => e.what === what);
    if (i < 0) return null;
    try {
      await runUndo(this.data.entries[i].undo);
    } catch (err) {
      return { what, ok: false, detail: (err as Error).message };
    }
    this.data.entries.splice(i, 1);
    this.flush();
    return { what, ok: true };
  }

  /** Undoes everything newest first. Keeps going past failures, reports each, then empties the file. */
  async undoAll(log: Say = sayNothing): Promise<UndoOutcome[]> {
    const outcomes: UndoOutcome[] = [];
    while (this.data.entries.length > 0) {
      const entry = this.data.entries[this.data.entries.length - 1];
      try {
        await runUndo(entry.undo);
        outcomes.push({ what: entry.what, ok: true });
        log(say('journal.undone', { what: entry.what }));
      } catch (err) {
        outcomes.push({ what: entry.what, ok: false, detail: (err as Error).message });
        log(say('journal.undo-failed', { what: entry.what, error: (err as Error).message }));
      }
      this.data.entries.pop();
      this.flush();
    }
    rmSync(this.path, { force: true });
    return outcomes;
  }

  private flush(): void {
    writeFileAtomic.sync(this.path, `${JSON.stringify(this.data, null, 1)}\n`, { fsync: true, mode: 0o600 });
  }
}

function lstatIsDir(path: string): boolean {
  try {
    return fstatDir(path);
  } catch {
    return false;
  }
}

function fstatDir(path: string): boolean {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  closeSync(fd);
  return true;
}

/**
 * Whether the journal's owner still runs. A pid can be reused after a crash or reboot-less
 * kill -9, so a live pid only counts when its command line is a clatbar one.
 */
function ownerAlive(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('clatbar');
  } catch {
    // No /proc (or not ours to read): trust the pid, the safe side.
    return true;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
