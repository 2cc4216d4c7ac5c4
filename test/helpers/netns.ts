// Throwaway network namespaces for end-to-end tests. Every namespace and link made through a
// Lab is removed by dispose(), which tests call from t.after() so it also runs when they fail.
// Names carry the test process's pid so parallel or crashed runs never collide.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { requires, type Needs } from './env.js';

export function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export class Lab {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly files: string[] = [];
  readonly tag: string;

  constructor(prefix: string) {
    this.tag = `${prefix}${process.pid % 100000}`;
  }

  /** Creates namespace `${tag}-${name}` with loopback up and returns its full name. */
  ns(name: string): string {
    const full = `${this.tag}-${name}`;
    sh('ip', ['netns', 'del', full], { allowFail: true });
    sh('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    this.exec(full, 'ip', ['link', 'set', 'lo', 'up']);
    return full;
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** A veth pair between two namespaces, both ends up. */
  veth(a: string, aIf: string, b: string, bIf: string): void {
    sh('ip', ['link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    this.exec(a, 'ip', ['link', 'set', aIf, 'up']);
    this.exec(b, 'ip', ['link', 'set', bIf, 'up']);
  }

  /** Starts a long-running process inside a namespace; killed by dispose(). */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...opts });
    this.children.push(child);
    return child;
  }

  /** /etc/netns/NS/resolv.conf is what programs run by `ip netns exec NS` see as resolv.conf. */
  resolvConf(ns: string, content: string): void {
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, content);
    this.files.push(`/etc/netns/${ns}`);
  }

  async dispose(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => {
          const timer = setTimeout(() => {
            c.kill('SIGKILL');
            r(undefined);
          }, 3000);
          c.once('exit', () => {
            clearTimeout(timer);
            r(undefined);
          });
        });
      }
    }
    for (const ns of this.namespaces.reverse()) {
      // Kill anything still running inside before deleting, so no process outlives the test.
      sh('ip', ['netns', 'pids', ns], { allowFail: true })
        .split(/\s+/)
        .filter(Boolean)
        .forEach((pid) => sh('kill', ['-9', pid], { allowFail: true }));
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
    for (const f of this.files) rmSync(f, { recursive: true, force: true });
  }
}

/**
 * The preamble of a test that works in a namespace of its own: checks that the machine has what
 * `need` says (env.ts requires: skipped here, failed in CI), makes a Lab that is disposed after the
 * test (also when it fails) and the namespace `${tag}-${name}`. null when the test was skipped.
 */
export function labNamespace(
  t: TestContext,
  need: Needs,
  prefix: string,
  name: string,
): { lab: Lab; ns: string } | null {
  if (!requires(t, need)) return null;
  const lab = new Lab(prefix);
  t.after(() => lab.dispose());
  return { lab, ns: lab.ns(name) };
}
