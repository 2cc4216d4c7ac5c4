// The lab's network, as numbers: an IPv6-only laptop, a router that is the network's NAT64
// (TAYGA) and resolver (unbound with DNS64), and an IPv4-only server. Only documentation
// addresses (RFC 3849, RFC 5737), so nothing in the lab can reach or be mistaken for the
// Internet. `clatbar lab` and the test suites' lab (test/helpers/clat-lab.ts) build the same.
//
//   laptop (up0: SLAAC from RAs)  --  router (r0 2001:db8:1::1/64, NAT64 2001:db8:64::/96 via
//   tayga, dynamic pool 198.51.100.0/24; r1 203.0.113.1/24)  --  server (s0 203.0.113.10/24)

export const LAB_NET = {
  /** The network's NAT64 prefix (TAYGA on the router), announced as PREF64. */
  nat64Prefix: '2001:db8:64::/96',
  /** The laptop's LAN, announced in the RAs' prefix information option. */
  lanPrefix: '2001:db8:1::/64',
  /** The router on the LAN: default gateway and DNS resolver. */
  routerLan: '2001:db8:1::1',
  routerV4: '203.0.113.1',
  serverV4: '203.0.113.10',
  /** The server as the laptop reaches it through the NAT64 (RFC 6052 embedding of serverV4). */
  serverViaNat64: '2001:db8:64::cb00:710a',
  /** TAYGA's own IPv4 address and the pool it maps IPv6 clients into. */
  taygaV4: '198.51.100.1',
  taygaPool: '198.51.100.0/24',
  /** The lab's own DNS zone (RFC 6761 reserves .test) and the server's name in it. */
  zone: 'clatbar.test',
  serverName: 'www.clatbar.test',
  laptopIf: 'up0',
  routerLanIf: 'r0',
  routerWanIf: 'r1',
  serverIf: 's0',
  taygaTun: 'nat64',
} as const;

/** The lab's three namespaces by role; the product uses fixed names, tests tag theirs with a pid. */
export interface LabNames {
  laptop: string;
  router: string;
  server: string;
}
