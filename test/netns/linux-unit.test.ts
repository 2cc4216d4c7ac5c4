// The packaged unit (assets/linux/clatbar-engine.service) against the engine: its exposure score
// (systemd-analyze security --offline), then the engine started the way the unit starts it (the
// unit's ExecStart in the package's file tree, made by electron-builder: the Node runtime the
// package ships running the packaged engine) under the unit's capability bounding
// set, no new privileges and a read-only file system except the unit's writable paths, in a lab
// namespace, traced with strace from start to teardown (SIGTERM, then ExecStopPost's
// `run --cleanup`), and every system call it and its tools made checked against the unit's
// SystemCallFilter. What this machine (no systemd as PID 1) cannot apply is listed in
// test/helpers/linux-unit.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { PAGE_TITLE } from '../../src-main/engine/lab/servers.js';
import { buildClatLab, startServers, nsh, waitFor, CLATBAR, SERVER_V4 } from '../helpers/clat-lab.js';
import {
  UNIT_PATH,
  allowedSyscalls,
  directive,
  readOnlyViewScript,
  setprivCaps,
  tracedSyscalls,
  unitDirectives,
  inPrivateMounts,
} from '../helpers/linux-unit.js';
import { buildPackageDir, INSTALL_DIR } from '../helpers/package-dir.js';

const INSTALL_ROOT = `${INSTALL_DIR}/resources`;

