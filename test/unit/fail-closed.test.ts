// Checks that cannot run say "could not check" instead of "nothing found": an nft that is
// installed but fails or hangs, no firewall tool at all, an nmcli that times out. The tools are
// stood in for by functions that fail the way the real ones do (a hung or broken nft cannot be
// made to happen on demand here); what the checks conclude from each failure is the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFirewallProblems } from '../../src-main/engine/system/firewall.js';
import { networkManagerClat } from '../../src-main/engine/system/conflicts.js';
import { CommandError } from '../../src-main/engine/system/exec.js';

const missing = (argv: string[]) => Promise.reject(new CommandError(argv, '', null, 'missing'));
const timeout = (argv: string[]) => Promise.reject(new CommandError(argv, '', null, 'timeout'));
const fails = (argv: string[]) =>
  Promise.reject(new CommandError(argv, 'netlink: Error: cache initialization failed', 1));

test('firewall: nft that hangs or fails is "could not check", with what to look at', async () => {
  for (const nft of [timeout, fails]) {
    const f = await findFirewallProblems('clat0', 'wlan0', (argv) =>
      argv[0] === 'nft' ? nft(argv) : missing(argv),
    );
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].couldNotCheck, true);
    assert.match(f[0].problem, /^could not check: `nft -j list ruleset` (did not finish in time|failed)/);
    assert.match(f[0].fix, /sudo nft list ruleset/);
  }
});

test('firewall: no tool to read the rules with is "could not check", not "nothing found"', async () => {
  const f = await findFirewallProblems('clat0', 'wlan0', missing);
  assert.equal(f.length, 1);
  assert.equal(f[0].couldNotCheck, true);
  assert.match(f[0].problem, /neither nft nor ip6tables-save is installed/);
});

test('firewall: a ruleset that lets the traffic through is "nothing found"', async () => {
  const empty = JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }] });
  const f = await findFirewallProblems('clat0', 'wlan0', (argv) =>
    argv[0] === 'nft' ? Promise.resolve(empty) : missing(argv),
  );
  assert.deepEqual(f, []);
});

test('nmcli: not installed or NetworkManager not running is an answer; a hang is "could not check"', async () => {
  assert.deepEqual(await networkManagerClat(missing), []);
  assert.deepEqual(
    await networkManagerClat((argv) =>
      Promise.reject(new CommandError(argv, 'Error: NetworkManager is not running.', 8)),
    ),
    [],
  );
  const hung = await networkManagerClat(timeout);
  assert.equal(hung.length, 1);
  assert.equal(hung[0].couldNotCheck, true);
  assert.match(hung[0].what, /could not check whether NetworkManager runs its own CLAT/);
  // The per-connection question timing out is "could not check" too.
  const perConn = await networkManagerClat((argv) =>
    argv.includes('--active') ? Promise.resolve('5a1f:wlan0\n') : timeout(argv),
  );
  assert.match(perConn[0]?.what ?? '', /could not check whether NetworkManager runs its own CLAT on wlan0/);
});
