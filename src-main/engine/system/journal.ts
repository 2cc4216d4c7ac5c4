// The undo journal: every change the engine makes to the host (TUN, addresses, routes, sysctls,
// proxy-ND, resolver) is written here, with how to undo it, *before* it is made. Stop, crash
// recovery and the next start all replay the undo steps newest first, so a kill -9, a crash or
// a power cut never leaves the user's network broken (ARCHITECTURE.md, "must never happen").
//
// The file is replaced atomically (write-file-atomic, fsync) on every change, so it is always
// either the old or the new list, never half of one.
import { existsSync, readFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { execOut, CommandError } from './exec.js';

/** How to put one change back. Plain data, so a later process can replay it. */
export type UndoAction =
  /** Run a command (e.g. `ip -6 route del ...`). */
  | { kind: 'exec'; argv: string[]; /** stderr fragments meaning "already undone" */ ignore?: string[] }
  /** Put a file back as it was; content null means it did not exist. */
  | { kind: 'restore-file'; path: string; content: string | null; mode?: number }
  /** Restore a sysctl to its old value. */
  | { kind: 'sysctl'; key: string; value: string };

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

export function runUndo(undo: UndoAction): void {
  switch (undo.kind) {
    case 'exec':
      try {
        execOut(undo.argv);
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
  ) {
    this.path = join(stateDir, 'journal.json');
    this.data = data;
  }

  /** The journal file left by an earlier run in stateDir, if any. */
  static leftover(stateDir: string): JournalFile | null {
    const path = join(stateDir, 'journal.json');
    if (!existsSync(path)) return null;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as JournalFile;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Not ours to read (the journal is 0600 root): the fix is privilege, not hand-editing.
      if (code === 'EACCES' || code === 'EPERM')
        throw new Error(
          `the undo journal ${path} belongs to root; run this as root (sudo), which can read and replay it`,
        );
      throw new Error(
        `the undo journal ${path} is unreadable (${(err as Error).message}); inspect it, undo by hand, then delete it`,
      );
    }
  }

  /**
   * Replays what an earlier run left behind (crash recovery). Refuses when that run's process
   * is still alive, since its changes are then still in use.
   */
  static recover(stateDir: string, log: (line: string) => void = () => {}): UndoOutcome[] {
    const left = Journal.leftover(stateDir);
    if (!left) return [];
    if (left.owner.pid !== process.pid && ownerAlive(left.owner.pid)) {
      throw new Error(
        `another clatbar engine (pid ${left.owner.pid}) is running with --state-dir ${stateDir} (since ${left.owner.startedAt}); nothing was changed. Stop it first (Ctrl-C in its terminal, or kill ${left.owner.pid}: it puts the network back as it stops), or see it with \`clatbar status\``,
      );
    }
    const j = new Journal(stateDir, left);
    log(
      `recovering: undoing ${left.entries.length} change(s) left by pid ${left.owner.pid} (started ${left.owner.startedAt})`,
    );
    return j.undoAll(log);
  }

  /** Starts a fresh journal owned by this process (after recover() has emptied any old one). */
  static create(stateDir: string): Journal {
    // 0755: the control socket lives here too and the unprivileged tray app must reach it; the
    // journal file itself is 0600.
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o755 });
      if (!statSync(stateDir).isDirectory())
        throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `the state directory ${stateDir} cannot hold the undo journal (${e.code ?? e.message}): nothing was changed; ` +
          'pass a writable directory with --state-dir, or leave the default /run/clatbar',
      );
    }
    if (Journal.leftover(stateDir)?.entries.length) {
      throw new Error(
        `${join(stateDir, 'journal.json')} still lists changes from an earlier run; run recovery first`,
      );
    }
    const j = new Journal(stateDir, {
      version: 1,
      owner: { pid: process.pid, startedAt: new Date().toISOString() },
      entries: [],
    });
    j.flush();
    return j;
  }

  get entries(): readonly JournalEntry[] {
    return this.data.entries;
  }

  /** Writes the undo step to disk. Call before making the change. */
  record(what: string, undo: UndoAction): void {
    this.data.entries.push({ what, undo, at: new Date().toISOString() });
    this.flush();
  }

  /**
   * Journals then makes a change. If making it fails, the entry is undone at once (the change
   * may have half happened) and the error is rethrown, so a failed bring-up leaves nothing.
   */
  apply(what: string, undo: UndoAction, change: () => void): void {
    this.record(what, undo);
    try {
      change();
    } catch (err) {
      const entry = this.data.entries.pop();
      if (entry) {
        try {
          runUndo(entry.undo);
        } catch {
          // The change failed, so most often there is nothing to undo; the original error matters.
        }
      }
      this.flush();
      throw err;
    }
  }

  /** Sets a sysctl, journaling its old value first. No-op when it already has the value. */
  setSysctl(key: string, value: string): void {
    const path = sysctlPath(key);
    const old = readFileSync(path, 'utf8').trim();
    if (old === value) return;
    this.apply(`sysctl ${key}=${value} (was ${old})`, { kind: 'sysctl', key, value: old }, () =>
      writeFileSync(path, `${value}\n`),
    );
  }

  /** Runs a command, journaling the command that undoes it first. */
  exec(what: string, argv: string[], undo: string[], ignore?: string[]): void {
    this.apply(what, { kind: 'exec', argv: undo, ignore }, () => void execOut(argv));
  }

  /**
   * Undoes the newest change now and drops it from the journal: for temporary changes such as
   * a DAD probe address, so they are covered by the journal only while they exist.
   */
  undoLast(): UndoOutcome | null {
    const entry = this.data.entries[this.data.entries.length - 1];
    if (!entry) return null;
    let outcome: UndoOutcome = { what: entry.what, ok: true };
    try {
      runUndo(entry.undo);
    } catch (err) {
      outcome = { what: entry.what, ok: false, detail: (err as Error).message };
    }
    this.data.entries.pop();
    this.flush();
    return outcome;
  }

  /** Undoes everything newest first. Keeps going past failures, reports each, then empties the file. */
  undoAll(log: (line: string) => void = () => {}): UndoOutcome[] {
    const outcomes: UndoOutcome[] = [];
    while (this.data.entries.length > 0) {
      const entry = this.data.entries[this.data.entries.length - 1];
      try {
        runUndo(entry.undo);
        outcomes.push({ what: entry.what, ok: true });
        log(`undone: ${entry.what}`);
      } catch (err) {
        outcomes.push({ what: entry.what, ok: false, detail: (err as Error).message });
        log(`could not undo ${entry.what}: ${(err as Error).message}`);
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
