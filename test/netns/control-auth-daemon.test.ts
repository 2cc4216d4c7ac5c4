// Who may change what, through the real control socket of a real `clatbar run` in daemon mode
// (its Supervisor, policy store and journal) on the CLAT lab's laptop, asked by real users the
// test makes with useradd: an outsider, a member of the control group, root. The outsider and a
// member whose session predates `usermod -aG` (no group in their process) are refused every
// change, the network history and the logs, and each refusal changes nothing: the status, the
// user's policy file, the undo journal, the host's addresses and routes are as before. A member
// may change each thing, and the engine's log names who asked. Membership is the process's own
// supplementary groups as the kernel has them, so a group that only the session carries (from
// NSS, LDAP, systemd-userdb) counts too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/env.js';
import { asUser, makeUsers, callsAs, callAs, type CallOutcome } from '../helpers/control-users.js';
import { buildClatLab, hostState, nsh, privateEtc, waitFor, CLATBAR, PREFIX } from '../helpers/clat-lab.js';
import { callControl } from '../../src-main/engine/control/client.js';
import { CHANGE_TIMEOUT_MS, RPC_ERROR } from '../../src-main/shared/control.js';
import { EngineStatusDocSchema, type EngineStatusDoc } from '../../src-main/shared/status.js';

const WITH_PREF64 = { pref64: [{ prefix: PREFIX, lifetime: 600 }] };

/** Every change method, with params that would change something if allowed. */
const CHANGES: Array<[string, unknown?]> = [
  ['enable'],
  ['disable'],
  ['clearOverride'],
  ['setPolicy', { network: 'current', policy: 'never' }],
  ['setDefaultPolicy', { policy: 'never' }],
  ['setDns64Mode', { mode: 'on' }],
  ['setNetworkOption', { network: 'current', option: 'inbound', value: 'allow' }],
  ['forgetNetwork', { network: 'current' }],
];
/** What only root and the group may read. */
const HISTORY: Array<[string, unknown?]> = [['listNetworks'], ['logs'], ['diagnostics'], ['selfTest']];

