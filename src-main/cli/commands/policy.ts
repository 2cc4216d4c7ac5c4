// `clatbar policy list|set|forget|inbound|default|dns64`: the daemon's choices, per network and
// global, over the control socket. One table of verbs: each names its arguments, the control
// method and params it becomes, and what it prints when the engine has done it.
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { READ_OPTIONS, SOCKET_HELP, askEngine } from '../engine-call.js';
import {
  Dns64ModeSchema,
  InboundSchema,
  NetworkRefSchema,
  PolicySchema,
  callTimeoutMs,
  type MethodName,
} from '../../shared/control.js';

const help = `clatbar policy: what the engine does on each network, and by default.

usage: clatbar policy list [--json] [--control-socket PATH]
       clatbar policy set NETWORK POLICY [--control-socket PATH]
       clatbar policy forget NETWORK [--control-socket PATH]
       clatbar policy inbound NETWORK allow|deny|default [--control-socket PATH]
       clatbar policy default POLICY [--control-socket PATH]
       clatbar policy dns64 off|auto|on [--control-socket PATH]

NETWORK is an id from \`clatbar policy list\`, or \`current\` for the network the laptop is on.
POLICY is one of:
  auto     run the CLAT when the network is IPv6-only and has a NAT64 (the usual default)
  always   run it whenever a NAT64 prefix is known, even beside native IPv4
  never    never run it on this network
  default  (set only) drop this network's own choice: the default policy applies again
forget   removes everything the engine remembers of the network.
inbound  whether hosts on that network may open connections to this computer's IPv4 services
         through the CLAT: deny (the default) lets in only replies to what this computer
         started; allow lets in everything; default drops the network's own choice.
default  sets the policy of every network that has none of its own (\`policy set\` wins).
dns64    the DNS64 stub on the CLAT's address: auto (used when the network's resolver does
         not synthesize), on (always), off (never).

An administrator's /etc/clatbar/policy.json wins over these choices; the engine says so.
Needs root or membership of the clatbar group (sudo usermod -aG clatbar USER, then log in
again). \`clatbar status\` shows what is in force and where it comes from.

options:
${SOCKET_HELP}
  --json                 list: print the engine's reply as it is (JSON)

exit status: 0 done; 1 the engine refused or does not run (the message says what to do);
2 bad usage.

examples:
  clatbar policy list
  clatbar policy set current never
  clatbar policy inbound current allow
  clatbar policy default always
  clatbar policy forget 5a1f0c3e-8a0d-4b5e-9a55-1d0f6b1b2c3d
`;

const NETWORK_WORDS = 'NETWORK must be an id from `clatbar policy list` or current';

/** An argument's check: its value for the params, or a UsageError that says what it may be. */
function oneOf(what: string, values: readonly string[]): (s: string) => string {
  return (s) => {
    if (!values.includes(s)) throw new UsageError(`${what} must be one of ${values.join(', ')}, not '${s}'`);
    return s;
  };
}
function network(s: string): string {
  if (!NetworkRefSchema.safeParse(s).success) throw new UsageError(NETWORK_WORDS);
  return s;
}

interface Verb {
  args: string[];
  method: MethodName;
  params(a: string[]): unknown;
  done(a: string[], reply: unknown, json: boolean): string;
}

const POLICY = oneOf('POLICY', PolicySchema.options);

const VERBS: Record<string, Verb> = {
  list: {
    args: [],
    method: 'listNetworks',
    params: () => undefined,
    done: (_a, reply, json) =>
      json
        ? `${JSON.stringify(reply, null, 2)}\n`
        : describe((reply as { networks?: Array<Record<string, unknown>> }).networks ?? []),
  },
  set: {
    args: ['NETWORK', 'POLICY'],
    method: 'setPolicy',
    params: ([n, p]) => ({
      network: network(n),
      policy: oneOf('POLICY', [...PolicySchema.options, 'default'])(p),
    }),
    done: ([n, p]) => `policy of ${n}: ${p}\n`,
  },
  forget: {
    args: ['NETWORK'],
    method: 'forgetNetwork',
    params: ([n]) => ({ network: network(n) }),
    done: ([n]) => `forgot ${n}\n`,
  },
  inbound: {
    args: ['NETWORK', 'allow|deny|default'],
    method: 'setNetworkOption',
    params: ([n, v]) => {
      const value = oneOf('the inbound choice', [...InboundSchema.options, 'default'])(v);
      return { network: network(n), option: 'inbound', value: value === 'default' ? null : value };
    },
    done: ([n, v]) => (v === 'default' ? `inbound on ${n}: the default (deny)\n` : `inbound on ${n}: ${v}\n`),
  },
  default: {
    args: ['POLICY'],
    method: 'setDefaultPolicy',
    params: ([p]) => ({ policy: POLICY(p) }),
    done: ([p]) => `default policy: ${p}\n`,
  },
  dns64: {
    args: ['off|auto|on'],
    method: 'setDns64Mode',
    params: ([m]) => ({ mode: oneOf('the DNS64 mode', Dns64ModeSchema.options)(m) }),
    done: ([m]) => `DNS64 stub: ${m}\n`,
  },
};

const USAGE_WORDS = Object.entries(VERBS)
  .map(([name, v]) => [name, ...v.args].join(' '))
  .join(', ');

function describe(networks: Array<Record<string, unknown>>): string {
  if (networks.length === 0) return 'the engine remembers no networks yet\n';
  return `${networks
    .map((n) => {
      const policy = typeof n.policy === 'string' ? n.policy : 'default';
      const admin = typeof n.adminPolicy === 'string' ? `  admin: ${n.adminPolicy}` : '';
      const inbound = typeof n.inbound === 'string' ? `  inbound ${n.inbound}` : '';
      return `${String(n.id)}  ${String(n.name)}  policy ${policy}${admin}${inbound}${n.current ? '  (current)' : ''}`;
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
    const [name, ...args] = positionals;
    if (name === undefined) throw new UsageError(`say what to do: ${USAGE_WORDS}`);
    const verb = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
    if (!verb || args.length !== verb.args.length)
      throw new UsageError(
        verb
          ? `'${positionals.join(' ')}': ${name} takes ${verb.args.length ? verb.args.join(' ') : 'nothing more'}`
          : `'${name}' is not one of ${USAGE_WORDS}`,
      );
    // Each argument is checked there (the engine checks again): a slip is a usage error here.
    const params = verb.params(args);
    const json = values.json && name === 'list';
    const r = await askEngine('policy', values['control-socket'], verb.method, params, {
      json,
      timeoutMs: callTimeoutMs(verb.method),
    });
    if ('exit' in r) return r.exit;
    process.stdout.write(verb.done(args, r.reply, json));
    return EXIT.ok;
  },
};

export default command;