function exposure(unit: string): number {
  const out = execFileSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

test('the unit: exposure score at most 2.5, started early, never waiting for network-online', (t) => {
  if (!requires(t, { binaries: ['systemd-analyze'] })) return;
  const score = exposure(UNIT_PATH);
  const networkd = '/lib/systemd/system/systemd-networkd.service';
  const reference = existsSync(networkd) ? ` (systemd-networkd.service: ${exposure(networkd)})` : '';
  const line = `clatbar-engine.service exposure (systemd-analyze security --offline=yes): ${score}${reference}`;
  t.diagnostic(line);
  assert.ok(score <= 2.5, line);

  const d = unitDirectives();
  const services = Object.keys(Object.fromEntries(d)).filter((k) => k.endsWith('.service'));
  assert.deepEqual(services, []);
  assert.match(directive('After'), /network-pre\.target/);
  for (const k of ['After', 'Wants', 'Requires'])
    assert.doesNotMatch((d.get(k) ?? []).join(' '), /network-online/);
  const exec = directive('ExecStart').split(/\s+/);
  assert.deepEqual(exec.slice(2), ['run'], 'daemon mode: `clatbar run` with no --uplink');
  for (const k of ['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'NoNewPrivileges', 'LockPersonality'])
    assert.ok(d.has(k), k);
  assert.equal(directive('ProtectSystem'), 'strict');
  assert.equal(directive('SystemCallErrorNumber'), 'EPERM');
  assert.equal(directive('UMask'), '0077');
});

test('the engine as the unit runs it: its capabilities, a read-only view, every system call in its filter', async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'strace', 'setpriv', 'unshare', 'curl'] }))
    return;
  const cl = await buildClatLab('lu');
  // Stand-ins for the unit's RuntimeDirectory (/run/clatbar) and StateDirectory (/var/lib/clatbar):
  // tagged, so no other run's engine is touched.
  const root = `/run/clatbar-lu-${process.pid}`;
  const runtimeDir = join(root, 'run');
  const stateDir = join(root, 'lib');
  const traceDir = join(root, 'trace');
  t.after(async () => {
    await cl.dispose();
    rmSync(root, { recursive: true, force: true });
  });
  for (const d of [runtimeDir, stateDir, traceDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  await startServers(cl, {});
  // Not under /tmp, which the sandbox replaces (PrivateTmp).
  const pkg = await buildPackageDir(root);

  // The unit's ExecStart, with its install directory mapped onto the package's tree.
  const [runtime, script, ...args] = directive('ExecStart').split(/\s+/);
  assert.equal(runtime, `${INSTALL_ROOT}/engine-runtime/node`);
  assert.equal(script, `${INSTALL_ROOT}/app.asar.unpacked/bin/clatbar`);
  const engineNode = pkg.map(runtime);
  const engineEntry = pkg.map(script);
  const sock = join(runtimeDir, 'engine.sock');
  const engineArgs = [
    ...args,
    // Daemon mode, as the unit runs it; its per-network choices in the test's own directory.
    '--data-dir',
    stateDir,
    '--state-dir',
    runtimeDir,
    '--control-socket',
    sock,
  ];
  const writable = [...directive('ReadWritePaths').split(/\s+/), runtimeDir, stateDir, traceDir];
  const sandboxed = (trace: string, argv: string[]) =>
    readOnlyViewScript(writable, [
      'setpriv',
      `--bounding-set=${setprivCaps()}`,
      '--inh-caps=-all',
      '--no-new-privs',
      'strace',
      '-f',
      '-qq',
      '-o',
      join(traceDir, trace),
      '--',
      engineNode,
      engineEntry,
      ...argv,
    ]);

  // The view is read-only where the unit's is (a write outside the writable paths fails).
  const probe = cl.lab.exec(
    cl.laptop,
    ...inPrivateMounts(
      readOnlyViewScript(writable, ['sh', '-c', `touch /var/x /etc/x 2>&1; touch ${join(stateDir, 'ok')}`]),
    ),
    { allowFail: true },
  );
  assert.match(probe, /\/var\/x.*Read-only file system/);
  assert.match(probe, /\/etc\/x.*Read-only file system/);
  assert.ok(existsSync(join(stateDir, 'ok')), 'the writable paths stay writable');

  const engine = cl.lab.spawn(cl.laptop, ...inPrivateMounts(sandboxed('run.trace', engineArgs)));
  let out = '';
  engine.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  engine.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => engine.once('exit', (c) => r(c)));
  await waitFor('the CLAT to come up', () => out.includes('CLAT is up') || engine.exitCode !== null, 60_000);
  assert.match(out, /CLAT is up/, out);

  // Its capabilities are the unit's bounding set, nothing more.
  const enginePid = nsh(cl.lab, cl.laptop, 'ip netns pids $(ip netns identify)', true)
    .split(/\s+/)
    .filter(Boolean)
    .find((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return cmd[0] === engineNode && cmd.includes('run');
      } catch {
        return false;
      }
    });
  assert.ok(enginePid, 'the engine process');
  const status = readFileSync(`/proc/${enginePid}/status`, 'utf8');
  const mask = (1n << 12n) | (1n << 13n) | (1n << 10n); // NET_ADMIN, NET_RAW, NET_BIND_SERVICE
  assert.equal(BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)?.[1]}`), mask, status);
  assert.equal(BigInt(`0x${/^CapBnd:\s*(\w+)/m.exec(status)?.[1]}`), mask);
  assert.match(status, /^NoNewPrivs:\s*1/m);

  // And it works: IPv4 through the CLAT, its status over the control socket.
  assert.match(nsh(cl.lab, cl.laptop, `ping -c2 -W2 ${SERVER_V4}`), /2 received/);
  assert.match(nsh(cl.lab, cl.laptop, `curl -s --max-time 10 http://${SERVER_V4}/`), new RegExp(PAGE_TITLE));
  const st = JSON.parse(
    nsh(cl.lab, cl.laptop, `${process.execPath} ${CLATBAR} status --json --control-socket ${sock}`),
  ) as {
    prefix: string;
  };
  assert.equal(st.prefix, '2001:db8:64::/96');

  // Teardown as systemd does it: SIGTERM, then ExecStopPost (run --cleanup), same sandbox.
  process.kill(Number(enginePid), 'SIGTERM');
  assert.equal(await exited, 0, out);
  const [, , ...stopArgs] = directive('ExecStopPost').split(/\s+/);
  cl.lab.exec(
    cl.laptop,
    ...inPrivateMounts(sandboxed('stop.trace', [...stopArgs, '--state-dir', runtimeDir])),
  );

  // Every system call of the engine and the tools it ran, against the unit's filter.
  const allowed = allowedSyscalls();
  const traced = new Map([
    ...tracedSyscalls(readFileSync(join(traceDir, 'run.trace'), 'utf8')),
    ...tracedSyscalls(readFileSync(join(traceDir, 'stop.trace'), 'utf8')),
  ]);
  assert.ok(traced.has('ioctl') && traced.has('sendmsg'), 'the trace holds the data path and netlink');
  const denied = [...traced].filter(([name]) => !allowed.has(name));
  const line = `${traced.size} distinct system calls traced, ${denied.length} outside SystemCallFilter`;
  t.diagnostic(line);
  assert.deepEqual(denied, [], `denied by the unit's filter:\n${denied.map(([, l]) => l).join('\n')}`);
});
