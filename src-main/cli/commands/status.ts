// `clatbar status`: asks the running engine (JSON-RPC `status` on its control socket) and says
// what it is doing in plain words, or prints its reply as JSON for scripts.
import { EXIT, parseOptions, type Command } from '../command.js';
import { DEFAULTS } from '../../engine/clat/plan.js';
import { callControl, ControlError } from '../../engine/clat/status-socket.js';
import { CALL_TIMEOUT_MS } from '../../shared/control.js';
import type { ClatStatus } from '../../engine/clat/engine.js';
import { DROP_REASONS } from '../../shared/ipc.js';
import { bytes, plural } from '../../shared/format.js';

const TIMEOUT_MS = CALL_TIMEOUT_MS;

const help = `clatbar status: show what the running CLAT engine is doing.

usage: clatbar status [--control-socket PATH] [--json]

Asks the engine started by \`clatbar run\` over its control socket and prints:
  - whether it is translating, on which uplink, since when
  - the NAT64 prefix and where it came from
  - the CLAT addresses: the IPv4 address apps use (192.0.0.0/29, RFC 7335) and the IPv6
    address it is translated to
  - the TUN device and its MTU, and the MTU IPv4 apps see
  - traffic: packets translated each way, packets and bytes through the TUN
  - dropped packets, by reason, in words
  - the DNS64 stub's activity, when the engine reports it
  - firewall rules that would drop translated traffic

Needs no privileges: the engine makes its socket readable by every user (status only; nothing
in it changes the engine).

options:
  --control-socket PATH  the engine's socket, as given to \`clatbar run --control-socket\`.
                         default: ${DEFAULTS.controlSocket}
  --json                 print the engine's status reply as it is (JSON), for scripts. When
                         no engine answers: {"running": false, "error": ..., "fix": ...}, exit 1

exit status: 0 when an engine answered; 1 when none runs or it did not answer properly (the
message says why and what to do); 2 on usage errors.

examples:
  clatbar status
  clatbar status --json | jq .counters.translated46
`;

