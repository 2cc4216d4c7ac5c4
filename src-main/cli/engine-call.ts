// How every CLI command that talks to the engine finds it and explains a failure. The socket is
// --control-socket, else this network namespace's engine (shared/control.ts controlSocketPath:
// /run/clatbar/engine.sock on the host, /run/clatbar-netns/NAME/engine.sock inside `ip netns
// exec NAME`). A failure is a NoAnswer with the message and exactly what to do.
import { userInfo } from 'node:os';
import { CallError, ControlClient, callControl } from '../engine/control/client.js';
import { controlPlan } from '../engine/control/options.js';
import { CALL_TIMEOUT_MS, DEFAULT_CONTROL_GROUP, RPC_ERROR } from '../shared/control.js';

export class NoAnswer extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** The --control-socket option every engine command takes, and its help text. */
export const SOCKET_OPTION = { 'control-socket': { type: 'string' } } as const;
/** The options of the read-only commands: the socket and --json. */
export const READ_OPTIONS = { ...SOCKET_OPTION, json: { type: 'boolean', default: false } } as const;
export const SOCKET_HELP = `  --control-socket PATH  the engine's socket, as given to \`clatbar run --control-socket\`.
                         default: /run/clatbar/engine.sock; inside \`ip netns exec NAME\`:
                         /run/clatbar-netns/NAME/engine.sock`;

export async function socketPath(given: string | undefined): Promise<string> {
  return given ?? (await controlPlan()).socket;
}

function me(): string {
  try {
    return userInfo().username;
  } catch {
    return 'USER';
  }
}

/** A CallError in words, with what to do. */
export function explain(err: CallError, path: string, method: string, timeoutMs = CALL_TIMEOUT_MS): NoAnswer {
  switch (err.kind) {
    case 'timeout':
      return new NoAnswer(
        `the engine on ${path} did not answer within ${timeoutMs / 1000} s (asked "${method}")`,
        'it may be stuck: sudo systemctl restart clatbar-engine (or stop `clatbar run` with Ctrl-C and start it again); the network is put back either way',
      );
    case 'refused':
      if (err.rpcCode === RPC_ERROR.notAllowed) {
        const data = err.data as { group?: unknown } | undefined;
        const group = typeof data?.group === 'string' ? data.group : DEFAULT_CONTROL_GROUP;
        return new NoAnswer(
          `access denied: "${method}" is for root and members of the group ${group}`,
          `ask an administrator to add you: sudo usermod -aG ${group} ${me()}, then log out and in again (or run this command with sudo)`,
        );
      }
      if (
        err.rpcCode === RPC_ERROR.unsupported ||
        err.rpcCode === RPC_ERROR.adminForced ||
        err.rpcCode === RPC_ERROR.noCurrentNetwork ||
        err.rpcCode === RPC_ERROR.invalidParams ||
        err.rpcCode === RPC_ERROR.busy
      )
        return new NoAnswer(`the engine says: ${err.detail}`, 'see `clatbar COMMAND --help`');
      return new NoAnswer(
        `something answers on ${path}, but not as a clatbar engine: ${err.detail}`,
        'check which program owns that socket (ss -xlp), or pass the right --control-socket',
      );
    case 'garbage':
      return new NoAnswer(
        `something answers on ${path}, but not as a clatbar engine: ${err.detail}`,
        'check which program owns that socket (ss -xlp), or pass the right --control-socket',
      );
    case 'unreachable':
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
        return new NoAnswer(
          `no engine is running (nothing listens on ${path})`,
          'start it: sudo systemctl start clatbar-engine\n' +
            '(or by hand: sudo clatbar run --uplink IFACE; if it runs with another --control-socket, pass that path here too)',
        );
      if (err.code === 'EACCES' || err.code === 'EPERM')
        return new NoAnswer(
          `no permission to open ${path}`,
          'the engine makes its socket connectable by everyone; an old socket or directory may be in the way: sudo systemctl restart clatbar-engine',
        );
      return new NoAnswer(`cannot reach the engine on ${path}: ${err.detail}`, 'see `clatbar status --help`');
  }
}

/** One call; a failure becomes a NoAnswer. */
export async function ask(
  path: string,
  method: string,
  params?: unknown,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<unknown> {
  try {
    return await callControl(path, method, params, { timeoutMs });
  } catch (err) {
    if (err instanceof CallError) throw explain(err, path, method, timeoutMs);
    throw err;
  }
}

/** A connection that stays open (logs -f): calls and notifications. */
export function openEngine(
  path: string,
  onNotification: (method: string, params: unknown) => void,
): ControlClient {
  return ControlClient.open(path, { onNotification });
}

/** Prints a NoAnswer the way every command does; returns the exit code. */
export function reportNoAnswer(command: string, err: NoAnswer, json: boolean, path: string): number {
  process.stderr.write(`clatbar ${command}: ${err.message}.\n${err.fix}\n`);
  // A script that asked for JSON gets JSON either way (`jq` on empty input says nothing useful).
  if (json)
    process.stdout.write(
      `${JSON.stringify({ running: false, controlSocket: path, error: err.message, fix: err.fix }, null, 2)}\n`,
    );
  return 1;
}

/**
 * The whole exchange of a one-shot command: finds the socket (given or this namespace's), asks,
 * and on failure prints what to do. Returns the reply, or the exit code to return.
 */
export async function askEngine(
  command: string,
  given: string | undefined,
  method: string,
  params?: unknown,
  opts: { json?: boolean; timeoutMs?: number } = {},
): Promise<{ reply: unknown; path: string } | { exit: number }> {
  const path = await socketPath(given);
  try {
    return { reply: await ask(path, method, params, opts.timeoutMs), path };
  } catch (err) {
    if (err instanceof NoAnswer) return { exit: reportNoAnswer(command, err, opts.json ?? false, path) };
    throw err;
  }
}
