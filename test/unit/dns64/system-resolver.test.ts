// Reading the uplink's resolvers from resolv.conf and resolvectl output; the resolved hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hookSystemResolver,
  learnResolvers,
  parseResolvConf,
  parseResolvectlDns,
} from '../../../src-main/engine/dns64/system-resolver.js';
import { Journal } from '../../../src-main/engine/system/journal.js';

test('resolv.conf nameservers, comments and junk ignored', () => {
  const text =
    '# generated\nnameserver 2001:db8::53\nnameserver  192.0.2.1 \nnameserver bogus\n;nameserver 192.0.2.9\nsearch example\n';
  assert.deepEqual(parseResolvConf(text), ['2001:db8::53', '192.0.2.1']);
});

test('resolvectl dns output, global and per link', () => {
  const text = 'Global: 192.0.2.10\nLink 2 (eth0): 2001:db8::1 192.0.2.53#dns.example\nLink 3 (wlan0):\n';
  assert.deepEqual(parseResolvectlDns(text), ['192.0.2.10', '2001:db8::1', '192.0.2.53']);
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

test('systemd-resolved path: resolvectl calls journaled, reverted by undo (resolved does not run here, so a recording resolvectl stands in)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-resolvectl-'));
  const oldPath = process.env.PATH;
  try {
    const logFile = join(dir, 'calls');
    writeFileSync(
      join(dir, 'resolvectl'),
      `#!/bin/sh\necho "$*" >> ${logFile}\n[ "$1" = dns ] && [ $# -eq 2 ] && echo "Link 4 ($2): 2001:db8::53 192.0.2.53"\nexit 0\n`,
      { mode: 0o755 },
    );
    process.env.PATH = `${dir}:${oldPath}`;
    assert.deepEqual(learnResolvers({ iface: 'wlan0', useResolved: true }), [
      { address: '2001:db8::53', port: 53 },
      { address: '192.0.2.53', port: 53 },
    ]);
    const journal = Journal.create(join(dir, 'state'));
    const hooked = hookSystemResolver({ journal, address: '192.0.0.1', iface: 'clat0', useResolved: true });
    assert.equal(hooked.how, 'systemd-resolved');
    assert.equal(journal.entries.length, 1);
    journal.undoAll();
    assert.deepEqual(readFileSync(logFile, 'utf8').trim().split('\n'), [
      'dns wlan0',
      'dns clat0 192.0.0.1',
      'domain clat0 ~.',
      'default-route clat0 yes',
      'revert clat0',
    ]);
  } finally {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  }
});
