// The CLAT address generator (checksum neutrality) and the firewall analysers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Bytes, parseIPv4, parseIPv6, parsePrefix6 } from '../../src-main/engine/ip/address.js';
import { embedIPv4 } from '../../src-main/engine/ip/rfc6052.js';
import { generateClatIpv6, isChecksumNeutral, inSubnet64 } from '../../src-main/engine/net/clat-address.js';
import { analyseNftRuleset, analyseIptablesSave } from '../../src-main/engine/system/firewall.js';

test('CLAT IPv6 addresses: random, in the /64, checksum-neutral for /96 and /32', () => {
  const seen = new Set<string>();
  for (const p of ['2001:db8:64::/96', '64:ff9b::/96', '2001:db8::/32']) {
    for (let i = 0; i < 200; i++) {
      const { address, neutral } = generateClatIpv6('2001:db8:1::/64', '192.0.0.4', parsePrefix6(p));
      assert.ok(inSubnet64(address, '2001:db8:1::/64'));
      assert.ok(neutral);
      assert.ok(isChecksumNeutral(address, '192.0.0.4', parsePrefix6(p)), `${address} ${p}`);
      seen.add(address);
    }
  }
  assert.ok(seen.size > 590, 'addresses are random');
  const odd = generateClatIpv6('2001:db8:1::/64', '192.0.0.4', parsePrefix6('2001:db8:100::/40'));
  assert.equal(odd.neutral, false);
  // avoid: an address in the list is never returned (the generator retries).
  assert.ok(inSubnet64(odd.address, '2001:db8:1::/64'));
});

test('checksum neutrality means the pseudo-header sums really are equal', () => {
  const p = parsePrefix6('2001:db8:64::/96');
  const { address } = generateClatIpv6('2001:db8:1::/64', '192.0.0.4', p);
  const sum = (b: Uint8Array) => {
    let s = 0;
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s % 0xffff;
  };
  const dst4 = ipv4Bytes(parseIPv4('203.0.113.10'));
  const v4 = new Uint8Array([...ipv4Bytes(parseIPv4('192.0.0.4')), ...dst4]);
  const v6 = new Uint8Array([...parseIPv6(address), ...embedIPv4(p, dst4)]);
  assert.equal(sum(v6), sum(v4));
});

const nft = (chainPolicy: string, rules: unknown[]) =>
  JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'inet', name: 'filter', handle: 1 } },
      {
        chain: {
          family: 'inet',
          table: 'filter',
          name: 'forward',
          handle: 2,
          type: 'filter',
          hook: 'forward',
          prio: 0,
          policy: chainPolicy,
        },
      },
      {
        chain: {
          family: 'inet',
          table: 'filter',
          name: 'input',
          handle: 3,
          type: 'filter',
          hook: 'input',
          prio: 0,
          policy: 'drop',
        },
      },
      ...rules.map((expr, i) => ({
        rule: { family: 'inet', table: 'filter', chain: 'forward', handle: 10 + i, expr },
      })),
    ],
  });

test('firewall: a forward chain with policy drop is reported with the fix', () => {
  const f = analyseNftRuleset(nft('drop', []), 'clat0', 'wlan0');
  assert.equal(f.length, 1);
  assert.match(f[0].where, /inet filter, chain forward/);
  assert.match(f[0].problem, /policy drop/);
  assert.match(f[0].fix, /nft insert rule inet filter forward iifname "clat0" accept/);
});

test('firewall: accept rules for both directions of the TUN silence it; an accepting chain is fine', () => {
  const via = (key: string, name: string) => [
    { match: { op: '==', left: { meta: { key } }, right: name } },
    { accept: null },
  ];
  const established = [
    { match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } },
    { accept: null },
  ];
  // Out of the TUN only: the replies back into it are still dropped by the policy.
  assert.equal(analyseNftRuleset(nft('drop', [via('iifname', 'clat*')]), 'clat0', 'wlan0').length, 1);
  assert.equal(analyseNftRuleset(nft('drop', [via('oifname', 'clat0')]), 'clat0', 'wlan0').length, 1);
  assert.deepEqual(
    analyseNftRuleset(nft('drop', [via('iifname', 'clat*'), via('oifname', 'clat0')]), 'clat0', 'wlan0'),
    [],
  );
  // The usual stateful shape: replies pass as established.
  assert.deepEqual(
    analyseNftRuleset(nft('drop', [established, via('iifname', 'clat0')]), 'clat0', 'wlan0'),
    [],
  );
  assert.deepEqual(analyseNftRuleset(nft('accept', []), 'clat0', 'wlan0'), []);
  const dropAll = [{ drop: null }];
  assert.equal(analyseNftRuleset(nft('accept', [dropAll]), 'clat0', 'wlan0').length, 1);
  const dropOther = [
    { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'docker0' } },
    { drop: null },
  ];
  assert.deepEqual(analyseNftRuleset(nft('accept', [dropOther]), 'clat0', 'wlan0'), []);
});

test('firewall: legacy ip6tables FORWARD DROP is reported', () => {
  const text = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
  assert.equal(analyseIptablesSave(text, 'clat0').length, 1);
  // One direction is not enough: the replies back into the TUN would still be dropped.
  assert.equal(analyseIptablesSave(`${text}-A FORWARD -i clat0 -j ACCEPT\n`, 'clat0').length, 1);
  assert.deepEqual(
    analyseIptablesSave(`${text}-A FORWARD -i clat0 -j ACCEPT\n-A FORWARD -o clat0 -j ACCEPT\n`, 'clat0'),
    [],
  );
  const stateful = '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n';
  assert.deepEqual(analyseIptablesSave(`${text}${stateful}-A FORWARD -i clat0 -j ACCEPT\n`, 'clat0'), []);
});
