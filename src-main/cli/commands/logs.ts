// `clatbar logs [-f] [--since TIME] [--after-seq SEQ]`: the engine's recent log lines, and with
// -f the new ones as they are written (a `subscribe` to log lines). --since reads times as
// journalctl does (time-arg.ts); --after-seq resumes after a line a script saw last.
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import {
  NoAnswer,
  SOCKET_HELP,
  SOCKET_OPTION,
  ask,
  explain,
  openEngine,
  reportNoAnswer,
  socketPath,
} from '../engine-call.js';
import { CallError } from '../../engine/control/client.js';
import { LogLineSchema, type LogLine } from '../../shared/status.js';
import { parseTime } from '../time-arg.js';

const help = `clatbar logs: what the engine logged.

usage: clatbar logs [-f] [--since TIME] [--after-seq SEQ] [--limit N] [--json]
                    [--control-socket PATH]

Prints the engine's recent log lines (it keeps the last 2000 in memory; under systemd all of
them are in the journal: journalctl -u clatbar-engine).

Needs root or membership of the clatbar group.

options:
${SOCKET_HELP}
  -f, --follow           keep printing new lines as they are written, until Ctrl-C
  --since TIME           only lines written at or after TIME, as journalctl --since takes
                         it: a time ago (10m, 2h, 1h30m, "3 days ago"), today, yesterday,
                         or a date and time (2026-12-04T03:00:00Z with its zone, or
                         "2026-12-04 03:00" in local time)
  --after-seq SEQ        only lines after this sequence number (each line's first field;
                         a script that saw line 1234 last resumes with --after-seq 1234)
  --limit N              at most the last N lines (1-5000). default: 500
  --json                 one JSON object per line

examples:
  clatbar logs --since 10m
  clatbar logs -f --since today
  clatbar logs --since "2026-12-04 03:00" --limit 50

exit status: 0 done; 1 the engine refused or does not run; 2 bad usage.
`;

function print(line: LogLine, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(line)}\n` : `${line.seq} ${line.time} ${line.text}\n`);
}

const command: Command = {
  name: 'logs',
  summary: "Show the engine's log",
  help,
  async run(argv) {
    const { values, positionals } = parseOptions({
      args: argv,
      options: {
        ...SOCKET_OPTION,
        follow: { type: 'boolean', short: 'f', default: false },
        since: { type: 'string' },
        'after-seq': { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`clatbar logs takes no arguments, not '${positionals[0]}'`);
    const num = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${v}'`);
      return n;
    };
    const since = num('after-seq', values['after-seq'], 0, Number.MAX_SAFE_INTEGER);
    let sinceTime: string | undefined;
    if (values.since !== undefined) {
      try {
        sinceTime = parseTime(values.since).toISOString();
      } catch (err) {
        const seq = /^\d+$/.test(values.since.trim())
          ? ` (for lines after sequence number ${values.since.trim()}, use --after-seq ${values.since.trim()})`
          : '';
        throw new UsageError(`--since: ${(err as Error).message}${seq}`);
      }
    }
    const limit = num('limit', values.limit, 1, 5000);
    const query = {
      ...(since !== undefined && { since }),
      ...(sinceTime !== undefined && { sinceTime }),
      ...(limit && { limit }),
    };
    const path = await socketPath(values['control-socket']);
    let last = since ?? 0;
    const show = (raw: unknown): void => {
      const l = LogLineSchema.safeParse(raw);
      if (l.success && l.data.seq > last) {
        last = l.data.seq;
        print(l.data, values.json);
      }
    };
    if (!values.follow) {
      try {
        const reply = (await ask(path, 'logs', query)) as { lines?: unknown[] };
        for (const l of reply.lines ?? []) show(l);
      } catch (err) {
        if (err instanceof NoAnswer) return reportNoAnswer('logs', err, false, path);
        throw err;
      }
      return EXIT.ok;
    }
    // Follow: subscribe first, then fetch the backlog, so no line falls between the two.
    const pending: unknown[] = [];
    let backlogDone = false;
    const client = openEngine(path, (method, params) => {
      if (method !== 'log') return;
      const line = (params as { line?: unknown }).line;
      if (backlogDone) show(line);
      else pending.push(line);
    });
    try {
      await client.call('subscribe', { topics: ['logs'] });
      const reply = (await client.call('logs', query)) as { lines?: unknown[] };
      for (const l of reply.lines ?? []) show(l);
      backlogDone = true;
      for (const l of pending) show(l);
    } catch (err) {
      client.close();
      if (err instanceof CallError) return reportNoAnswer('logs', explain(err, path, 'logs'), false, path);
      throw err;
    }
    return new Promise<number>((resolve) => {
      const stop = () => {
        client.close();
        resolve(EXIT.ok);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // The engine went away (stopped, or dropped us): say so and end with failure.
      void client.closed.then(() => {
        process.stderr.write('clatbar logs: the engine closed the connection (stopped?)\n');
        resolve(EXIT.failure);
      });
    });
  },
};

export default command;
