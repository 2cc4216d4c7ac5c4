// `clatbar status`: asks the running engine (JSON-RPC `status` on its control socket) and says
// what it is doing in plain words, or prints its reply as JSON for scripts.
import { EXIT, parseOptions, type Command } from '../command.js';
import { READ_OPTIONS, SOCKET_HELP, askEngine } from '../engine-call.js';
import { DROP_REASONS } from '../../shared/ipc.js';
import { EngineStatusDocSchema, type EngineStatusDoc } from '../../shared/status.js';
import { bytes, plural, since as duration } from '../../shared/format.js';
import { catalogKey } from '../../shared/engine-words.js';
import { en } from '../../shared/locales/en.js';

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
  - which inbound policy is in force (clatbar run --inbound): deny lets in only replies to
    this host's own flows, allow lets the IPv6 network reach IPv4 services on this host
  - firewall rules that would drop translated traffic

Needs no privileges: every local user may ask for the status (changing anything needs root
or the clatbar group).

options:
${SOCKET_HELP}
  --json                 print the engine's status reply as it is (JSON), for scripts. When
                         no engine answers: {"running": false, "error": ..., "fix": ...}, exit 1

exit status: 0 when an engine answered; 1 when none runs or it did not answer properly (the
message says why and what to do); 2 on usage errors.

examples:
  clatbar status
  clatbar status --json | jq .counters.translated46
`;

/** The reply must be a status document (shared/status.ts); extra fields are fine. */
function checkStatus(v: unknown): EngineStatusDoc {
  if (typeof v !== 'object' || v === null) throw new Error('the status is not an object');
  const r = EngineStatusDocSchema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`the status has no valid "${i.path.join('.')}" (${i.message})`);
  }
  return r.data;
}

function since(iso: string): string {
  return `${new Date(iso).toLocaleString()} (${duration(iso, Date.now())} ago)`;
}

/** Where the prefix came from, in the shared catalog's English (the windows say the same). */
function prefixSourceWords(source: string): string {
  return (en.prefixSource as Record<string, string>)[catalogKey(source)] ?? source;
}

const label = (l: string) => `  ${l.padEnd(14)}`;
const pad = ' '.repeat(16);

const STATE_WORDS: Record<EngineStatusDoc['state'], string> = {
  off: 'clatbar is off on this network',
  standby: 'clatbar is in standby (watching, not translating)',
  active: 'clatbar is active',
  attention: 'clatbar needs attention',
  stopping: 'clatbar is stopping: the engine is putting the network back as it was',
};

/** What the daemon knows of the network: id, classification, policy, uplink, prefix, history. */
function describeNetwork(s: EngineStatusDoc, lines: string[]): void {
  if (s.network) lines.push(`${label('network')}${s.network.name} (id ${s.network.id})`);
  if (s.classificationText) lines.push(`${label('kind')}${s.classification}: ${s.classificationText.text}`);
  if (s.policy) {
    const o = s.policy.override ? `; manual ${s.policy.override} until the network changes` : '';
    lines.push(
      `${label('policy')}${s.policy.value} (from ${s.policy.source}${s.policy.adminForced ? ', forced by the administrator' : ''})${o}`,
    );
  }
  if (s.uplinkWhy) lines.push(`${label('uplink')}${s.uplinkWhy.text}`);
  if (s.dhcpV6OnlyPreferred) lines.push(`${label('option 108')}${s.dhcpV6OnlyPreferred.text}`);
  if (s.prefix && s.state !== 'active') {
    const left = s.prefixLifetimeLeft !== undefined ? `, ${s.prefixLifetimeLeft} s of lifetime left` : '';
    lines.push(
      `${label('NAT64 prefix')}${s.prefix}, ${prefixSourceWords(s.prefixSource ?? 'configured')}${left}`,
    );
  }
}

function describe(s: EngineStatusDoc, path: string): string {
  const lines: string[] = [];
  lines.push(`${STATE_WORDS[s.state]}: ${s.reason.text}.`);
  if (s.fix) lines.push(`To fix: ${s.fix.text}`);
  lines.push('');
  lines.push(`${label('engine')}pid ${s.pid}, up since ${since(s.startedAt)}`);
  lines.push(`${pad}control socket ${path}, ${s.mode === 'daemon' ? 'daemon' : 'foreground (run --uplink)'}`);
  describeNetwork(s, lines);
  if (s.state === 'active' || (s.state === 'stopping' && s.tun !== undefined)) describeClat(s, lines);
  if (s.transitions.length) {
    lines.push(
      `${label('recently')}${s.transitions.length > 5 ? `(last 5 of ${s.transitions.length})` : ''}`.trimEnd(),
    );
    for (const t of s.transitions.slice(-5))
      lines.push(
        `${pad}${new Date(t.time).toLocaleTimeString()}  ${t.from ?? 'start'} -> ${t.to}: ${t.reason.text}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** The CLAT instance's part (the fields the foreground engine always had). */
function describeClat(s: EngineStatusDoc, lines: string[]): void {
  const c = s.counters ?? {};
  const n = (k: string) => (typeof c[k] === 'number' ? c[k] : 0);
  if (!s.uplinkWhy) lines.push(`${label('uplink')}${s.uplink}`);
  const source = s.prefixSource ?? 'configured';
  const left = s.prefixLifetimeLeft !== undefined ? `, ${s.prefixLifetimeLeft} s of lifetime left` : '';
  lines.push(`${label('NAT64 prefix')}${s.prefix}, ${prefixSourceWords(source)}${left}`);
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

  const inb = s.inboundFilter;
  if (s.inbound === 'allow' || s.inbound === 'deny') {
    lines.push(
      `${label('inbound')}${s.inbound}: ${
        s.inbound === 'deny'
          ? "only replies to this host's own flows come in through the CLAT"
          : 'anyone on the IPv6 network can reach IPv4 services on this host through the CLAT'
      }`,
    );
    // The engine reads the kernel's counter in the background: say how old the number is.
    const age = inb?.countedAt
      ? Math.max(0, Math.round((Date.now() - Date.parse(inb.countedAt)) / 1000))
      : null;
    const read = age === null ? '' : ` (counted ${age} s ago)`;
    if (typeof inb?.drops === 'number')
      lines.push(`${pad}${plural(inb.drops, 'packet')} from the network dropped${read}`);
    if (inb?.problem) lines.push(`${pad}problem: ${inb.problem}`);
  } else lines.push(`${label('inbound')}not reported by this engine`);

  const fw = s.firewallWarnings ?? [];
  if (fw.length === 0) lines.push(`${label('firewall')}nothing found that would drop translated traffic`);
  else fw.forEach((f, i) => lines.push(`${i === 0 ? label('firewall') : pad}warning: ${f}`));
}

const command: Command = {
  name: 'status',
  summary: 'Show what the running engine is doing',
  help,
  async run(argv) {
    const { values } = parseOptions({
      args: argv,
      options: READ_OPTIONS,
    });
    const r = await askEngine('status', values['control-socket'], 'status', undefined, { json: values.json });
    if ('exit' in r) return r.exit;
    const { reply, path } = r;
    if (values.json) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return EXIT.ok;
    }
    let status: EngineStatusDoc;
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
