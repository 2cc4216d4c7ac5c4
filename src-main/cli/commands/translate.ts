// `clatbar translate`: offline translation of a capture through the SIIT core, for debugging and
// conformance testing (the Jool vectors in ../shared/conformance run through this command).
import { readFile, writeFile } from 'node:fs/promises';
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { ConfigError, parseTranslatorConfig } from '../../engine/siit/config.js';
import { readPcap, writePcap, PcapError } from '../../engine/siit/pcap.js';
import { HEADROOM, Translator, VERDICT_NAMES } from '../../engine/siit/translator.js';
import { REASONS } from '../../engine/siit/counters.js';

function wrap(text: string, indent: string, width = 96): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

const help = `clatbar translate: run packets from a capture through the stateless translator (RFC 7915).

usage: clatbar translate --config CASE.json --in IN.pcap --out OUT.pcap [--verdicts FILE.jsonl]

Each IPv4 packet of IN.pcap is translated to IPv6 and each IPv6 packet to IPv4, exactly as the
CLAT engine's data path does, with no network access. OUT.pcap receives every packet the
translator emits for each input, in input order: translations, fragments, hairpinned
packets (RFC 7757), and the ICMP errors the translator sends back itself (Time Exceeded,
Fragmentation Needed / Packet Too Big, Parameter Problem, administratively prohibited).

options:
  --config FILE     translator configuration (JSON, keys below). Unknown keys and bad values
                    are rejected with the key named.
  --in FILE         input capture: classic pcap (not pcapng), link type 101 (raw IP), 228 (IPv4),
                    229 (IPv6), 1 (Ethernet) or 113/276 (Linux cooked: tcpdump -i any); frames
                    that carry no IP count as dropped "not-ip".
  --out FILE        output capture, link type 101 (raw IP).
  --verdicts FILE   also write one JSON line per input packet:
                    {"index":0,"verdict":"translated|dropped|icmp-error","reason":"...","emitted":1}

configuration keys (all optional; defaults in brackets):
  pool6                 RFC 6052 prefix, length 32/40/48/56/64/96, or null for EAM only [null].
                        64:ff9b::/96 never carries non-global IPv4 addresses (RFC 6052 §3.1).
  eamt                  RFC 7757 entries [{"ipv4": "PFX/LEN", "ipv6": "PFX/LEN"}], longest match,
                        checked before pool6 [[]]
  rfc6791v4             IPv4 source for translated ICMPv6 errors from untranslatable sources [null:
                        icmpSourceV4]
  rfc6791v6             IPv6 source for translated ICMPv4 errors from untranslatable sources [null:
                        icmpSourceV6]
  lowestIpv6Mtu         DF-clear IPv4 packets are fragmented to fit it (RFC 7915 §4.1) [1280]
  amendUdpChecksumZero  compute checksums for zero-checksum IPv4 UDP instead of dropping [false]
  ipv4Mtu, ipv6Mtu      egress MTUs; bigger packets get Packet Too Big / Fragmentation Needed
                        [1500, 1500]
  icmpSourceV4          source of ICMPv4 errors the translator generates [null: no error sent]
  icmpSourceV6          source of ICMPv6 errors the translator generates [null: no error sent]
  icmpErrorRate         generated ICMP errors per second, token bucket (RFC 4443 §2.4(f),
                        RFC 1812 §4.3.2.8); 0: no limit. Timed by the capture's timestamps [1000]
  icmpErrorBurst        bucket size: errors allowed at once [50]

examples:
  sudo tcpdump -i clat0 -s 0 -w clat.pcap          # what the CLAT's TUN saw (raw IP)
  clatbar translate --config clat.json --in clat.pcap --out out.pcap --verdicts v.jsonl
  tcpdump -nr out.pcap; grep -v '"translated"' v.jsonl   # what came out, and what did not

clat.json for a CLAT (the NAT64 prefix, plus the CLAT's own address as one EAM entry):
  {
    "pool6": "64:ff9b::/96",
    "eamt": [{"ipv4": "192.0.0.1/32", "ipv6": "2001:db8:1:2::c1a7/128"}],
    "lowestIpv6Mtu": 1280,
    "ipv4Mtu": 1472,
    "icmpSourceV4": "192.0.0.2",
    "icmpSourceV6": "2001:db8:1:2::c1a7"
  }

drop reasons (the "reason" of dropped and icmp-error verdicts):
${wrap(REASONS.slice(1).join(', '), '  ')}

A summary goes to stderr: packets in, translated, dropped or answered with an ICMP error (by
reason), packets written. Malformed packets are dropped and counted, never fatal; a capture cut
short in its last record is processed up to there, with a warning.

exit status: 0 when the capture was processed (whatever the verdicts), 1 on unreadable files or
a bad configuration, 2 on usage errors.
`;

