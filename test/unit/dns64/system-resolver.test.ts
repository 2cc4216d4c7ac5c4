// Reading the uplink's resolvers from resolv.conf and resolvectl output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  learnResolvers,
  parseResolvConf,
  parseResolvectlDns,
} from '../../../src-main/engine/dns64/system-resolver.js';

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
