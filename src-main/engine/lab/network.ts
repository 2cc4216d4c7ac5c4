// Builds the lab's network (see topology.ts) through a LabHost: `clatbar lab up` passes one that
// records every namespace and process in its state file before making it, the tests one that
// tags names with their pid and removes everything in t.after. One build, so what the tests
// prove is what a user sees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_NET, type LabNames } from './topology.js';
import { PYTHON3, RA_SENDER, writeRaConfig, type RaConfig } from './ra-sender.js';

export const IP = '/usr/sbin/ip';
export const SYSCTL = '/usr/sbin/sysctl';
export const TAYGA = '/usr/sbin/tayga';

/** What building the lab needs from its owner. */
export interface LabHost<P> {
  /** Creates the namespace for a role (recorded first), loopback up; resolves its full name. */
  addNamespace(role: keyof LabNames): Promise<string>;
  /** Runs argv (absolute path first) inside a namespace; resolves stdout, rejects saying what failed. */
  exec(ns: string, argv: string[]): Promise<string>;
  /** A veth pair between two namespaces, both ends up. */
  veth(a: string, aIf: string, b: string, bIf: string): Promise<void>;
  /** Starts a long-running program inside a namespace; `role` names it in logs and records. */
  spawn(ns: string, argv: string[], role: string): Promise<P>;
}

export interface LabNetwork<P> {
  names: LabNames;
  tayga: P;
  raSender: P;
  /** The RA sender's config file (writeRaConfig, then SIGUSR1 to the sender). */
  raConfig: string;
}

/** Thrown by a waitUntil probe for a failure that waiting longer cannot fix (a process died). */
export class GiveUp extends Error {}

/**
 * Polls probe until it resolves true, or fails after ms saying what. Errors count as "not yet",
 * except GiveUp, which ends the wait at once.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  ms = 15000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await probe()) return;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

/**
 * Namespaces, links, the router (addresses, forwarding, TAYGA as NAT64, RAs with PREF64 as `ra`
 * says; default: the lab's prefix, 600 s) and the server's IPv4; resolves once the laptop has
 * taken a SLAAC address and a default route from the RAs, as on real Wi-Fi. `dir` holds the
 * configs (TAYGA's and the RA sender's).
 */
export async function buildLabNetwork<P>(
  host: LabHost<P>,
  dir: string,
  opts: { ra?: RaConfig } = {},
): Promise<LabNetwork<P>> {
  const N = LAB_NET;
  const laptop = await host.addNamespace('laptop');
  const router = await host.addNamespace('router');
  const server = await host.addNamespace('server');
  await host.veth(laptop, N.laptopIf, router, N.routerLanIf);
  await host.veth(router, N.routerWanIf, server, N.serverIf);

  // Router: IPv6 towards the laptop (sends RAs), IPv4 towards the server, NAT64 in between.
  await host.exec(router, [
    SYSCTL,
    '-qw',
    'net.ipv6.conf.all.forwarding=1',
    'net.ipv4.ip_forward=1',
    `net.ipv6.conf.${N.routerLanIf}.accept_dad=0`,
  ]);
  await host.exec(router, [IP, 'addr', 'add', `${N.routerLan}/64`, 'dev', N.routerLanIf, 'nodad']);
  await host.exec(router, [IP, 'addr', 'add', `${N.routerV4}/24`, 'dev', N.routerWanIf]);
  const taygaDir = join(dir, 'tayga');
  const taygaConf = join(dir, 'tayga.conf');
  writeFileSync(
    taygaConf,
    [
      `tun-device ${N.taygaTun}`,
      `ipv4-addr ${N.taygaV4}`,
      `prefix ${N.nat64Prefix}`,
      `dynamic-pool ${N.taygaPool}`,
      `data-dir ${taygaDir}`,
      '',
    ].join('\n'),
  );
  await host.exec(router, [TAYGA, '--mktun', '--config', taygaConf]);
  await host.exec(router, [IP, 'link', 'set', N.taygaTun, 'up']);
  await host.exec(router, [IP, 'route', 'add', N.taygaPool, 'dev', N.taygaTun]);
  await host.exec(router, [IP, '-6', 'route', 'add', N.nat64Prefix, 'dev', N.taygaTun]);
  const tayga = await host.spawn(router, [TAYGA, '-d', '--config', taygaConf], 'tayga');
  await waitUntil('the router link-local address', async () => {
    const out = await host.exec(router, [IP, '-6', 'addr', 'show', 'dev', N.routerLanIf]);
    return out.includes('fe80::') && !out.includes('tentative');
  });
  const raConfig = join(dir, 'ra.json');
  writeRaConfig(raConfig, opts.ra ?? { pref64: [{ prefix: N.nat64Prefix, lifetime: 600 }] });
  const raSender = await host.spawn(router, [PYTHON3, '-c', RA_SENDER, N.routerLanIf, raConfig], 'ra-sender');

  // Server: IPv4 only.
  await host.exec(server, [SYSCTL, '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  await host.exec(server, [IP, 'addr', 'add', `${N.serverV4}/24`, 'dev', N.serverIf]);
  await host.exec(server, [IP, 'route', 'add', 'default', 'via', N.routerV4]);

  // Laptop: IPv6 only, address and default route from the RAs (SLAAC).
  await waitUntil('the laptop to take a SLAAC address and an RA default route', async () => {
    const addrs = await host.exec(laptop, [IP, '-6', 'addr', 'show', 'dev', N.laptopIf]);
    const routes = await host.exec(laptop, [IP, '-6', 'route', 'show', 'default']);
    return (
      /2001:db8:1:0:[0-9a-f:]+\/64 scope global dynamic/.test(addrs) &&
      !addrs.includes('tentative') &&
      routes.includes('proto ra')
    );
  });
  return { names: { laptop, router, server }, tayga, raSender, raConfig };
}
