// `clatbar selftest`: asks the engine to run its self-test and prints each check.
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { READ_OPTIONS, SOCKET_HELP, askEngine } from '../engine-call.js';
import { SelfTestReportSchema } from '../../shared/control.js';

const help = `clatbar selftest: check that IPv4 works through the CLAT, and say what to fix.

usage: clatbar selftest [--json] [--control-socket PATH]

The engine runs each check and reports pass, fail or skipped with a sentence and the fix:
IPv4 ping and TCP connect through the CLAT (to the targets given to \`clatbar run
--selftest-target\`), A and AAAA lookups through the system resolver, ipv4only.arpa from the
network's resolvers, the path MTU towards the NAT64 (pings with Don't Fragment), the DNS64 stub
when it runs, and firewall rules that would drop the translated traffic.

Needs root or membership of the clatbar group.

options:
${SOCKET_HELP}
  --json                 print the report as JSON

exit status: 0 every check passed or was skipped; 1 a check failed, or no engine answered;
2 bad usage.
`;

const MARK = { pass: 'pass', fail: 'FAIL', skipped: 'skip' } as const;

const command: Command = {
  name: 'selftest',
  summary: 'Check that IPv4 works through the CLAT',
  help,
  async run(argv) {
    const { values, positionals } = parseOptions({
      args: argv,
      options: READ_OPTIONS,
      allowPositionals: true,
    });
    if (positionals.length)
      throw new UsageError(`clatbar selftest takes no arguments, not '${positionals[0]}'`);
    // The checks wait for probes of a few seconds each, in parallel.
    const r = await askEngine('selftest', values['control-socket'], 'selfTest', undefined, {
      json: values.json,
      timeoutMs: 30_000,
    });
    if ('exit' in r) return r.exit;
    const report = SelfTestReportSchema.safeParse(r.reply);
    if (!report.success) {
      process.stderr.write(
        'clatbar selftest: the engine answered something that is not a self-test report; is it another clatbar version?\n',
      );
      return EXIT.failure;
    }
    const failed = report.data.checks.some((c) => c.result === 'fail');
    if (values.json) process.stdout.write(`${JSON.stringify(report.data, null, 2)}\n`);
    else
      for (const c of report.data.checks)
        process.stdout.write(
          `${MARK[c.result]}  ${c.title}: ${c.text}${c.fix && c.result !== 'pass' ? `\n      fix: ${c.fix}` : ''}\n`,
        );
    return failed ? EXIT.failure : EXIT.ok;
  },
};

export default command;
