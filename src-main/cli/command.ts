// What every `clatbar` subcommand provides to the dispatcher in main.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  /** One line for `clatbar --help`. */
  summary: string;
  /** The full text of `clatbar NAME --help`. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A usage error: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/**
 * Strict option parsing: unknown options and stray positionals are usage errors that name
 * the offending word, so a typo never silently does something else. Pass `args`, `options`
 * and `strict: true` (the default of parseArgs) as usual.
 */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A command whose issue has not landed yet: it says so instead of pretending. */
export function notBuilt(name: string, summary: string): Command {
  return {
    name,
    summary: `${summary} (not built yet)`,
    help: `clatbar ${name}: ${summary}.\n\nThis command is not built yet.\n`,
    async run() {
      process.stderr.write(`clatbar ${name}: not built yet in this version.\n`);
      return EXIT.usage;
    },
  };
}
