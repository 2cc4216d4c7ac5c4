// A private D-Bus "system bus" for tests: its own dbus-daemon with a system-bus-like policy,
// listening on a unix socket in a temporary directory. Code under test reaches it through
// DBUS_SYSTEM_BUS_ADDRESS (dbus-next and the engine's undo program read it), so the machine's
// real system bus is never touched. stop() kills the daemon and removes the directory; tests
// call it from t.after().
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateBus {
  /** unix:path=... for DBUS_SYSTEM_BUS_ADDRESS. */
  address: string;
  dir: string;
  /** process.env plus DBUS_SYSTEM_BUS_ADDRESS, for children. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

// Modelled on /usr/share/dbus-1/system.conf plus systemd's org.freedesktop.resolve1.conf:
// method calls are denied unless a service's policy allows them; anyone may call resolved (which
// asks polkit itself); only root may own resolved's name. No service activation.
function config(socket: string, onlyRoot: boolean, maxMatchRules?: number): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  ${maxMatchRules === undefined ? '' : `<limit name="max_match_rules_per_connection">${maxMatchRules}</limit>`}
  <policy context="default">
    ${onlyRoot ? '<deny user="*"/>\n    <allow user="root"/>' : '<allow user="*"/>'}
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.resolve1"/>
    <allow send_destination="org.freedesktop.NetworkManager"/>
  </policy>
  <policy user="root">
    <allow own="org.freedesktop.resolve1"/>
    <allow own="org.freedesktop.NetworkManager"/>
  </policy>
</busconfig>
`;
}

/**
 * onlyRoot: a bus that lets only root connect, for tests of a refused connection.
 * maxMatchRules: dbus-daemon's per-connection limit of match rules (AddMatch beyond it fails
 * with LimitsExceeded), for tests of a subscription the bus refuses.
 */
export async function startPrivateBus(
  opts: { onlyRoot?: boolean; maxMatchRules?: number } = {},
): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bus-'));
  // Other users (the permission tests run a client as nobody) must reach the socket.
  chmodSync(dir, 0o755);
  const socket = join(dir, 'system_bus_socket');
  writeFileSync(join(dir, 'system.conf'), config(socket, opts.onlyRoot ?? false, opts.maxMatchRules));
  const daemon: ChildProcess = spawn(
    'dbus-daemon',
    ['--config-file', join(dir, 'system.conf'), '--nofork', '--nopidfile', '--print-address=1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  daemon.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0].trim());
    });
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code}): ${err}`)));
    daemon.once('error', reject);
  });
  const stop = async (): Promise<void> => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { address, dir, env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address }, stop };
}
