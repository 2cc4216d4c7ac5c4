// What `clatbar lab up` made, recorded before it is made, so `clatbar lab down` can remove all of
// it even when `up` was killed half way. The lab's names are fixed, so `down` also removes them
// when the record is missing or refused; the record adds the processes (pid and start time, so
// a recycled pid is never signalled) and whether /run/netns was created by the lab.
// The file is trusted only when root owns it and its directory and nobody else can write them,
// and only paths from the fixed list below can be named in it.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { netnsSocketDir } from '../system/netns-name.js';
import type { LabNames } from './topology.js';

export const LAB_NAMES: LabNames = {
  laptop: 'clatbar-laptop',
  router: 'clatbar-router',
  server: 'clatbar-server',
};
/** The lab's working directory: this record, configs, logs, the engine's state. Root only. */
export const LAB_DIR = '/run/clatbar-lab';
export const STATE_FILE = join(LAB_DIR, 'state.json');
/** DNS inside the laptop namespace: `ip netns exec` binds this dir's resolv.conf over /etc's. */
export const LAPTOP_ETC = `/etc/netns/${LAB_NAMES.laptop}`;
/** The laptop engine's control socket directory, where `ip netns exec ... clatbar` looks. */
export const LAPTOP_SOCKET_DIR = netnsSocketDir(LAB_NAMES.laptop);

/** Every path the lab may create, and so the only ones `down` removes (children first). */
export const LAB_PATHS = [LAPTOP_ETC, LAPTOP_SOCKET_DIR, LAB_DIR] as const;

const ProcessSchema = z
  .object({
    role: z.string().regex(/^[a-z0-9-]{1,32}$/),
    pid: z.number().int().min(2),
    /** Field 22 of /proc/PID/stat: tells this process from a later one with the same pid. */
    startTime: z.string().regex(/^\d{1,20}$/),
  })
  .strict();
export type LabProcess = z.infer<typeof ProcessSchema>;

const LabStateSchema = z
  .object({
    version: z.literal(1),
    createdAt: z.string().max(40),
    namespaces: z.array(z.enum([LAB_NAMES.laptop, LAB_NAMES.router, LAB_NAMES.server])).max(3),
    processes: z.array(ProcessSchema).max(32),
    paths: z.array(z.enum(LAB_PATHS)).max(LAB_PATHS.length),
    /** /run/netns did not exist before: the lab's first `ip netns add` made it (and its mount). */
    madeNetnsDir: z.boolean(),
    /** The engine's control socket, for `lab status`. */
    controlSocket: z.string().max(200).optional(),
  })
  .strict();
export type LabState = z.infer<typeof LabStateSchema>;

export function emptyState(madeNetnsDir: boolean): LabState {
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    namespaces: [],
    processes: [],
    paths: [],
    madeNetnsDir,
    controlSocket: undefined,
  };
}

/** Root owns it and no one else may write it (a planted record must not steer what root kills). */
function trusted(path: string): string | null {
  const st = statSync(path);
  if (st.uid !== 0) return `${path} is owned by uid ${st.uid}, not root`;
  if ((st.mode & 0o022) !== 0) return `${path} is writable by group or others`;
  return null;
}

/** The record in `dir` (default LAB_DIR), or why it cannot be used (missing: null). */
export function readState(dir = LAB_DIR): { state: LabState | null; problem?: string } {
  const file = join(dir, 'state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: null };
    return { state: null, problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  const distrust = trusted(dir) ?? trusted(file);
  if (distrust) return { state: null, problem: `ignoring ${file}: ${distrust}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: null, problem: `ignoring ${file}: not JSON` };
  }
  const parsed = LabStateSchema.safeParse(json);
  if (!parsed.success)
    return {
      state: null,
      problem: `ignoring ${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    };
  return { state: parsed.data };
}

/** The record being written while `lab up` works: every change is saved before it is made. */
export class LabLedger {
  private constructor(
    readonly state: LabState,
    private readonly file: string,
  ) {}

  /**
   * Makes `dir` (root, 0700; default LAB_DIR, the only one the lab uses) and the first record.
   * Fails when it is there already.
   */
  static create(madeNetnsDir: boolean, dir: string = LAB_DIR): LabLedger {
    mkdirSync(dir, { mode: 0o700 });
    const ledger = new LabLedger(emptyState(madeNetnsDir), join(dir, 'state.json'));
    if (dir === LAB_DIR) ledger.state.paths.push(LAB_DIR);
    ledger.save();
    return ledger;
  }

  /** Applies a change to the record and saves it atomically (fsync'd) before returning. */
  record(change: (s: LabState) => void): void {
    change(this.state);
    this.save();
  }

  private save(): void {
    writeFileAtomic.sync(this.file, `${JSON.stringify(LabStateSchema.parse(this.state), null, 2)}\n`, {
      mode: 0o600,
      fsync: true,
    });
  }
}
