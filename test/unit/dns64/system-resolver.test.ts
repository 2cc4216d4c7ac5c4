// Reading the uplink's resolvers from resolv.conf; decoding what systemd-resolved's D-Bus API
// returns and explaining its refusals. The D-Bus calls themselves run against a private bus in
// test/netns/resolved-dbus.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnResolvers, parseResolvConf } from '../../../src-main/engine/dns64/system-resolver.js';
import { DBusError } from 'dbus-next';
import {
  addressBytes,
  explain,
  formatDomains,
  parseDomains,
  parseServers,
} from '../../../src-main/engine/dns64/resolved-dbus.js';

test('resolv.conf nameservers, comments and junk ignored', () => {
  const text =
    '# generated\nnameserver 2001:db8::53\nnameserver  192.0.2.1 \nnameserver bogus\n;nameserver 192.0.2.9\nsearch example\n';
  assert.deepEqual(parseResolvConf(text), ['2001:db8::53', '192.0.2.1']);
});

test('learnResolvers skips our own address and resolved stubs, and dedups', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-rc-'));
  try {
    const path = join(dir, 'resolv.conf');
    writeFileSync(
      path,
      'nameserver 127.0.0.53\nnameserver 127.0.0.1\nnameserver 2001:db8::53\nnameserver 2001:db8::53\n',
    );
    assert.deepEqual(learnResolvers({ resolvConfPath: path, useResolved: false, exclude: ['127.0.0.1'] }), [
      { address: '2001:db8::53', port: 53 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resolved server lists: DNS a(iay), DNSEx a(iayqs) with port 0 meaning 53, Manager a(iiay); junk skipped', () => {
  const v4 = addressBytes('192.0.2.53').bytes;
  const v6 = addressBytes('2001:db8::53').bytes;
  assert.deepEqual(parseServers([[2, v4], [10, v6], [2, Buffer.from([1, 2])], 'junk'], false, 3), [
    { family: 4, address: '192.0.2.53', port: 53, serverName: '', ifindex: 3 },
    { family: 6, address: '2001:db8::53', port: 53, serverName: '', ifindex: 3 },
  ]);
  assert.deepEqual(
    parseServers(
      [
        [10, v6, 0, ''],
        [2, v4, 5353, 'dns.example'],
      ],
      false,
      3,
    ),
    [
      { family: 6, address: '2001:db8::53', port: 53, serverName: '', ifindex: 3 },
      { family: 4, address: '192.0.2.53', port: 5353, serverName: 'dns.example', ifindex: 3 },
    ],
  );
  assert.deepEqual(
    parseServers(
      [
        [0, 2, v4],
        [4, 10, v6, 853, 'x'],
      ],
      true,
    ),
    [
      { family: 4, address: '192.0.2.53', port: 53, serverName: '', ifindex: 0 },
      { family: 6, address: '2001:db8::53', port: 853, serverName: 'x', ifindex: 4 },
    ],
  );
  assert.deepEqual(parseServers(null, false), []);
});

test('resolved domains a(sb), printed as resolvectl does', () => {
  const d = parseDomains([['.', true], ['corp.example', false], ['bad'], [1, true]]);
  assert.deepEqual(d, [
    { name: '.', routeOnly: true },
    { name: 'corp.example', routeOnly: false },
  ]);
  assert.equal(formatDomains(d), '~. corp.example');
  assert.equal(formatDomains([]), '(none)');
});

test('refusals name the fix: polkit/root, networkd-managed link, resolved gone', () => {
  const denied = explain(
    new DBusError('org.freedesktop.DBus.Error.AccessDenied', 'Access denied'),
    'SetLinkDNSEx on clat0',
    'clat0',
  );
  assert.equal(denied.dbusName, 'org.freedesktop.DBus.Error.AccessDenied');
  assert.match(denied.message, /refused SetLinkDNSEx on clat0: Access denied/);
  assert.match(denied.message, /as root/);
  assert.match(denied.message, /org\.freedesktop\.resolve1\.set-dns-servers/);
  const busy = explain(
    new DBusError('org.freedesktop.resolve1.LinkBusy', 'Link clat0 is managed.'),
    'x',
    'clat0',
  );
  assert.match(busy.message, /systemd-networkd manages clat0.*Unmanaged=yes/);
  const gone = explain(new DBusError('org.freedesktop.DBus.Error.ServiceUnknown', 'not provided'), 'x');
  assert.match(gone.message, /systemctl status systemd-resolved/);
  const sock = explain(
    Object.assign(new Error('connect EACCES /run/dbus/system_bus_socket'), { code: 'EACCES' }),
    'x',
  );
  assert.equal(sock.dbusName, null);
  assert.match(sock.message, /refused us.*as root/);
  // What dbus-next's socket says when dbus-daemon has hung up on a user its policy turns away
  // and the next read finds the descriptor closed (seen in test/netns/resolved-dbus.test.ts).
  const hungUp = explain(
    Object.assign(new Error("EBADF, USocket '../src/uwrap.cc:489'"), { code: 'EBADF' }),
    'asking whether systemd-resolved runs',
  );
  assert.match(
    hungUp.message,
    /refused us .* while asking whether systemd-resolved runs: .*run the engine as root/,
  );
});
