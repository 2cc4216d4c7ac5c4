// `clatbar`: dispatches to one module per subcommand under commands/.
import { EXIT, UsageError, type Command } from './command.js';
import { VERSION } from '../shared/version.js';
import { scrubEnvOverrides } from '../engine/system/env-override.js';
import { keepYoungGenerationSmall } from '../engine/daemon/resident.js';

// Each command is loaded only when it runs (or for the overview): `clatbar run` stays resident
// for weeks, and the modules of the other commands cost it ~7 MB (measured, docs/daemon.md).
const commandModules: Record<string, () => Promise<{ default: Command }>> = {
  // The engine stays resident: V8's young generation is held small before its modules load, or
  // loading them alone grows it to 8 MiB for good (engine/daemon/resident.ts).
  run: () => {
    keepYoungGenerationSmall();
    return import('./commands/run.js');
  },
  status: () => import('./commands/status.js'),
  enable: () => import('./commands/enable.js'),
  disable: () => import('./commands/disable.js'),
  policy: () => import('./commands/policy.js'),
  selftest: () => import('./commands/selftest.js'),
  diag: () => import('./commands/diag.js'),
  logs: () => import('./commands/logs.js'),
  translate: () => import('./commands/translate.js'),
  dns64: () => import('./commands/dns64.js'),
  lab: () => import('./commands/lab.js'),
};

async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(commandModules, name) ? (await commandModules[name]()).default : undefined;
}

async function overview(): Promise<string> {
  const commands = await Promise.all(Object.values(commandModules).map(async (m) => (await m()).default));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'clatbar: IPv4 for IPv6-only hosts, with a CLAT (RFC 6877) and a DNS64 stub (RFC 6147).',
    '',
    'usage: clatbar COMMAND [OPTIONS]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `clatbar COMMAND --help` for the options of one command.',
    'Commands that change the network need root or CAP_NET_ADMIN.',
    '',
    'examples:',
    '  sudo clatbar run --uplink wlan0 --prefix 64:ff9b::/96   # IPv4 for this IPv6-only host',
    '  clatbar status                                         # what the running engine does',
    '  clatbar dns64 --listen 127.0.0.1:5353 --upstream 2001:db8::53 --prefix 64:ff9b::/96',
    '',
    'exit status: 0 success, 1 failure (the message says what to do), 2 bad usage.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // Before any module reads them: test overrides root may not trust are dropped.
  scrubEnvOverrides();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? await loadCommand(rest[0]) : undefined;
    process.stdout.write(topic ? topic.help : await overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`clatbar ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`clatbar: unknown command '${name}'. Run \`clatbar --help\` for the list.\n`);
    return EXIT.usage;
  }
  // Words after `--` belong to another program (`clatbar lab shell -- curl --help`).
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`clatbar ${name}: ${err.message}\nRun \`clatbar ${name} --help\` for usage.\n`);
      return EXIT.usage;
    }
    process.stderr.write(`clatbar ${name}: ${(err as Error).message}\n`);
    if (process.env.CLATBAR_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.failure;
  }
}
