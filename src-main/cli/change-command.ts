// The shape of the CLI commands that ask the engine for one change (enable, disable): options,
// help, the call, and the "what to do" when it fails.
import { EXIT, UsageError, parseOptions, type Command } from './command.js';
import { SOCKET_HELP, SOCKET_OPTION, askEngine } from './engine-call.js';
import { callTimeoutMs } from '../shared/control.js';

export function changeCommand(c: {
  name: string;
  summary: string;
  method: string;
  done: string;
  explain: string;
}): Command {
  return {
    name: c.name,
    summary: c.summary,
    help: `clatbar ${c.name}: ${c.summary.toLowerCase()}.

usage: clatbar ${c.name} [--control-socket PATH]

${c.explain}

Needs root or membership of the clatbar group (sudo usermod -aG clatbar USER, then log in
again). The engine logs who asked.

options:
${SOCKET_HELP}

exit status: 0 done; 1 the engine refused or does not run (the message says what to do);
2 bad usage.
`,
    async run(argv) {
      const { values, positionals } = parseOptions({
        args: argv,
        options: { ...SOCKET_OPTION },
        allowPositionals: true,
      });
      if (positionals.length)
        throw new UsageError(`clatbar ${c.name} takes no arguments, not '${positionals[0]}'`);
      const r = await askEngine(c.name, values['control-socket'], c.method, undefined, {
        timeoutMs: callTimeoutMs(c.method),
      });
      if ('exit' in r) return r.exit;
      process.stdout.write(`${c.done}\n`);
      return EXIT.ok;
    },
  };
}