class NoAnswer extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** One `status` request (callControl: bounded in time and size); a failure is a NoAnswer. */
async function ask(path: string): Promise<unknown> {
  try {
    return await callControl(path, 'status', undefined, { timeoutMs: TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    switch (err.kind) {
      case 'timeout':
        throw new NoAnswer(
          `the engine on ${path} did not answer within ${TIMEOUT_MS / 1000} s`,
          'it may be stuck: stop it (Ctrl-C or kill PID) and start `clatbar run` again; the network is put back either way',
        );
      case 'garbage':
      case 'refused':
        throw new NoAnswer(
          `something answers on ${path}, but not as a clatbar engine: ${err.detail}`,
          'check which program owns that socket (ss -xlp), or pass the right --control-socket',
        );
      case 'unreachable':
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
          throw new NoAnswer(
            `no engine is running (nothing listens on ${path})`,
            'Start one:  sudo clatbar run --uplink IFACE --prefix PFX/LEN\n' +
              'If it runs with another --control-socket, pass that path here too.',
          );
        if (err.code === 'EACCES' || err.code === 'EPERM')
          throw new NoAnswer(
            `no permission to open ${path}`,
            'the engine makes its socket readable by everyone; an old socket may be in the way: restart `clatbar run`',
          );
        throw new NoAnswer(
          `cannot reach the engine on ${path}: ${err.detail}`,
          'see `clatbar status --help`',
        );
    }
  }
}

/** The fields this command prints must be there and have their types; extra fields are fine. */
function checkStatus(v: unknown): ClatStatus {
  const o = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null) throw new Error('the status is not an object');
  for (const k of ['state', 'startedAt', 'uplink', 'tun', 'prefix', 'clatIpv4', 'clatIpv6'])
    if (typeof o[k] !== 'string') throw new Error(`the status has no "${k}"`);
  for (const k of ['pid', 'ipv6Mtu', 'ipv4Mtu'])
    if (typeof o[k] !== 'number') throw new Error(`the status has no "${k}"`);
  if (typeof o.counters !== 'object' || o.counters === null) throw new Error('the status has no "counters"');
  return v as ClatStatus;
}

function since(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const d =
    s >= 3600
      ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
      : s >= 60
        ? `${Math.floor(s / 60)} min`
        : `${s} s`;
  return `${new Date(iso).toLocaleString()} (${d} ago)`;
}

const PREFIX_SOURCE_WORDS: Record<string, string> = {
  pref64: 'learned from the router advertisements (PREF64, RFC 8781)',
  'ipv4only.arpa': "learned by asking the network's DNS for ipv4only.arpa (RFC 7050)",
  configured: 'configured with clatbar run --prefix',
};

function describe(s: ClatStatus, path: string): string {
  const c = s.counters;
  const n = (k: string) => (typeof c[k] === 'number' ? c[k] : 0);
  const label = (l: string) => `  ${l.padEnd(14)}`;
  const pad = ' '.repeat(16);
  const lines: string[] = [];
  lines.push(
    s.state === 'running'
      ? `clatbar is active: IPv4 apps on this host reach IPv4 hosts through the NAT64 via ${s.uplink}.`
      : 'clatbar is stopping: the engine is putting the network back as it was.',
  );
  lines.push('');
  lines.push(`${label('engine')}pid ${s.pid}, up since ${since(s.startedAt)}`);
  lines.push(`${pad}control socket ${path}`);
  lines.push(`${label('uplink')}${s.uplink}`);
  const source = s.prefixSource ?? 'configured';
  lines.push(`${label('NAT64 prefix')}${s.prefix}, ${PREFIX_SOURCE_WORDS[source] ?? source}`);
  lines.push(`${label('CLAT IPv4')}${s.clatIpv4}  (what IPv4 apps use as their address)`);
  lines.push(
    `${label('CLAT IPv6')}${s.clatIpv6}  (what it becomes on the network${s.checksumNeutral ? '; checksum-neutral' : ''})`,
  );
  lines.push(`${label('device')}${s.tun}, MTU ${s.ipv6Mtu}; IPv4 apps see MTU ${s.ipv4Mtu}`);
  // Bytes as they went into the translator: the IPv4 packets apps sent, the IPv6 ones for them.
  const sized = (k: string) => (typeof c[k] === 'number' ? `, ${bytes(c[k])}` : '');
  lines.push(
    `${label('traffic')}IPv4 -> IPv6 (out): ${plural(n('translated46'), 'packet')}${sized('bytes46')}`,
  );
  lines.push(`${pad}IPv6 -> IPv4 (in):  ${plural(n('translated64'), 'packet')}${sized('bytes64')}`);
  if (typeof c['tun.rxPackets'] === 'number')
    lines.push(
      `${pad}through ${s.tun}: ${plural(n('tun.rxPackets'), 'packet')} (${bytes(n('tun.rxBytes'))}) read, ` +
        `${plural(n('tun.txPackets'), 'packet')} (${bytes(n('tun.txBytes'))}) written`,
    );
  if (n('icmpErrorsSent') || n('fragmentsEmitted'))
    lines.push(
      `${pad}made by the translator: ${plural(n('icmpErrorsSent'), 'ICMP error')}, ${plural(n('fragmentsEmitted'), 'fragment')}`,
    );

  const drops: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(c)) {
    if (typeof v !== 'number' || v <= 0) continue;
    if (k.startsWith('drop.')) drops.push([k.slice(5), v]);
    else if (k === 'writeRefused') drops.push(['write-refused', v]);
    else if (k === 'writeErrors') drops.push(['write-errors', v]);
    else if (k === 'stagedOverflow') drops.push(['staged-overflow', v]);
  }
  drops.sort((a, b) => b[1] - a[1]);
  if (drops.length === 0) lines.push(`${label('drops')}none`);
  else {
    const w = Math.max(...drops.map(([, v]) => v.toLocaleString('en-US').length));
    drops.forEach(([reason, v], i) =>
      lines.push(
        `${i === 0 ? label('drops') : pad}${v.toLocaleString('en-US').padStart(w)}  ${DROP_REASONS[reason] ?? reason} (${reason})`,
      ),
    );
  }

  const d = s.dns64;
  if (d && typeof d.queries === 'number') {
    const q = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : 0);
    const where =
      typeof d.mode === 'string' && Array.isArray(d.listen) ? `${d.mode} on ${d.listen.join(', ')}: ` : '';
    lines.push(
      `${label('DNS64')}${where}${plural(q('queries'), 'query', 'queries')}: ${q('synthesized')} AAAA synthesized, ` +
        `${q('cacheHits')} from cache, ${q('passedThrough')} passed through, ${q('servfail')} failed`,
    );
    if (d.upstreamDoesDns64 === true)
      lines.push(`${pad}the network's resolvers do DNS64 themselves: passing through`);
  } else lines.push(`${label('DNS64')}no activity reported by this engine`);

  if (s.firewallWarnings.length === 0)
    lines.push(`${label('firewall')}nothing found that would drop translated traffic`);
  else s.firewallWarnings.forEach((f, i) => lines.push(`${i === 0 ? label('firewall') : pad}warning: ${f}`));
  return `${lines.join('\n')}\n`;
}

const command: Command = {
  name: 'status',
  summary: 'Show what the running engine is doing',
  help,
  async run(argv) {
    const { values } = parseOptions({
      args: argv,
      options: {
        'control-socket': { type: 'string', default: DEFAULTS.controlSocket },
        json: { type: 'boolean', default: false },
      },
    });
    const path = values['control-socket'];
    let reply: unknown;
    try {
      reply = await ask(path);
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err;
      process.stderr.write(`clatbar status: ${err.message}.\n${err.fix}\n`);
      // A script that asked for JSON gets JSON either way (`jq` on empty input says nothing useful).
      if (values.json)
        process.stdout.write(
          `${JSON.stringify({ running: false, controlSocket: path, error: err.message, fix: err.fix }, null, 2)}\n`,
        );
      return EXIT.failure;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return EXIT.ok;
    }
    let status: ClatStatus;
    try {
      status = checkStatus(reply);
    } catch (err) {
      process.stderr.write(
        `clatbar status: the engine on ${path} answered, but ${(err as Error).message}.\n` +
          'Is it a different clatbar version? `clatbar status --json` shows the reply as it is.\n',
      );
      return EXIT.failure;
    }
    process.stdout.write(describe(status, path));
    return EXIT.ok;
  },
};

export default command;
