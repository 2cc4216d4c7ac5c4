// A rogue router on the link (there is no RA guard on most Wi-Fi) announcing another NAT64
// prefix in every RA, one a millisecond. Before flap damping (discovery/monitor.ts) each RA
// switched the translator, flushed the DNS64 cache, pushed a status to every client and wrote
// three log lines: 3000 RAs made 9000 lines, the log ring's 2000 gone every second. Now the
// switches, and the lines, are a handful; and the engine keeps answering meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import {
  buildClatLab,
  startClatbarDaemon,
  startClatbarRun,
  waitFor,
  PREFIX,
  type ClatLab,
  type ClatbarRun,
} from '../helpers/clat-lab.js';
import { callControl } from '../../src-main/engine/control/client.js';

const RAS = 3000;

/**
 * Sends RAS router advertisements from the router (its link-local address, hop limit 255: valid
 * ones), 1 ms apart, PREF64 alternating between 2001:db8:64::/96 and 2001:db8:66::/96.
 */
const FLOOD = `
import socket, struct, sys, time
ifname, count = sys.argv[1], int(sys.argv[2])
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
prefixes = [socket.inet_pton(socket.AF_INET6, p)[:12] for p in ('2001:db8:64::', '2001:db8:66::')]
for i in range(count):
    ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 600, 0, 0)
    opt = struct.pack('!BBH', 38, 2, (75 << 3) | 0) + prefixes[i % 2]
    s.sendto(ra + opt, ('ff02::1', 0, 0, idx))
    time.sleep(0.001)
`;

/** Floods, asking the engine for its status meanwhile; what the engine logged during it. */
async function flood(cl: ClatLab, run: ClatbarRun): Promise<string[]> {
  await waitFor('the control socket', () => existsSync(run.sock));
  const before = run.log().length;
  const sender = cl.lab.spawn(cl.router, 'python3', ['-c', FLOOD, 'r0', String(RAS)]);
  const done = new Promise((r) => sender.once('exit', r));
  while (sender.exitCode === null) {
    await callControl(run.sock, 'status').catch((err: Error) => {
      throw new Error(`${err.message}; the engine said:\n${run.log()}`);
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  await done;
  return run.log().slice(before).split('\n').filter(Boolean);
}

test('a rogue router switching the PREF64 with every RA: a handful of switches and log lines, not thousands', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'python3'] })) return;
  const cl = await buildClatLab('rf', { ra: { pref64: [{ prefix: PREFIX, lifetime: 600 }], interval: 300 } });
  t.after(() => cl.dispose());

  await t.test('daemon mode: the prefix in use follows the network, damped', async (st) => {
    const dir = mkdtempSync(join(tmpdir(), 'clatbar-raflood-'));
    st.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = await startClatbarDaemon(cl, dir);
    st.after(() => run.proc.kill('SIGTERM'));
    await waitFor('the CLAT to come up', () => /CLAT is up/.test(run.log()), 30000);
    const lines = await flood(cl, run);
    const switches = lines.filter((l) => /NAT64 prefix changed/.test(l)).length;
    st.diagnostic(`${RAS} RAs: ${lines.length} log lines, ${switches} translator switches`);
    assert.ok(switches >= 1, `the network's prefix is still followed:\n${lines.join('\n')}`);
    assert.ok(switches <= 24, `${switches} switches for ${RAS} RAs`);
    assert.ok(lines.length <= 80, `${lines.length} log lines for ${RAS} RAs`);
    const s = (await callControl(run.sock, 'status')) as { state: string; prefix?: string };
    assert.equal(s.state, 'active');
    assert.match(s.prefix ?? '', /^2001:db8:6[46]::\/96$/);
  });

  await t.test(
    '--prefix: the note about the network announcing another is not written per RA',
    async (st) => {
      const run = await startClatbarRun(cl, { stateDir: join(cl.wwwDir, '..', 'state-prefix') });
      st.after(() => run.proc.kill('SIGTERM'));
      const lines = await flood(cl, run);
      const notes = lines.filter((l) => /the network announces the NAT64 prefix/.test(l)).length;
      st.diagnostic(`${RAS} RAs: ${lines.length} log lines, ${notes} notes`);
      assert.ok(notes <= 24, `${notes} notes for ${RAS} RAs`);
    },
  );
});
