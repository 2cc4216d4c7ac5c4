// Per-network policy: the user's choices (--data-dir/policy.json, written atomically, versioned)
// under the administrator's file (/etc/clatbar/policy.json), which wins and says so.
//
// Never a crash and never a half-applied file: each file is read whole and validated with zod;
// a user file that does not parse is moved aside (policy.json.corrupt-TIME) with a warning and
// the defaults apply; an admin file that does not parse, or that a non-root user could have
// written, is ignored with a warning (/etc may be read-only to the service, so it is not moved).
//
// Only root's files count (system/trusted-path.ts: the file and every directory above it root's
// and writable by no one else). A user file in a data directory another user could change
// (`--data-dir` pointed somewhere unsafe) is not read, and nothing is written there: its owner
// could have chosen the policies, or planted a symlink where write-file-atomic creates its
// temporary file and had root write through it. The defaults apply and the warning says why.
import { mkdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import {
  PolicySchema,
  Dns64ModeSchema,
  InboundSchema,
  type Policy,
  type Dns64Mode,
  type Inbound,
} from '../../shared/control.js';
import type { DefaultPolicy, NetworkRecord, PolicySource } from '../../shared/status.js';
import { untrustedReason } from '../system/trusted-path.js';
import { say, type Say } from '../../shared/say.js';

export const POLICY_FILE_VERSION = 1;
export const DEFAULT_ADMIN_POLICY = '/etc/clatbar/policy.json';
/** Networks remembered at most; the least recently seen without a choice go first. */
export const MAX_NETWORKS = 500;

const NetworkIdSchema = z.string().min(1).max(128);

const UserNetworkSchema = z
  .object({
    name: z.string().max(256),
    policy: PolicySchema.optional(),
    inbound: InboundSchema.optional(),
    lastSeen: z.string().max(64).optional(),
  })
  .strict();

export const UserFileSchema = z
  .object({
    version: z.literal(POLICY_FILE_VERSION),
    defaultPolicy: PolicySchema.optional(),
    dns64Mode: Dns64ModeSchema.optional(),
    networks: z.record(NetworkIdSchema, UserNetworkSchema),
  })
  .strict();
export type UserFile = z.infer<typeof UserFileSchema>;

export const AdminFileSchema = z
  .object({
    version: z.literal(POLICY_FILE_VERSION),
    defaultPolicy: PolicySchema.optional(),
    networks: z
      .record(
        NetworkIdSchema,
        z
          .object({
            policy: PolicySchema.optional(),
            /** Pins the NAT64 prefix on this network (over PREF64 and RFC 7050). */
            prefix: z.string().max(64).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
export type AdminFile = z.infer<typeof AdminFileSchema>;

export interface ResolvedPolicy {
  value: Policy;
  source: PolicySource;
  adminForced: boolean;
  /** The admin file's pinned prefix for this network. */
  pinnedPrefix?: string;
  inbound: Inbound;
}

export interface PolicyStoreOptions {
  dataDir: string;
  adminPath?: string;
  /** Problems with the files: the daemon writes them into its log as warnings. */
  warn: Say;
}

export class AdminForced extends Error {}

/**
 * Network ids are keys others choose (a control client names one), so the maps they key have no
 * prototype: "__proto__", "constructor" or "toString" is an id like any other, never a way to
 * reach, or change, Object.prototype of the root engine.
 */
function idMap<T>(from: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}

export class PolicyStore {
  private user: UserFile = { version: POLICY_FILE_VERSION, networks: idMap() };
  private admin: AdminFile = { version: POLICY_FILE_VERSION };
  readonly userPath: string;
  readonly adminPath: string;
  /** Writes in order, one at a time: the file always holds the newest complete state. */
  private writing: Promise<void> = Promise.resolve();
  /** Why the data directory is not root's alone, or null: then nothing is read or written there. */
  private untrustedDir: string | null = null;

  constructor(private readonly opts: PolicyStoreOptions) {
    this.userPath = join(opts.dataDir, 'policy.json');
    this.adminPath = opts.adminPath ?? DEFAULT_ADMIN_POLICY;
  }

  /** (Re-)reads both files (at start and on SIGHUP). */
  load(): void {
    this.user = this.readUser();
    this.admin = this.readAdmin();
  }

  private readUser(): UserFile {
    const empty: UserFile = { version: POLICY_FILE_VERSION, networks: idMap() };
    this.untrustedDir = this.dataDirProblem();
    if (this.untrustedDir) {
      this.opts.warn(
        say('policy.user-untrusted', {
          path: this.userPath,
          reason: this.untrustedDir,
          dir: this.opts.dataDir,
        }),
      );
      return empty;
    }
    const fileWhy = untrustedReason(this.userPath, 'file');
    if (fileWhy && !/ENOENT/.test(fileWhy)) {
      // In a directory of root's alone, so moving it aside is safe; reading it is not.
      this.moveAside('untrusted', fileWhy);
      return empty;
    }
    let text: string;
    try {
      text = readFileSync(this.userPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
      this.moveAside('unreadable', (err as Error).message);
      return empty;
    }
    try {
      const file = UserFileSchema.parse(JSON.parse(text));
      return { ...file, networks: idMap(file.networks) };
    } catch (err) {
      this.moveAside('invalid', firstLine(err));
      return empty;
    }
  }

  /** The user file set aside (policy.json.corrupt-TIME) for what is wrong with it, and said so. */
  private moveAside(what: 'untrusted' | 'unreadable' | 'invalid', detail: string): void {
    const aside = `${this.userPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.userPath, aside);
      this.opts.warn(say(`policy.user-${what}-moved`, { path: this.userPath, detail, aside }));
    } catch (err) {
      this.opts.warn(
        say(`policy.user-${what}-kept`, { path: this.userPath, detail, error: (err as Error).message }),
      );
    }
  }

  private readAdmin(): AdminFile {
    const none: AdminFile = { version: POLICY_FILE_VERSION };
    let text: string;
    try {
      // Root's file only: one a user could write, or swap (a directory of theirs above it),
      // would let them steer the root engine. A symlink is followed (configuration managers
      // link /etc files), but the directory holding it must be root's and so must its target.
      const target = realpathSync(this.adminPath);
      const why = untrustedReason(dirname(this.adminPath), 'directory') ?? untrustedReason(target, 'file');
      if (why) {
        this.opts.warn(say('policy.admin-untrusted', { path: this.adminPath, reason: why }));
        return none;
      }
      text = readFileSync(target, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return none;
      this.opts.warn(say('policy.admin-unreadable', { path: this.adminPath, error: (err as Error).message }));
      return none;
    }
    try {
      const file = AdminFileSchema.parse(JSON.parse(text));
      return file.networks ? { ...file, networks: idMap(file.networks) } : file;
    } catch (err) {
      this.opts.warn(say('policy.admin-invalid', { path: this.adminPath, detail: firstLine(err) }));
      return none;
    }
  }

  resolve(network: string | null): ResolvedPolicy {
    const a = network ? this.admin.networks?.[network] : undefined;
    const u = network ? this.user.networks[network] : undefined;
    const inbound = u?.inbound ?? 'deny';
    const pin = a?.prefix ? { pinnedPrefix: a.prefix } : {};
    if (a?.policy) return { value: a.policy, source: 'admin', adminForced: true, inbound, ...pin };
    if (u?.policy) return { value: u.policy, source: 'user', adminForced: false, inbound, ...pin };
    const d = this.defaultPolicy();
    return { value: d.value, source: d.source, adminForced: false, inbound, ...pin };
  }

  /**
   * The policy of a network without one of its own: the admin file's default, else the user's,
   * else automatic (status.defaultPolicy, which the settings window shows and locks).
   */
  defaultPolicy(): DefaultPolicy {
    if (this.admin.defaultPolicy)
      return { value: this.admin.defaultPolicy, source: 'admin-default', adminFile: this.adminPath };
    if (this.user.defaultPolicy) return { value: this.user.defaultPolicy, source: 'user-default' };
    return { value: 'auto', source: 'default' };
  }

  get dns64Mode(): Dns64Mode | undefined {
    return this.user.dns64Mode;
  }

  /** Notes that the laptop is on this network now (listNetworks' history). */
  async seen(id: string, name: string): Promise<void> {
    const n = this.user.networks[id];
    this.user.networks[id] = { ...n, name, lastSeen: new Date().toISOString() };
    this.trim();
    await this.save();
  }

  async setPolicy(id: string, policy: Policy | 'default'): Promise<void> {
    if (this.admin.networks?.[id]?.policy)
      throw new AdminForced(
        `the administrator sets this network's policy to "${this.admin.networks[id].policy}" in ${this.adminPath}`,
      );
    const n = this.user.networks[id] ?? { name: id };
    if (policy === 'default') delete n.policy;
    else n.policy = policy;
    this.user.networks[id] = n;
    await this.save();
  }

  async setDefaultPolicy(policy: Policy): Promise<void> {
    if (this.admin.defaultPolicy)
      throw new AdminForced(
        `the administrator sets the default policy to "${this.admin.defaultPolicy}" in ${this.adminPath}`,
      );
    this.user.defaultPolicy = policy;
    await this.save();
  }

  async setDns64Mode(mode: Dns64Mode): Promise<void> {
    this.user.dns64Mode = mode;
    await this.save();
  }

  async setInbound(id: string, value: Inbound | null): Promise<void> {
    const n = this.user.networks[id] ?? { name: id };
    if (value === null) delete n.inbound;
    else n.inbound = value;
    this.user.networks[id] = n;
    await this.save();
  }

  /** Forgets the network: its policy, options and history. False when it was not known. */
  async forget(id: string): Promise<boolean> {
    if (!this.user.networks[id]) return false;
    delete this.user.networks[id];
    await this.save();
    return true;
  }

  has(id: string): boolean {
    return Object.hasOwn(this.user.networks, id) || Object.hasOwn(this.admin.networks ?? {}, id);
  }

  list(current: string | null): NetworkRecord[] {
    const ids = new Set([...Object.keys(this.user.networks), ...Object.keys(this.admin.networks ?? {})]);
    return [...ids].map((id) => {
      const u = this.user.networks[id];
      const a = this.admin.networks?.[id];
      const r: NetworkRecord = { id, name: u?.name ?? id, current: id === current };
      if (u?.policy) r.policy = u.policy;
      if (a?.policy) {
        r.adminPolicy = a.policy;
        r.adminFile = this.adminPath;
      }
      if (u?.inbound) r.inbound = u.inbound;
      if (u?.lastSeen) r.lastSeen = u.lastSeen;
      return r;
    });
  }

  /** Bounded: the least recently seen networks without a choice of the user's go first. */
  private trim(): void {
    const ids = Object.keys(this.user.networks);
    if (ids.length <= MAX_NETWORKS) return;
    const plain = ids
      .filter((id) => !this.user.networks[id].policy && !this.user.networks[id].inbound)
      .sort((a, b) =>
        (this.user.networks[a].lastSeen ?? '').localeCompare(this.user.networks[b].lastSeen ?? ''),
      );
    for (const id of plain.slice(0, ids.length - MAX_NETWORKS)) delete this.user.networks[id];
  }

  /** Why the data directory (if it exists) or a directory above it is not root's alone, or null. */
  private dataDirProblem(): string | null {
    let dir = this.opts.dataDir;
    // A directory not made yet is judged by the nearest one that exists (save makes the rest).
    for (;;) {
      const why = untrustedReason(dir, 'directory');
      if (!why || !/ENOENT/.test(why) || dirname(dir) === dir) return why;
      dir = dirname(dir);
    }
  }

  private dataDirFix(): string {
    return `Use a directory only root can write (the default /var/lib/clatbar is), or make it so: sudo chown root:root ${this.opts.dataDir} && sudo chmod 0700 ${this.opts.dataDir} (and the same for the directories above)`;
  }

  private save(): Promise<void> {
    const text = `${JSON.stringify(this.user, null, 2)}\n`;
    const p = this.writing.then(async () => {
      const why = this.untrustedDir ?? this.dataDirProblem();
      if (why) throw new Error(`the choice was not saved in ${this.userPath}: ${why}. ${this.dataDirFix()}`);
      mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
      // Made just now (or meanwhile by someone else): the same rule before anything goes in it.
      const made = untrustedReason(this.opts.dataDir, 'directory');
      if (made)
        throw new Error(`the choice was not saved in ${this.userPath}: ${made}. ${this.dataDirFix()}`);
      await writeFileAtomic(this.userPath, text, { mode: 0o600 });
    });
    // One failed write (a full disk) must not fail every later one.
    this.writing = p.catch(() => {});
    return p;
  }
}

function firstLine(err: unknown): string {
  return (err as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300);
}