const translate: Command = {
  name: 'translate',
  summary: 'Translate a pcap capture offline with the SIIT core',
  help,
  async run(argv) {
    const { values } = parseOptions({
      args: argv,
      options: {
        config: { type: 'string' },
        in: { type: 'string' },
        out: { type: 'string' },
        verdicts: { type: 'string' },
      },
      allowPositionals: false,
    });
    for (const need of ['config', 'in', 'out'] as const) {
      if (values[need] === undefined) throw new UsageError(`--${need} is required`);
    }
    let json: unknown;
    try {
      json = JSON.parse(await readFile(values.config!, 'utf8'));
    } catch (err) {
      process.stderr.write(`clatbar translate: ${values.config}: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    let config;
    try {
      config = parseTranslatorConfig(json);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`clatbar translate: ${values.config}: invalid configuration\n${err.message}\n`);
      return EXIT.failure;
    }
    let capture;
    try {
      capture = readPcap(await readFile(values.in!));
    } catch (err) {
      if (!(err instanceof PcapError) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      process.stderr.write(`clatbar translate: ${values.in}: ${(err as Error).message}\n`);
      return EXIT.failure;
    }

    const out: { data: Uint8Array; time: number }[] = [];
    let time = 0;
    const t = new Translator(config, (buf, off, len) => out.push({ data: buf.slice(off, off + len), time }));
    // The rate limit of generated ICMP errors runs on the capture's clock, so a replay gives the
    // same output however fast it runs.
    t.now = () => time * 1000;
    const largest = capture.packets.reduce((m, p) => Math.max(m, p.data.length), 0);
    const work = new Uint8Array(HEADROOM + largest);
    const lines: string[] = [];
    const tally = { translated: 0, dropped: 0, 'icmp-error': 0 } as Record<string, number>;
    const reasons = new Map<string, number>();
    let snapped = 0;
    capture.packets.forEach((p, index) => {
      time = p.time;
      let verdict = 'dropped';
      let reason = 'not-ip'; // an Ethernet frame that carries something else
      let emitted = 0;
      if (p.data.length > 0) {
        work.set(p.data, HEADROOM);
        verdict = VERDICT_NAMES[t.translate(work, HEADROOM, p.data.length)];
        reason = t.reasonName;
        emitted = t.emitted;
      }
      tally[verdict]++;
      if (verdict !== 'translated') reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      if (p.cut && verdict === 'dropped') snapped++;
      lines.push(JSON.stringify({ index, verdict, reason, emitted }));
    });
    await writeFile(values.out!, writePcap(out));
    if (values.verdicts !== undefined)
      await writeFile(values.verdicts, lines.length ? `${lines.join('\n')}\n` : '');
    // One summary on stderr, so a malformed or surprising capture is never silent: how many
    // packets went which way and why the others did not.
    const why = [...reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
    const note = (l: string) => process.stderr.write(`clatbar translate: ${l}\n`);
    if (capture.cutShort) note(`warning: ${values.in}: ${capture.cutShort}`);
    note(
      `${capture.packets.length} packet(s) in: ${tally.translated} translated, ${tally.dropped} dropped, ` +
        `${tally['icmp-error']} answered with an ICMP error${why.length ? ` (${why.join(', ')})` : ''}; ` +
        `${out.length} packet(s) written to ${values.out}`,
    );
    if (snapped)
      note(
        `${snapped} dropped packet(s) were cut short by the capture's snap length: capture with tcpdump -s 0`,
      );
    return EXIT.ok;
  },
};

export default translate;
