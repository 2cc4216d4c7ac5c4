// The inbound filter fails closed (docs/clat.md "Inbound filter", issue 13): on a machine without
// nftables, `clatbar run` with the default --inbound deny refuses to start, saying what to install
// or pass, before it changes anything; --inbound allow starts, and says in its log and its status
// that DNS queries from the network are not kept from the DNS64 stub. nftables is hidden from the
// engine alone: its mount namespace (`ip netns exec` makes one per run, a slave of the machine's)
// gets a /usr/sbin of links to every tool there but nft.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { buildClatLab, hostState, nsh, startClatbarRun } from '../helpers/clat-lab.js';
import { callControl } from '../../src-main/engine/control/client.js';
import type { EngineStatusDoc } from '../../src-main/shared/status.js';

test('without nft: --inbound deny refuses before any change; allow runs and says what it lacks', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'nft'] })) return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-no-nft-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cl = await buildClatLab('nn');
  t.after(() => cl.dispose());
  const { lab, laptop } = cl;
  const real = join(dir, 'real-sbin');
  mkdirSync(real);
  // The real /usr/sbin stays reachable at `real`; a tmpfs over /usr/sbin gets a link to each of
  // its tools but nft (root's links to root's files: the engine's exec.ts accepts them).
  const withoutNft =
    `mount --bind /usr/sbin ${real} && mount -t tmpfs -o mode=0755 tmpfs /usr/sbin && ` +
    `for f in ${real}/*; do [ "$(basename "$f")" = nft ] || ln -s "$f" /usr/sbin/; done && ` +
    `test ! -e /usr/sbin/nft && exec`;
  const before = hostState(lab, laptop);

  await t.test('deny (the default): exit 1 with the fix, the host as it was', async () => {
    const stateDir = join(dir, 'deny');
    const run = await startClatbarRun(cl, { stateDir, privateEtc: withoutNft });
    assert.equal(await run.exited, 1, run.log());
    assert.match(run.log(), /--inbound deny needs nftables, and \/usr\/sbin\/nft is not installed/);
    assert.match(run.log(), /fix: install it \(apt install nftables[^)]*\), or pass --inbound allow/);
    assert.deepEqual(hostState(lab, laptop), before);
    assert.doesNotMatch(nsh(lab, laptop, 'ip link show'), /clat0/);
    assert.doesNotMatch(nsh(lab, laptop, 'nft list tables'), /clatbar/);
    // Refused before the first journaled step: nothing to undo was written.
    assert.equal(existsSync(join(stateDir, 'journal.json')), false);
  });

  await t.test('allow: runs, and its log and status say the DNS guard is missing', async () => {
    const run = await startClatbarRun(cl, {
      args: ['--inbound', 'allow'],
      stateDir: join(dir, 'allow'),
      privateEtc: withoutNft,
      // The control socket is bound after the CLAT is up; the engine says when it listens.
      until: /status: clatbar status/,
    });
    t.after(() => run.proc.kill('SIGKILL'));
    assert.match(run.log(), /CLAT is up/, run.log());
    assert.match(
      run.log(),
      /inbound: allow \(--inbound allow\); \/usr\/sbin\/nft is not installed: DNS queries from the network through the CLAT are not blocked/,
    );
    const s = (await callControl(run.sock, 'status')) as EngineStatusDoc;
    assert.equal(s.inbound, 'allow');
    assert.match(s.inboundFilter?.problem ?? '', /nft is not installed/);
    assert.doesNotMatch(nsh(lab, laptop, 'nft list tables'), /clatbar/);
    run.proc.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.log());
    assert.deepEqual(hostState(lab, laptop), before);
  });
});