test(
  'daemon over the control socket: outsiders and stale sessions change nothing; a member changes each thing, logged by name',
  { timeout: 240_000 },
  async (t) => {
    if (!requires(t, { root: true, tun: true, binaries: ['useradd', 'groupadd', 'setpriv', 'getent'] }))
      return;
    const users = makeUsers(t);
    const { outsider, member, group } = users;
    const dir = mkdtempSync(join(tmpdir(), 'clatbar-ctlauth-'));
    chmodSync(dir, 0o755);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const stateDir = join(dir, 'state');
    const dataDir = join(dir, 'data');
    mkdirSync(stateDir, { mode: 0o700 });
    const sock = join(dir, 'engine.sock');
    const cl = await buildClatLab('ca', { ra: WITH_PREF64 });
    t.after(() => cl.dispose());
    // A private /etc (copied after the users were made): setDns64Mode on hooks its resolv.conf.
    const etc = privateEtc(dir, 'nameserver 2001:db8:1::1\n');
    const proc = cl.lab.spawn(cl.laptop, 'sh', [
      '-c',
      `${etc.prefix} ${process.execPath} ${CLATBAR} run --state-dir ${stateDir} --data-dir ${dataDir} --admin-policy ${join(dir, 'admin-policy.json')} --control-socket ${sock} --control-group ${group}`,
    ]);
    let log = '';
    proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    t.after(() => proc.kill('SIGKILL'));

    const status = async (): Promise<EngineStatusDoc> =>
      EngineStatusDocSchema.parse(await callControl(sock, 'status'));
    const until = async (what: string, ok: (s: EngineStatusDoc) => boolean): Promise<EngineStatusDoc> => {
      let last: EngineStatusDoc | null = null;
      for (let i = 0; i < 300; i++) {
        try {
          last = await status();
          if (ok(last)) return last;
        } catch {
          // Not listening yet.
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no status where ${what}; last ${JSON.stringify(last)}\n${log}`);
    };
    await waitFor(
      'the daemon to listen',
      () => log.includes('status: clatbar status') || proc.exitCode !== null,
      30_000,
    );
    const active = await until('active', (s) => s.state === 'active');
    const networkId = active.network?.id;
    assert.ok(networkId, 'the lab network has an id');
    // A first choice as root, so the policy file exists and the network is remembered.
    await callControl(
      sock,
      'setPolicy',
      { network: 'current', policy: 'auto' },
      { timeoutMs: CHANGE_TIMEOUT_MS },
    );
    await until('active, policy user auto', (s) => s.state === 'active' && s.policy?.source === 'user');

    const file = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null);
    /** Everything a change could touch. */
    const snapshot = async () => {
      const s = await status();
      return {
        state: s.state,
        policy: s.policy,
        dns64Mode: s.dns64Mode,
        inbound: s.inbound,
        network: s.network?.id,
        networks: await callControl(sock, 'listNetworks'),
        policyFile: file(join(dataDir, 'policy.json')),
        journal: file(join(stateDir, 'journal.json')),
        host: hostState(cl.lab, cl.laptop),
      };
    };
    const before = await snapshot();
    assert.ok(before.policyFile, 'the policy file exists');
    assert.ok(before.journal, 'the journal lists the running CLAT');

    const refusedAll = (outcomes: CallOutcome[], calls: Array<[string, unknown?]>, who: string) => {
      outcomes.forEach((o, i) => {
        assert.equal(o.error?.code, RPC_ERROR.notAllowed, `${who}: ${calls[i][0]} ${JSON.stringify(o)}`);
        assert.match(o.error?.message ?? '', new RegExp(`sudo usermod -aG ${group} `), calls[i][0]);
      });
    };

    await t.test('an outsider reads the status and nothing else; each refusal changes nothing', async () => {
      const [st, hello] = await callsAs(outsider, sock, [['status'], ['hello']]);
      assert.equal((st.result as { state: string }).state, 'active');
      assert.deepEqual((hello.result as { caller: unknown }).caller, {
        uid: users.uid(outsider),
        admin: false,
        group,
      });
      refusedAll(await callsAs(outsider, sock, [...CHANGES, ...HISTORY]), [...CHANGES, ...HISTORY], outsider);
      assert.deepEqual(await snapshot(), before);
      for (const [m] of CHANGES)
        assert.match(
          log,
          new RegExp(
            `refused "${m}" to uid ${users.uid(outsider)} \\(${outsider}\\) pid \\d+: not root and not in the group ${group}`,
          ),
        );
      assert.doesNotMatch(log, /asked by uid [1-9]/, "no change was made on anyone's behalf");
    });

    await t.test(
      'a member whose session predates usermod -aG (no group in the process) is refused too',
      async () => {
        const calls = [...CHANGES, ...HISTORY];
        refusedAll(await callsAs(member, sock, calls, []), calls, `${member} without the group`);
        assert.deepEqual(await snapshot(), before);
      },
    );

    await t.test('a member changes each thing; the log names who asked', async () => {
      const uid = users.uid(member);
      const ok = async (method: string, params?: unknown) => {
        const o = await callAs(member, sock, method, params);
        assert.deepEqual(o, { result: { ok: true } }, `${method}: ${JSON.stringify(o)}`);
        assert.match(log, new RegExp(`${method}.* asked by uid ${uid} \\(${member}\\) pid \\d+`));
      };
      const listed = await callAs(member, sock, 'listNetworks');
      const networks = listed.result as { networks: Array<{ id: string }> };
      assert.ok(networks, JSON.stringify(listed));
      assert.deepEqual(
        networks.networks.map((n) => n.id),
        [networkId],
      );

      await ok('setPolicy', { network: 'current', policy: 'never' });
      await until('off by policy', (s) => s.state !== 'active' && s.policy?.value === 'never');
      assert.match(file(join(dataDir, 'policy.json')) ?? '', /"never"/);
      assert.notDeepEqual(hostState(cl.lab, cl.laptop), before.host, 'the CLAT was taken down');
      assert.match(
        log,
        new RegExp(`policy of network ${networkId} set to never \\(asked by uid ${uid}, pid \\d+\\)`),
      );
      await ok('setPolicy', { network: networkId, policy: 'default' });
      await until('active again', (s) => s.state === 'active');

      await ok('disable');
      await until('off by override', (s) => s.state !== 'active' && s.policy?.override === 'disable');
      await ok('enable');
      await until('active by override', (s) => s.state === 'active' && s.policy?.override === 'enable');
      await ok('clearOverride');
      await until('no override', (s) => s.state === 'active' && !s.policy?.override);

      // The network's option reaches the CLAT it runs: the instance's own filter says allow (not
      // only the stored policy), and the kernel's table has no connection-tracking rule; back to
      // the default, deny with conntrack again.
      const table = () => nsh(cl.lab, cl.laptop, 'nft list table ip clatbar');
      await ok('setNetworkOption', { network: 'current', option: 'inbound', value: 'allow' });
      await until(
        'inbound allow in force',
        (s) =>
          s.state === 'active' && s.inbound === 'allow' && /--inbound allow/.test(s.inboundFilter?.how ?? ''),
      );
      assert.doesNotMatch(table(), /ct state/);
      await ok('setNetworkOption', { network: 'current', option: 'inbound', value: null });
      await until(
        'inbound default in force',
        (s) =>
          s.state === 'active' &&
          s.inbound === 'deny' &&
          /connection tracking/.test(s.inboundFilter?.how ?? ''),
      );
      assert.match(table(), /ct state established,related accept/);

      await ok('setDns64Mode', { mode: 'on' });
      await until('DNS64 on', (s) => s.dns64Mode === 'on');
      assert.match(readFileSync(join(etc.etc, 'resolv.conf'), 'utf8'), /nameserver 192\.0\.0\.4/);
      await ok('setDns64Mode', { mode: 'off' });
      await until('DNS64 off', (s) => s.dns64Mode === 'off');
      assert.equal(readFileSync(join(etc.etc, 'resolv.conf'), 'utf8'), 'nameserver 2001:db8:1::1\n');

      await ok('forgetNetwork', { network: networkId });
      const after = (await callAs(member, sock, 'listNetworks')).result as {
        networks: Array<{ id: string; policy?: string }>;
      };
      assert.ok(
        after.networks.every((n) => n.policy === undefined),
        `nothing remembered of ${networkId}: ${JSON.stringify(after)}`,
      );
      assert.doesNotMatch(file(join(dataDir, 'policy.json')) ?? '', new RegExp(networkId!));
    });

    await t.test(
      'a group the session carries but /etc/group does not list (NSS, LDAP, userdb) counts',
      async () => {
        const o = await callAs(outsider, sock, 'setDefaultPolicy', { policy: 'auto' }, [users.gid]);
        assert.deepEqual(o, { result: { ok: true } });
        assert.match(
          log,
          new RegExp(`setDefaultPolicy .* asked by uid ${users.uid(outsider)} \\(${outsider}\\)`),
        );
      },
    );

    await t.test('root may change things (no group needed)', async () => {
      const change = (policy: string) =>
        callControl(sock, 'setPolicy', { network: 'current', policy }, { timeoutMs: CHANGE_TIMEOUT_MS });
      assert.deepEqual(await change('never'), { ok: true });
      await until('off by policy', (s) => s.state !== 'active' && s.policy?.value === 'never');
      assert.deepEqual(await change('auto'), { ok: true });
      await until('active', (s) => s.state === 'active');
    });

    await t.test('the CLI as each of them: what it did, or exactly what to do', async () => {
      const cli = (user: string, args: string[]) =>
        asUser(user, [process.execPath, CLATBAR, ...args, '--control-socket', sock]);
      const st = await cli(outsider, ['status']);
      assert.equal(st.status, 0, st.stderr);
      assert.match(st.stdout, /clatbar is active/);
      const denied = await cli(outsider, ['policy', 'set', 'current', 'never']);
      assert.equal(denied.status, 1);
      assert.match(
        denied.stderr,
        new RegExp(`access denied: "setPolicy" is for root and members of the group ${group}`),
      );
      assert.match(
        denied.stderr,
        new RegExp(`sudo usermod -aG ${group} ${outsider}, then log out and in again`),
      );
      const history = await cli(outsider, ['policy', 'list']);
      assert.equal(history.status, 1);
      assert.match(history.stderr, /access denied: "listNetworks"/);

      const list = await cli(member, ['policy', 'list']);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`${networkId} .*\\(current\\)`));
      const set = await cli(member, ['policy', 'set', 'current', 'always']);
      assert.equal(set.status, 0, set.stderr);
      assert.equal(set.stdout, 'policy of current: always\n');
      await until('policy always', (s) => s.policy?.value === 'always' && s.state === 'active');
      // The other choices the CLI makes, each seen in force in the engine's status.
      const say = async (args: string[], words: string) => {
        const r = await cli(member, ['policy', ...args]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, words);
      };
      await say(['inbound', 'current', 'allow'], 'inbound on current: allow\n');
      await until('inbound allow', (s) => s.state === 'active' && s.inbound === 'allow');
      assert.match((await cli(member, ['policy', 'list'])).stdout, /inbound allow {2}\(current\)/);
      await say(['inbound', 'current', 'default'], 'inbound on current: the default (deny)\n');
      await until('inbound deny', (s) => s.state === 'active' && s.inbound === 'deny');
      await say(['default', 'never'], 'default policy: never\n');
      await until('default never', (s) => s.defaultPolicy?.value === 'never' && s.state === 'active');
      await say(['default', 'auto'], 'default policy: auto\n');
      await until('default auto', (s) => s.defaultPolicy?.value === 'auto');
      await say(['dns64', 'on'], 'DNS64 stub: on\n');
      await until('DNS64 on', (s) => s.dns64Mode === 'on');
      await say(['dns64', 'auto'], 'DNS64 stub: auto\n');
      await until('DNS64 auto', (s) => s.dns64Mode === 'auto');
      const bad = await cli(member, ['policy', 'inbound', 'current', 'maybe']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /the inbound choice must be one of allow, deny, default, not 'maybe'/);
      const unknown = await cli(member, ['policy', 'forget', 'nosuchnet']);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /the engine says: no network with the id "nosuchnet" is remembered/);

      // The administrator's file wins, and the CLI says so.
      const admin = join(dir, 'admin-policy.json');
      writeFileSync(admin, JSON.stringify({ version: 1, networks: { [networkId!]: { policy: 'never' } } }));
      chmodSync(admin, 0o644);
      proc.kill('SIGHUP');
      await until('off by the admin', (s) => s.policy?.source === 'admin' && s.state !== 'active');
      const forced = await cli(member, ['policy', 'set', 'current', 'auto']);
      assert.equal(forced.status, 1);
      assert.match(forced.stderr, /the engine says: the administrator sets this network's policy to "never"/);
      rmSync(admin);
      proc.kill('SIGHUP');
      await until('the admin file gone', (s) => s.policy?.source !== 'admin' && s.state === 'active');
      const back = await cli(member, ['policy', 'set', 'current', 'default']);
      assert.equal(back.status, 0, back.stderr);
    });

    proc.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    assert.equal(file(join(stateDir, 'journal.json')), null, 'the journal is empty after a clean stop');
  },
);
