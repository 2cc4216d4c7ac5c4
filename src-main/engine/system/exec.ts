// Runs the system tools the engine configures the host with (ip, sysctl, resolvectl).
// Failures become errors that say which command failed and what it printed.
import { execFileSync } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    super(
      `\`${argv.join(' ')}\` failed${status === null ? '' : ` (exit ${status})`}: ${stderr.trim() || 'no output'}`,
    );
  }
}

/** Runs argv synchronously and returns its stdout; throws CommandError on a non-zero exit. */
export function execOut(argv: readonly string[], input?: string): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string | Buffer; status?: number | null; message: string };
    const stderr = e.stderr ? e.stderr.toString() : e.message;
    throw new CommandError(argv, stderr, e.status ?? null);
  }
}
