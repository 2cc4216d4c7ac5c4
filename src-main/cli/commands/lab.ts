// `clatbar lab`: an IPv6-only network with a NAT64 in three namespaces, and the engine in it,
// so anyone can watch clatbar give IPv4 to an IPv6-only laptop on any Linux machine.
import { spawn } from 'node:child_process';
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { labUp, labDown, labReport, LAB_CONTROL_SOCKET } from '../../engine/lab/lab.js';
import { LAB_NAMES } from '../../engine/lab/state.js';
import { LAB_NET } from '../../engine/lab/topology.js';
import { IP } from '../../engine/lab/network.js';
import { startLabServers, ECHO_PORT, UPLOAD_PORT } from '../../engine/lab/servers.js';
import status from './status.js';

const N = LAB_NET;
const help = `clatbar lab: see clatbar work on any Linux machine, in a throwaway IPv6-only network.

usage: sudo clatbar lab up | status [--json] | shell [-- COMMAND...] | down
       clatbar lab serve [--www DIR] [--address ADDR]

  up      builds three network namespaces and starts clatbar in the first:
            ${LAB_NAMES.laptop}  IPv6-only: an address and default route from router
                            advertisements, like a laptop on IPv6-only Wi-Fi
            ${LAB_NAMES.router}  the network: TAYGA as its NAT64 (${N.nat64Prefix}), router
                            advertisements with PREF64 (RFC 8781), unbound with DNS64
            ${LAB_NAMES.server}  IPv4-only: ${N.serverV4} (${N.serverName}), a web page and
                            downloads on port 80, UDP echo on port ${ECHO_PORT}, the SHA-256 of
                            what is sent to TCP port ${UPLOAD_PORT}
          The engine in ${LAB_NAMES.laptop} finds the NAT64 prefix in the router advertisements
          and keeps its state in /run/clatbar-lab, its control socket in
          ${LAB_CONTROL_SOCKET}; the host's network, resolver and
          engine (/run/clatbar) are not touched. Waits until IPv4 works, then prints what to try.
  status  which parts of the lab exist and run, and the engine's status
  shell   a shell (or COMMAND) inside ${LAB_NAMES.laptop}
  down    removes every namespace, process and file the lab made; safe to run twice, and after
          an \`up\` that failed or was killed half way
  serve   the server's programs in the foreground (what \`up\` runs inside ${LAB_NAMES.server})

up, shell and down need root. Only documentation addresses (RFC 3849, RFC 5737) are used: nothing
in the lab reaches the Internet.

examples:
  sudo clatbar lab up
  sudo ip netns exec ${LAB_NAMES.laptop} curl http://${N.serverV4}/
  sudo clatbar lab shell -- clatbar status
  sudo clatbar lab down
`;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function tryThis(): string {
  const x = `sudo ip netns exec ${LAB_NAMES.laptop}`;
  const tries: [string, string][] = [
    [`${x} ping -c3 ${N.serverV4}`, 'an IPv4 literal, through the CLAT'],
    [`${x} curl http://${N.serverV4}/`, 'the page says where the request came from'],
    [`${x} curl http://${N.serverName}/`, "a name: AAAA synthesized by the router's DNS64"],
    [`${x} curl -o /dev/null 'http://${N.serverV4}/download?mb=100'`, 'a 100 MB download'],
    [`${x} clatbar status`, 'what the engine does'],
    ['sudo clatbar lab shell', 'a shell in the laptop'],
    [`CLATBAR_CONTROL_SOCKET=${LAB_CONTROL_SOCKET} clatbar-app`, "the app on the lab's engine"],
  ];
  return [
    '',
    `The lab is up: ${LAB_NAMES.laptop} has IPv6 only, and IPv4 works through clatbar.`,
    '',
    'Try:',
    ...tries.flatMap(([cmd, what]) => [`  # ${what}`, `  ${cmd}`]),
    '',
    'Remove it all with: sudo clatbar lab down',
    '',
  ].join('\n');
}

async function shell(argv: string[]): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('run it as root: sudo clatbar lab shell');
  if (!labReport().namespaces[LAB_NAMES.laptop])
    throw new Error('no lab is up: start one with `sudo clatbar lab up`');
  const cmd = argv.length > 0 ? argv : [process.env.SHELL || '/bin/sh'];
  if (argv.length === 0)
    say(`a shell in ${LAB_NAMES.laptop} (IPv6 only, IPv4 through clatbar); \`exit\` leaves it`);
  const child = spawn(IP, ['netns', 'exec', LAB_NAMES.laptop, ...cmd], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : EXIT.failure)));
  });
}

async function labStatus(argv: string[]): Promise<number> {
  const { values } = parseOptions({ args: argv, options: { json: { type: 'boolean', default: false } } });
  const report = labReport();
  const up = Object.values(report.namespaces).some(Boolean);
  if (values.json) {
    say(JSON.stringify({ up, ...report }));
    return up ? EXIT.ok : EXIT.failure;
  }
  if (report.problem) say(report.problem);
  if (!up) {
    say('no lab is up. Start one with: sudo clatbar lab up');
    return EXIT.failure;
  }
  for (const [ns, there] of Object.entries(report.namespaces)) say(`${ns}: ${there ? 'present' : 'missing'}`);
  for (const p of report.processes)
    say(`  ${p.role} (pid ${p.pid}): ${p.running ? 'running' : 'not running'}`);
  if (!report.controlSocket) return EXIT.ok;
  say('');
  say('the engine in the laptop:');
  return status.run(['--control-socket', report.controlSocket]);
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseOptions({
    args: argv,
    options: { www: { type: 'string' }, address: { type: 'string', default: N.serverV4 } },
  });
  const servers = await startLabServers({ address: values.address, www: values.www });
  say(`serving on ${values.address}: http :80, udp echo :${ECHO_PORT}, sha256 of uploads :${UPLOAD_PORT}`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
  });
  await servers.close();
  return EXIT.ok;
}

const command: Command = {
  name: 'lab',
  summary: 'Build a throwaway IPv6-only network in namespaces and watch clatbar work in it',
  help,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'up':
        parseOptions({ args: rest, options: {} });
        await labUp(say);
        say(tryThis());
        return EXIT.ok;
      case 'down':
        parseOptions({ args: rest, options: {} });
        await labDown(say);
        say('the lab is gone');
        return EXIT.ok;
      case 'status':
        return labStatus(rest);
      case 'shell':
        return shell(rest[0] === '--' ? rest.slice(1) : rest);
      case 'serve':
        return serve(rest);
      case undefined:
        throw new UsageError('say what to do: up, status, shell or down');
      default:
        throw new UsageError(`unknown lab command '${sub}': up, status, shell or down`);
    }
  },
};

export default command;
