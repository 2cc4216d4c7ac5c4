// `clatbar dns64`: the DNS64 stub on its own, in the foreground, for testing and benchmarking.
import net from 'node:net';
import { EXIT, UsageError, parseOptions, type Command } from '../command.js';
import { Dns64Server, type Dns64Mode, type ListenAddress } from '../../engine/dns64/server.js';
import { WKP_TEXT, parsePref64 } from '../../engine/ip/rfc6052.js';
import { formatPrefix6, parsePrefix6 } from '../../engine/ip/address.js';
import { formatServer, parseServer } from '../../engine/dns/upstream.js';
import { learnResolvers } from '../../engine/dns64/system-resolver.js';
import { routeGet } from '../../engine/system/iproute.js';

const help = `clatbar dns64: run the DNS64 stub resolver (RFC 6147) in the foreground.

usage: clatbar dns64 --listen ADDR:PORT [--listen ...] [--upstream ADDR[:PORT] ...]
                     [--prefix PREFIX/LEN] [--mode on|auto] [options]

It answers DNS queries over UDP and TCP on each --listen address and asks the --upstream
resolvers. When a name has no IPv6 address (no AAAA record) but has IPv4 ones (A records), it
makes up AAAA records by embedding each IPv4 address in the NAT64 prefix, so IPv6-only hosts can
reach IPv4-only servers through a NAT64 or a CLAT. Real AAAA records always win. Answers are
cached for their TTL; Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

options:
  --listen ADDR:PORT     Where to answer, e.g. 127.0.0.1:5353 or [::1]:5353. Repeatable.
                         Port 53 needs root or CAP_NET_BIND_SERVICE. Required.
  --upstream ADDR[:PORT] A resolver to forward to (port 53 unless given). Repeatable: they are
                         tried in turn when one does not answer. Default: the resolvers this
                         machine uses now (systemd-resolved's or /etc/resolv.conf's).
  --prefix PREFIX/LEN    The NAT64 prefix, length 32, 40, 48, 56, 64 or 96 (RFC 6052).
                         Default: the well-known prefix ${WKP_TEXT}, which is never used for
                         private IPv4 addresses (RFC 6052 section 3.1).
  --mode on|auto         on (default): always synthesize.
                         auto: first ask the upstreams for ipv4only.arpa; if they already
                         synthesize (they run DNS64 themselves), pass everything through
                         instead of synthesizing twice. Checked again every 5 minutes.
  --exclude PREFIX/LEN   AAAA records in this range count as absent (RFC 6147 section 5.1.4).
                         Repeatable; replaces the default ::ffff:0:0/96.
  --timeout MS           How long to wait for an upstream before trying again (default 1500).
  --attempts N           Upstream tries per question, over the servers in turn (default 2 per
                         server).
  --cache-entries N      Most answers kept in memory (default 10000).
  --quiet                Only log problems.

example:
  clatbar dns64 --listen 127.0.0.1:5353 --upstream 2001:db8::53 --prefix 2001:db8:64::/96
  dig @127.0.0.1 -p 5353 AAAA ipv4only.arpa     # answers 2001:db8:64::c000:aa and ::c000:ab

exit status: 0 after SIGINT/SIGTERM, 1 when it cannot start (e.g. the port is taken),
2 for bad usage.
`;

function parseListen(text: string): ListenAddress {
  // A bare IPv6 address also ends in ":digits", so IPv6 needs the [ADDR]:PORT form.
  const hasPort = /^\[[^\]]+\]:\d+$/.test(text) || /^[\d.]+:\d+$/.test(text);
  if (!hasPort) throw new UsageError(`--listen ${text}: give ADDR:PORT, e.g. 127.0.0.1:5353 or [::1]:5353`);
  try {
    return parseServer(text);
  } catch (err) {
    throw new UsageError(`--listen ${text}: ${(err as Error).message}`);
  }
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} wants a positive whole number, not '${v}'`);
  return n;
}

/** Why the listeners could not start, with the fix: the socket layer's words are not enough. */
function startProblem(err: NodeJS.ErrnoException): string {
  const msg = err.message;
  const where =
    /(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[^\]]+\]:\d+|[0-9a-f:]+:\d+)\b/i.exec(msg)?.[1] ?? 'that address';
  const code = err.code ?? /\b(E[A-Z]+)\b/.exec(msg)?.[1];
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is taken by another program (EADDRINUSE). Pick another --listen port, or stop it (\`ss -lunpt\` shows which one).`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (EACCES). Ports below 1024 need root or CAP_NET_BIND_SERVICE; or pick a --listen port above 1023.`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: that address is not on this host (EADDRNOTAVAIL). Use one \`ip addr\` shows, 127.0.0.1 or [::1].`;
    default:
      return `cannot start: ${msg}`;
  }
}

