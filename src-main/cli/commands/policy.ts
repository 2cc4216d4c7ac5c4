// `clatbar policy list|set NETWORK POLICY|forget NETWORK`: the per-network choices of the
// daemon (auto, always, never), over the control socket.
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { READ_OPTIONS, SOCKET_HELP, askEngine } from '../engine-call.js';
import { METHODS, callTimeoutMs } from '../../shared/control.js';

const help = `clatbar policy: what the engine does on each network.

usage: clatbar policy list [--json] [--control-socket PATH]
       clatbar policy set NETWORK POLICY [--control-socket PATH]
       clatbar policy forget NETWORK [--control-socket PATH]

NETWORK is an id from \`clatbar policy list\`, or \`current\` for the network the laptop is on.
POLICY is one of:
  auto     run the CLAT when the network is IPv6-only and has a NAT64 (the usual default)
  always   run it whenever a NAT64 prefix is known, even beside native IPv4
  never    never run it on this network
  default  drop this network's own choice: the default policy applies again
forget removes everything the engine remembers of the network.

An administrator's /etc/clatbar/policy.json wins over these choices; the engine says so.
Needs root or membership of the clatbar group (sudo usermod -aG clatbar USER, then log in
again).

options:
${SOCKET_HELP}
  --json                 list: print the engine's reply as it is (JSON)

exit status: 0 done; 1 the engine refused or does not run (the message says what to do);
2 bad usage.

examples:
  clatbar policy list
  clatbar policy set current never
  clatbar policy forget 5a1f0c3e-8a0d-4b5e-9a55-1d0f6b1b2c3d
`;

const POLICIES = ['auto', 'always', 'never', 'default'];

function describe(networks: Array<Record<string, unknown>>): string {
  if (networks.length === 0) return 'the engine remembers no networks yet\n';
  return `${networks
    .map((n) => {
      const policy = typeof n.policy === 'string' ? n.policy : 'default';
      return `${String(n.id)}  ${String(n.name)}  policy ${policy}${n.current ? '  (current)' : ''}`;
    })
    .join('\n')}\n`;
}

const command: Command = {
  name: 'policy',
  summary: 'List or set what the engine does on each network',
  help,
  async run(argv) {
    const { values, positionals } = parseOptions({
      args: argv,
      options: READ_OPTIONS,
      allowPositionals: true,
    });
    const [verb, ...rest] = positionals;
    let method: string;
    let params: unknown;
    if (verb === 'list' && rest.length === 0) method = 'listNetworks';
    else if (verb === 'set' && rest.length === 2) {
      const [network, policy] = rest;
      if (!POLICIES.includes(policy))
        throw new UsageError(`POLICY must be one of ${POLICIES.join(', ')}, not '${policy}'`);
      method = 'setPolicy';
      params = { network, policy };
    } else if (verb === 'forget' && rest.length === 1) {
      method = 'forgetNetwork';
      params = { network: rest[0] };
    } else
      throw new UsageError(
        verb === undefined
          ? 'say what to do: list, set NETWORK POLICY or forget NETWORK'
          : `'${positionals.join(' ')}' is not list, set NETWORK POLICY or forget NETWORK`,
      );
    // The same check the engine makes, so a bad NETWORK is a usage error here.
    if (params !== undefined) {
      const r = METHODS[method as 'setPolicy' | 'forgetNetwork'].params.safeParse(params);
      if (!r.success) throw new UsageError(`NETWORK must be an id from \`clatbar policy list\` or current`);
    }
    const r = await askEngine('policy', values['control-socket'], method, params, {
      json: values.json && verb === 'list',
      timeoutMs: callTimeoutMs(method),
    });
    if ('exit' in r) return r.exit;
    const reply = r.reply;
    if (verb === 'list') {
      const networks = (reply as { networks?: Array<Record<string, unknown>> }).networks ?? [];
      process.stdout.write(values.json ? `${JSON.stringify(reply, null, 2)}\n` : describe(networks));
    } else
      process.stdout.write(verb === 'set' ? `policy of ${rest[0]}: ${rest[1]}\n` : `forgot ${rest[0]}\n`);
    return EXIT.ok;
  },
};

export default command;
