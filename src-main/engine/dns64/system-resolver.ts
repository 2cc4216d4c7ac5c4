// Points the host's resolver at our DNS64 stub and puts it back afterwards, through the undo
// journal (journal.ts) so a crash or kill -9 is repaired on the next start.
//
// With systemd-resolved running we configure it per link (`resolvectl dns/domain`, undone by
// `resolvectl revert`); otherwise /etc/resolv.conf is rewritten with its old content journaled.
// The resolv.conf path is a parameter: inside `ip netns exec NS`, /etc/netns/NS/resolv.conf is
// what programs see, which is how the tests use it.
import {
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import net from 'node:net';
import { execOut } from '../system/exec.js';
import type { Journal } from '../system/journal.js';
import { parseServer, type UpstreamServer } from './upstream.js';

export const RESOLV_CONF = '/etc/resolv.conf';
/** systemd-resolved's own stub listener addresses: never an upstream of ours. */
const RESOLVED_STUBS = ['127.0.0.53', '127.0.0.54'];

/** Whether systemd-resolved is running and answering resolvectl. */
export function resolvedRunning(): boolean {
  if (!existsSync('/run/systemd/resolve/io.systemd.Resolve')) return false;
  try {
    execOut(['resolvectl', 'status', '--no-pager']);
    return true;
  } catch {
    return false;
  }
}

/** Nameserver addresses from resolv.conf text (RFC-less but universal format: `nameserver ADDR`). */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1].split('%')[0])) out.push(m[1]);
  }
  return out;
}

/** Addresses from `resolvectl dns [IFACE]` output ("Link 2 (eth0): 2001:db8::53 192.0.2.53"). */
export function parseResolvectlDns(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || !/^(Global|Link \d+)/.test(line.trim())) continue;
    for (const word of line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)) {
      // resolvectl may print "ADDR#SERVERNAME" or "ADDR%IFINDEX".
      const addr = word.split('#')[0];
      if (net.isIP(addr.split('%')[0])) out.push(addr);
    }
  }
  return out;
}

/**
 * The uplink's resolvers, learned before we hook the system resolver: from systemd-resolved
 * (for iface, or all links) when it runs, else from resolv.conf. Our own listen addresses and
 * resolved's stub are left out, so we never forward to ourselves.
 */
export function learnResolvers(
  opts: { iface?: string; resolvConfPath?: string; exclude?: string[]; useResolved?: boolean } = {},
): UpstreamServer[] {
  const useResolved = opts.useResolved ?? resolvedRunning();
  let addrs: string[] = [];
  if (useResolved) {
    try {
      addrs = parseResolvectlDns(execOut(['resolvectl', 'dns', ...(opts.iface ? [opts.iface] : [])]));
    } catch {
      addrs = [];
    }
  }
  if (addrs.length === 0) {
    try {
      addrs = parseResolvConf(readFileSync(opts.resolvConfPath ?? RESOLV_CONF, 'utf8'));
    } catch {
      addrs = [];
    }
  }
  const skip = new Set([...RESOLVED_STUBS, ...(opts.exclude ?? [])]);
  const seen = new Set<string>();
  const out: UpstreamServer[] = [];
  for (const a of addrs) {
    if (skip.has(a) || seen.has(a)) continue;
    seen.add(a);
    out.push(parseServer(net.isIPv6(a.split('%')[0]) ? `[${a}]` : a));
  }
  return out;
}

export interface HookOptions {
  journal: Journal;
  /** Address our stub listens on (port 53: resolv.conf cannot name another port). */
  address: string;
  /** Link to attach the DNS server to when systemd-resolved is used (e.g. the CLAT TUN). */
  iface?: string;
  resolvConfPath?: string;
  /** Force or forbid systemd-resolved (default: detect). */
  useResolved?: boolean;
  log?: (line: string) => void;
}

export interface Hooked {
  how: 'systemd-resolved' | 'resolv.conf';
}

/**
 * Makes the host ask our stub. Every change is journaled before it is made; journal.undoAll()
 * (or Journal.recover after a crash) restores the previous state.
 */
export function hookSystemResolver(opts: HookOptions): Hooked {
  const log = opts.log ?? (() => {});
  const useResolved = opts.useResolved ?? resolvedRunning();
  if (useResolved) {
    if (!opts.iface) throw new Error('systemd-resolved needs the link to attach our DNS server to');
    const iface = opts.iface;
    const undo = { kind: 'exec' as const, argv: ['resolvectl', 'revert', iface] };
    opts.journal.apply(`DNS server ${opts.address} on ${iface} (systemd-resolved)`, undo, () => {
      execOut(['resolvectl', 'dns', iface, opts.address]);
      // "~." makes this link the one resolved asks for every name.
      execOut(['resolvectl', 'domain', iface, '~.']);
      execOut(['resolvectl', 'default-route', iface, 'yes']);
    });
    log(`systemd-resolved now sends every query on ${iface} to ${opts.address}`);
    return { how: 'systemd-resolved' };
  }
  const path = opts.resolvConfPath ?? RESOLV_CONF;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
  const isLink = existsSync(path) && lstatSync(path).isSymbolicLink();
  const keep = (old ?? '')
    .split('\n')
    .filter((l) => /^\s*(search|domain|options)\b/.test(l))
    .join('\n');
  const content = [
    '# Written by clatbar (DNS64 stub). The previous file comes back when clatbar stops.',
    `nameserver ${opts.address}`,
    keep,
    '',
  ]
    .filter((l, i, a) => l !== '' || i === a.length - 1)
    .join('\n');
  const write = (): void => {
    const tmp = join(dirname(path), `.resolv.conf.clatbar-${process.pid}`);
    writeFileSync(tmp, content, { mode: 0o644 });
    if (isLink) rmSync(path, { force: true });
    renameSync(tmp, path);
  };
  if (isLink) {
    // A symlink (e.g. to resolved's stub file) is put back as the same symlink.
    const target = readlinkSync(path);
    opts.journal.apply(
      `${path} -> nameserver ${opts.address} (was a link to ${target})`,
      { kind: 'exec', argv: ['ln', '-sfn', target, path] },
      write,
    );
  } else {
    opts.journal.apply(
      `${path} -> nameserver ${opts.address}`,
      { kind: 'restore-file', path, content: old, mode: 0o644 },
      write,
    );
  }
  log(`${path} now names ${opts.address} as the only nameserver (the old file is journaled)`);
  return { how: 'resolv.conf' };
}
