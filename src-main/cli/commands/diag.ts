// `clatbar diag`: the engine's diagnostics report, to read and attach to a bug report.
import { writeFileSync } from 'node:fs';
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { READ_OPTIONS, SOCKET_HELP, askEngine } from '../engine-call.js';

const help = `clatbar diag: a report for a bug report.

usage: clatbar diag [--json] [--out FILE] [--control-socket PATH]

Versions (clatbar, Node, kernel, NetworkManager, systemd-resolved), the engine's state and
recent transitions, the network as the engine sees it (classification, policy, prefix and its
source), the addresses and routes it made, counters, the last 500 log lines and the latest
self-test. Nothing secret: no keys or tokens, and MAC addresses are replaced by hashes. Read it
before you send it.

Needs root or membership of the clatbar group (the report holds the networks you joined).

options:
${SOCKET_HELP}
  --json                 print the report as JSON (the default prints a summary and the JSON)
  --out FILE             write the JSON report to FILE (mode 0600) instead of printing it

exit status: 0 done; 1 the engine refused or does not run; 2 bad usage.
`;

const command: Command = {
  name: 'diag',
  summary: 'Write a diagnostics report for a bug report',
  help,
  async run(argv) {
    const { values, positionals } = parseOptions({
      args: argv,
      options: { ...READ_OPTIONS, out: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`clatbar diag takes no arguments, not '${positionals[0]}'`);
    const r = await askEngine('diag', values['control-socket'], 'diagnostics', undefined, {
      json: values.json,
      timeoutMs: 15_000,
    });
    if ('exit' in r) return r.exit;
    const reply = r.reply;
    const text = `${JSON.stringify(reply, null, 2)}\n`;
    if (values.out) {
      try {
        // wx: never overwrite (or follow a link at) an existing file.
        writeFileSync(values.out, text, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        process.stderr.write(
          `clatbar diag: cannot write ${values.out}: ${(err as Error).message}; pick a new file name\n`,
        );
        return EXIT.failure;
      }
      process.stdout.write(`wrote ${values.out} (${text.length} bytes); read it before you attach it\n`);
      return EXIT.ok;
    }
    if (!values.json) {
      const r = reply as { versions?: Record<string, unknown>; state?: unknown };
      process.stderr.write(
        `clatbar ${String(r.versions?.clatbar)}, state ${String(r.state)}; the full report follows (save it with --out FILE)\n`,
      );
    }
    process.stdout.write(text);
    return EXIT.ok;
  },
};

export default command;
