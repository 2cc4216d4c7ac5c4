// The daemon's pure parts: the uplink choice from a network snapshot, the classification, and
// the decision from classification, policy and override (engine/daemon/decide.ts, netstate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, decide, type ClassifyInput } from '../../../src-main/engine/daemon/decide.js';
import {
  pickUplink,
  nativeIpv4Defaults,
  subnet64Of,
  type NetSnapshot,
} from '../../../src-main/engine/daemon/netstate.js';
import type { IpLink } from '../../../src-main/engine/system/iproute.js';

function link(ifname: string, ifindex: number, addrs: string[], kind?: string, up = true): IpLink {
  return {
    ifindex,
    ifname,
    flags: up ? ['BROADCAST', 'UP', 'LOWER_UP'] : ['BROADCAST'],
    mtu: 1500,
    ...(kind ? { linkinfo: { info_kind: kind } } : {}),
    addr_info: addrs.map((a) => ({ family: 'inet6', local: a, prefixlen: 64, scope: 'global' })),
  };
}

const def6 = (dev: string, metric: number, gateway = 'fe80::1') => ({ dst: 'default', dev, metric, gateway });

test('uplink: the IPv6 default route with a global address, lowest metric, never our TUN or a tunnel', () => {
  const snap: NetSnapshot = {
    links: [
      link('wlan0', 2, ['2001:db8:1::10']),
      link('eth0', 3, ['2001:db8:2::10']),
      link('clat0', 4, ['2001:db8:3::10'], 'tun'),
      link('wg0', 5, ['2001:db8:4::10'], 'wireguard'),
      link('veth1', 6, []),
    ],
    routes6: [def6('wlan0', 600), def6('eth0', 100), def6('clat0', 1), def6('wg0', 2), def6('veth1', 3)],
    routes4: [],
  };
  const u = pickUplink(snap, 'clat0');
  assert.ok(!('none' in u));
  assert.equal(u.name, 'eth0');
  assert.equal(u.why.code, 'uplink.lowest-metric');
  assert.match(u.why.text, /eth0 carries the IPv6 default route .* metric 100/);
  assert.match(
    u.why.text,
    /not clat0 \(our own TUN\), wg0 \(a wireguard device\), veth1 \(no usable global \/64 address\)/,
  );
  // eth0 unplugged: Wi-Fi takes over.
  const w = pickUplink(
    {
      ...snap,
      links: snap.links.filter((l) => l.ifname !== 'eth0'),
      routes6: snap.routes6.filter((r) => r.dev !== 'eth0'),
    },
    'clat0',
  );
  assert.ok(!('none' in w) && w.name === 'wlan0');
  // A link that is down or only has a tentative address does not qualify.
  const down = pickUplink(
    {
      links: [link('eth0', 3, ['2001:db8:2::10'], undefined, false)],
      routes6: [def6('eth0', 1)],
      routes4: [],
    },
    'clat0',
  );
  assert.ok('none' in down);
  assert.match(down.none.text, /eth0 \(down\)/);
  const none = pickUplink({ links: [link('eth0', 3, [])], routes6: [], routes4: [] }, 'clat0');
  assert.ok('none' in none);
  assert.equal(none.none.text, 'no interface has an IPv6 default route');
});

test('native IPv4 is a default route not through our TUN', () => {
  const snap: NetSnapshot = {
    links: [],
    routes6: [],
    routes4: [
      { dst: 'default', dev: 'clat0', metric: 2147483647 },
      { dst: 'default', dev: 'eth0', gateway: '192.0.2.1' },
      { dst: '192.0.2.0/24', dev: 'eth0' },
    ],
  };
  assert.deepEqual(
    nativeIpv4Defaults(snap, 'clat0').map((r) => r.dev),
    ['eth0'],
  );
  assert.equal(subnet64Of('2001:db8:1:0:aaaa:bbbb:cccc:dddd'), '2001:db8:1::/64');
});

const base: ClassifyInput = {
  uplink: 'up0',
  nativeIpv4: [],
  otherClats: [],
  prefix: { prefix: '64:ff9b::/96', source: 'pref64' },
};

test('classification: another CLAT, native IPv4, offline, no NAT64, NAT64', () => {
  assert.equal(
    classify({ ...base, otherClats: ['tayga (pid 5)'], nativeIpv4: ['dev eth0'] }).kind,
    'system-clat',
  );
  assert.equal(classify({ ...base, nativeIpv4: ['via 192.0.2.1 dev eth0'] }).kind, 'dual-stack');
  assert.equal(classify({ ...base, uplink: null, prefix: null }).kind, 'offline');
  assert.equal(classify({ ...base, prefix: null }).kind, 'ipv6-only');
  const n = classify(base);
  assert.equal(n.kind, 'ipv6-only-nat64');
  assert.deepEqual(n.text.params, { uplink: 'up0', prefix: '64:ff9b::/96', source: 'pref64' });
});

