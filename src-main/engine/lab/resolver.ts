// The lab router's resolver: unbound, optionally with its dns64 module. The lab's own names are
// an auth-zone that unbound's iterator reads (for-upstream), so the dns64 module synthesizes
// AAAA records for them as it would for any IPv4-only name on the Internet (local-data would be
// answered before the modules run and never synthesized). The router has no route to the
// Internet: any other name fails.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_NET } from './topology.js';

export const UNBOUND = '/usr/sbin/unbound';

export interface ResolverOptions {
  /** Where it listens. default: the router's LAN address */
  address?: string;
  /** A NAT64 prefix for unbound's dns64 module; none: plain DNS. */
  dns64?: string | null;
  /** More lines at the end of the server: clause and after it (local-data, auth-zone: clauses). */
  tail?: string[];
  /** Serve the lab's zones (clatbar.test and ipv4only.arpa). default true */
  labZones?: boolean;
}

/** Writes the zone files and unbound's config into dir; returns the config's path. */
export function writeResolverConfig(dir: string, opts: ResolverOptions = {}): string {
  const address = opts.address ?? LAB_NET.routerLan;
  const zones: Record<string, string[]> =
    opts.labZones === false
      ? {}
      : {
          // The lab's names: the IPv4-only server, A records only.
          [LAB_NET.zone]: ['www', 'server'].map((n) => `${n} 300 IN A ${LAB_NET.serverV4}`),
          // RFC 7050: a network with DNS64 synthesizes AAAA for ipv4only.arpa, so a client without
          // PREF64 can find the prefix. It is a real zone on the Internet; here it is served locally.
          'ipv4only.arpa': ['@ 3600 IN A 192.0.0.170', '@ 3600 IN A 192.0.0.171'],
        };
  const authZones: string[] = [];
  for (const [zone, records] of Object.entries(zones)) {
    const file = join(dir, `${zone}.zone`);
    writeFileSync(
      file,
      [
        `$ORIGIN ${zone}.`,
        `@ 3600 IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 300`,
        `@ 3600 IN NS ns.${zone}.`,
        ...records,
        '',
      ].join('\n'),
    );
    authZones.push(
      'auth-zone:',
      `  name: "${zone}."`,
      `  zonefile: "${file}"`,
      '  for-upstream: yes',
      '  for-downstream: no',
    );
  }
  const conf = join(dir, `unbound-${address.replace(/[:.]/g, '_')}.conf`);
  writeFileSync(
    conf,
    [
      'server:',
      `  interface: ${address}`,
      '  access-control: ::/0 allow',
      '  access-control: 0.0.0.0/0 allow',
      '  do-daemonize: no',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  use-syslog: no',
      `  module-config: "${opts.dns64 ? 'dns64 iterator' : 'iterator'}"`,
      ...(opts.dns64 ? [`  dns64-prefix: ${opts.dns64}`] : []),
      // unbound answers NXDOMAIN for all of .test itself (RFC 6761 §6.2) unless told not to.
      ...(opts.labZones === false ? [] : ['  local-zone: "test." nodefault']),
      ...(opts.tail ?? []),
      ...authZones,
      '',
    ].join('\n'),
  );
  return conf;
}
