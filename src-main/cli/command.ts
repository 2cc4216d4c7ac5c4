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
    const message = (err as Error).message;
    // A typo of a real option ("--upstreams", "--state_dir") gets the option it was meant to be.
    const unknown = /Unknown option '(--[^']+)'/.exec(message)?.[1];
    const known = Object.keys(config.options ?? {}).map((k) => `--${k}`);
    const near = unknown && closest(unknown.split('=')[0], known);
    throw new UsageError(near ? `${message}; did you mean ${near}?` : message);
  }
}

/** The known option nearest to `word` (edit distance at most 2, or a prefix), if any. */
function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = k.startsWith(word) || word.startsWith(k) ? 1 : distance(word, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
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
