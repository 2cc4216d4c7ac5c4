// clat/dns64-glue.ts startDns64 with a stand-in engine whose NAT64 prefix changes while the stub
// starts (discovery follows the network at any moment), and one that has no prefix at that
// moment (a PREF64 withdrawn right after bring-up). The stub's own ipv4only.arpa answer
// (RFC 8880 §7.2) shows which prefix it synthesizes with. Inside a namespace with a private
// /etc, since the glue points /etc/resolv.conf at the stub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { Lab } from '../helpers/netns.js';
import { waitFor } from '../helpers/clat-lab.js';

const DRIVER = new URL('../helpers/dns64-glue-driver.js', import.meta.url).pathname;

for (const [name, atStart] of [
  ['a prefix change while the stub starts is followed', '2001:db8:65::/96'],
  ['no prefix at the moment the stub starts: it starts, and takes the next one', ''],
] as const) {
  test(`DNS64 glue: ${name}`, async (t) => {
    if (!requires(t, { root: true, tun: true, binaries: ['dig', 'ip'] })) return;
    const lab = new Lab('dg');
    const dir = mkdtempSync(join(tmpdir(), 'clatbar-glue-'));
    t.after(async () => {
      await lab.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
    const ns = lab.ns('host');
    lab.exec(ns, 'ip', ['tuntap', 'add', 'dev', 'clat0', 'mode', 'tun']);
    lab.exec(ns, 'ip', ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p']);
    lab.exec(ns, 'ip', ['addr', 'add', '192.0.0.4/29', 'dev', 'clat0']);
    for (const l of ['clat0', 'up0', 'up0p']) lab.exec(ns, 'ip', ['link', 'set', l, 'up']);
    const etc = join(dir, 'etc');
    mkdirSync(etc);
    for (const f of ['hosts', 'nsswitch.conf', 'passwd', 'group'])
      if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 192.0.2.53\n');
    const child = lab.spawn(ns, 'sh', [
      '-c',
      // No system bus in here: resolv.conf is the resolver to hook.
      `mount --bind ${etc} /etc && DBUS_SYSTEM_BUS_ADDRESS=unix:path=${dir}/no-bus exec ${process.execPath} ` +
        `${DRIVER} ${join(dir, 'state')} '${atStart}' 2001:db8:64::/96`,
    ]);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await waitFor('the stub', () => out.includes('\n') || child.exitCode !== null);
    assert.match(out, /"ready":true/, `${out}\n${err}`);
    const answer = lab
      .exec(ns, 'sh', ['-c', 'dig +short +time=3 AAAA ipv4only.arpa @192.0.0.4 | sort'])
      .trim();
    assert.equal(answer, '2001:db8:64::c000:aa\n2001:db8:64::c000:ab', `the stub's log:\n${err}`);
    assert.match(readFileSync(join(etc, 'resolv.conf'), 'utf8'), /nameserver 192\.0\.0\.4/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.equal(readFileSync(join(etc, 'resolv.conf'), 'utf8'), 'nameserver 192.0.2.53\n');
  });
}