test('decision: policy, override and classification', () => {
  const d = (
    over: Partial<ClassifyInput>,
    policy: 'auto' | 'always' | 'never',
    override: 'enable' | 'disable' | null = null,
  ) =>
    decide({
      network: classify({ ...base, ...over }),
      havePrefix: (over.prefix === undefined ? base.prefix : over.prefix) !== null,
      policy,
      policySource: 'user',
      override,
    }).state;
  const v4 = { nativeIpv4: ['via 192.0.2.1 dev eth0'] };
  assert.equal(d({}, 'auto'), 'active');
  assert.equal(d({}, 'never'), 'off');
  assert.equal(d({}, 'auto', 'disable'), 'off');
  assert.equal(d({}, 'always', 'disable'), 'off');
  // enable lifts never and then behaves as auto: on beside native IPv4 only with always.
  assert.equal(d({}, 'never', 'enable'), 'active');
  assert.equal(d(v4, 'never', 'enable'), 'standby');
  assert.equal(d(v4, 'auto'), 'standby');
  assert.equal(d(v4, 'always'), 'active');
  assert.equal(d({ ...v4, prefix: null }, 'always'), 'standby');
  assert.equal(d({ prefix: null }, 'always'), 'standby');
  assert.equal(d({ otherClats: ['clatd (pid 9)'] }, 'always'), 'standby');
  assert.equal(d({ uplink: null, prefix: null }, 'auto'), 'standby');
  const off = decide({
    network: classify(base),
    havePrefix: true,
    policy: 'never',
    policySource: 'admin',
    override: null,
  });
  assert.equal(off.reason.code, 'off.policy');
  assert.match(off.reason.text, /administrator/);
});

test('IPv4 withheld by DHCPv4 option 108 (RFC 8925): IPv6-only, named as such', () => {
  const withheld = { waitSeconds: 1800 };
  // The lease's default route on the uplink is what option 108 ends: set aside.
  const lease = { nativeIpv4: ['via 192.0.2.1 dev up0'], ipv4Withheld: withheld };
  const n = classify({ ...base, ...lease });
  assert.equal(n.kind, 'ipv6-only-nat64');
  assert.equal(n.withheld, true);
  assert.equal(n.text.code, 'network.v6only-preferred-nat64');
  assert.deepEqual(n.text.params, { uplink: 'up0', wait: 1800, prefix: '64:ff9b::/96', source: 'pref64' });
  assert.match(
    n.text.text,
    /withholds IPv4 .* option 108 .* for 1800 s; NAT64 prefix 64:ff9b::\/96 \(pref64\)/,
  );
  const active = decide({
    network: n,
    havePrefix: true,
    policy: 'auto',
    policySource: 'default',
    override: null,
  });
  assert.equal(active.state, 'active');
  assert.equal(active.reason.code, 'active.v6only-preferred');
  // Without a NAT64 prefix: IPv6-only, standby, and the reason says IPv4 is withheld.
  const bare = classify({ ...base, ...lease, prefix: null });
  assert.equal(bare.kind, 'ipv6-only');
  assert.equal(bare.text.code, 'network.v6only-preferred');
  const standby = decide({
    network: bare,
    havePrefix: false,
    policy: 'auto',
    policySource: 'default',
    override: null,
  });
  assert.deepEqual([standby.state, standby.reason.code], ['standby', 'standby.v6only-preferred']);
  // Native IPv4 through another device stays native IPv4; the same route without option 108 too.
  assert.equal(
    classify({ ...base, nativeIpv4: ['via 198.51.100.1 dev eth1'], ipv4Withheld: withheld }).kind,
    'dual-stack',
  );
  assert.equal(classify({ ...base, nativeIpv4: ['via 192.0.2.1 dev up0'] }).kind, 'dual-stack');
  // A route through a device whose name only ends like the uplink's is not the uplink's.
  assert.equal(
    classify({ ...base, nativeIpv4: ['via 192.0.2.1 dev xup0'], ipv4Withheld: withheld }).kind,
    'dual-stack',
  );
  // Another CLAT and the user's policy still come first.
  assert.equal(classify({ ...base, ...lease, otherClats: ['clatd (pid 9)'] }).kind, 'system-clat');
  assert.equal(
    decide({ network: n, havePrefix: true, policy: 'never', policySource: 'user', override: null }).state,
    'off',
  );
});
