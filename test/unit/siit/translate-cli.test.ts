// `clatbar translate`: the offline front end of the translator, run as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap, writePcap } from '../../../src-main/engine/siit/pcap.js';
import { hex, loadVectors, repoRoot } from './helpers.js';

const clatbar = join(repoRoot, 'bin', 'clatbar');

function cli(args: string[]) {
  return spawnSync(process.execPath, [clatbar, 'translate', ...args], { encoding: 'utf8' });
}

test('translates a capture, writes every emitted packet in order, and one verdict per input', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-translate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const vectors = loadVectors();
  // A translation, a drop, an ICMP error sent back and a fragmentation, in one capture.
  const pick = [
    vectors.find((v) => v.name.startsWith('udp, TOS'))!,
    vectors.find((v) => v.name.startsWith('illegal source'))!,
    vectors.find((v) => v.name.startsWith('TTL 1'))!,
    vectors.find((v) => v.name.startsWith('DF clear and bigger'))!,
  ];
  writeFileSync(join(dir, 'case.json'), JSON.stringify(pick[0].config));
  writeFileSync(join(dir, 'in.pcap'), writePcap(pick.map((v, i) => ({ data: hex(v.input), time: i }))));
  const r = cli([
    '--config',
    join(dir, 'case.json'),
    '--in',
    join(dir, 'in.pcap'),
    '--out',
    join(dir, 'out.pcap'),
    '--verdicts',
    join(dir, 'v.jsonl'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = readPcap(readFileSync(join(dir, 'out.pcap')));
  assert.equal(out.linktype, 101);
  assert.equal(out.packets.length, 1 + 0 + 1 + 2);
  assert.deepEqual([...out.packets[0].data], [...hex(pick[0].expected[0])]);
  assert.deepEqual([...out.packets[2].data], [...hex(pick[3].expected[0])]);
  assert.deepEqual([...out.packets[3].data], [...hex(pick[3].expected[1])]);
  assert.deepEqual(
    out.packets.map((p) => p.time),
    [0, 2, 3, 3],
  );
  const verdicts = readFileSync(join(dir, 'v.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; verdict: string; reason: string; emitted: number });
  assert.deepEqual(verdicts, [
    { index: 0, verdict: 'translated', reason: 'none', emitted: 1 },
    { index: 1, verdict: 'dropped', reason: 'illegal-source', emitted: 0 },
    { index: 2, verdict: 'icmp-error', reason: 'ttl-expired', emitted: 1 },
    { index: 3, verdict: 'translated', reason: 'none', emitted: 2 },
  ]);
});

test('a bad configuration is refused naming the key; usage errors exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-translate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ pool6: '64:ff9b::/96', ipv6MTU: 1500 }));
  writeFileSync(join(dir, 'in.pcap'), writePcap([]));
  const r = cli([
    '--config',
    join(dir, 'case.json'),
    '--in',
    join(dir, 'in.pcap'),
    '--out',
    join(dir, 'o.pcap'),
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ipv6MTU/);
  const u = cli(['--in', 'x']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--config is required/);
});

test('--help teaches the flags, the configuration keys with an example, and the link types', () => {
  const r = cli(['--help']);
  assert.equal(r.status, 0);
  for (const word of [
    '--config',
    '--in',
    '--out',
    '--verdicts',
    'pool6',
    'eamt',
    'rfc6791v4',
    'rfc6791v6',
    'lowestIpv6Mtu',
    'amendUdpChecksumZero',
    'ipv4Mtu',
    'ipv6Mtu',
    'icmpSourceV4',
    'icmpSourceV6',
    '101',
    '228',
    '229',
    'Ethernet',
    'example',
  ]) {
    assert.ok(r.stdout.includes(word), `help mentions ${word}`);
  }
});