const dns64: Command = {
  name: 'dns64',
  summary: 'Run the DNS64 stub resolver in the foreground',
  help,
  async run(argv) {
    const { values } = parseOptions({
      args: argv,
      options: {
        listen: { type: 'string', multiple: true },
        upstream: { type: 'string', multiple: true },
        prefix: { type: 'string' },
        mode: { type: 'string' },
        exclude: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        attempts: { type: 'string' },
        'cache-entries': { type: 'string' },
        quiet: { type: 'boolean' },
      },
      allowPositionals: false,
    });
    const log = (line: string): void => void process.stderr.write(`clatbar dns64: ${line}\n`);
    const info = values.quiet ? () => {} : log;
    if (!values.listen?.length) throw new UsageError('--listen ADDR:PORT is required');
    const listen: ListenAddress[] = values.listen.map(parseListen);
    let prefix;
    try {
      prefix = parsePref64(values.prefix ?? WKP_TEXT);
    } catch (err) {
      throw new UsageError(
        `--prefix ${values.prefix}: ${(err as Error).message.replace(`${values.prefix}: `, '')}; give the NAT64 prefix as PREFIX/LEN, e.g. --prefix 64:ff9b::/96`,
      );
    }
    const exclude = values.exclude?.map((x) => {
      try {
        return parsePrefix6(x);
      } catch (err) {
        throw new UsageError(
          `--exclude ${x}: ${(err as Error).message}; give an IPv6 prefix, e.g. --exclude ::ffff:0:0/96`,
        );
      }
    });
    const mode = (values.mode ?? 'on') as Dns64Mode;
    if (mode !== 'on' && mode !== 'auto') throw new UsageError(`--mode is on or auto, not '${values.mode}'`);
    let upstreams;
    if (values.upstream?.length) {
      try {
        upstreams = values.upstream.map((u) => parseServer(u));
      } catch (err) {
        throw new UsageError(`--upstream: ${(err as Error).message}`);
      }
    } else {
      upstreams = learnResolvers({ exclude: listen.map((l) => l.address) });
      if (upstreams.length === 0)
        throw new UsageError('no --upstream given and none found in the system configuration');
      info(`using this machine's resolvers: ${upstreams.map(formatServer).join(', ')}`);
    }
    for (const u of upstreams) {
      if (listen.some((l) => l.port === u.port && net.isIP(l.address) && l.address === u.address)) {
        throw new UsageError(`upstream ${formatServer(u)} is one of our own listen addresses`);
      }
    }
    const server = new Dns64Server({
      listen,
      upstreams,
      prefix,
      mode,
      exclude,
      timeoutMs: positiveInt('timeout', values.timeout, 1500),
      attempts: values.attempts === undefined ? undefined : positiveInt('attempts', values.attempts, 2),
      cache: { maxEntries: positiveInt('cache-entries', values['cache-entries'], 10000) },
      // The stub's own lines are coded messages (say.ts); this command has no ring, only stderr.
      log: (m) => info(m.text),
      warn: (m) => log(m.text),
    });
    try {
      await server.start();
    } catch (err) {
      process.stderr.write(`clatbar dns64: ${startProblem(err as NodeJS.ErrnoException)}\n`);
      return EXIT.failure;
    }
    // An upstream this host has no route to cannot answer; say so now rather than as timeouts
    // on the first queries. Only a warning: the network may come up later.
    for (const u of upstreams) {
      if (net.isIP(u.address) && !(await routeGet(net.isIPv6(u.address) ? 6 : 4, u.address)))
        log(
          `warning: no route to upstream ${formatServer(u)} from this host; its queries will fail until there is one`,
        );
    }
    info(
      `synthesizing AAAA from A with ${formatPrefix6(prefix)}${mode === 'auto' ? ' unless the upstreams already do' : ''}; ` +
        `asking ${upstreams.map(formatServer).join(', ')}`,
    );
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const s = server.stats;
    await server.stop();
    info(
      `${signal}: stopped after ${s.queries} queries (${s.cacheHits} from the cache, ${s.synthesized} synthesized, ` +
        `${s.ptrSynthesized} reverse, ${s.servfail} failed, ${s.formerr} malformed)`,
    );
    return EXIT.ok;
  },
};

export default dns64;
