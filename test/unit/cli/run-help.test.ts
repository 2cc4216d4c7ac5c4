// `clatbar run --help` and its usage errors say what the command does now: the NAT64 prefix is
// discovered without --prefix, --dns64 changes the system resolver (and puts it back), and a
// signal during the discovery wait stops at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../../bin/clatbar', import.meta.url));

function clatbar(...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('run without --uplink is the daemon: foreground-only flags are refused with the reason, exit 2', () => {
  for (const flag of [['--prefix', '64:ff9b::/96'], ['--clat-ipv6', '2001:db8::1'], ['--force']]) {
    const r = clatbar('run', ...flag);
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      new RegExp(`${flag[0]} is for the foreground engine on one uplink \\(with --uplink IFACE\\)`),
    );
  }
});

test('run --help: the daemon mode, its policy and its files', () => {
  const r = clatbar('run', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /Daemon mode \(no --uplink; what the systemd unit runs\)/);
  assert.match(r.out, /auto +the CLAT runs on IPv6-only networks with a NAT64 prefix/);
  assert.match(r.out, /--data-dir DIR .*\n.*default: \/var\/lib\/clatbar/);
  assert.match(r.out, /SIGHUP re-reads the policy files/);
});

test('run --help: discovery, its wait and signals, and what --dns64 changes', () => {
  const r = clatbar('run', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /--prefix PFX\/LEN .*\n.*default: discovered \(see below\)/);
  assert.match(r.out, /waits 4 seconds at most/);
  assert.match(r.out, /during the prefix discovery wait: stops at once/);
  assert.match(r.out, /ipv4only\.arpa is asked again every 10 minutes/);
  assert.match(r.out, /--dns64 off\|auto\|on +also run the DNS64 stub .*\n.*systemd-resolved over D-Bus/);
  assert.match(r.out, /default: off\n/);
  // As wide as the other commands' help at most.
  for (const line of r.out.split('\n')) assert.ok(line.length <= 92, `too long: ${line}`);
});

test('run --inbound: anything but allow or deny is a usage error (exit 2) before anything starts', () => {
  const r = clatbar(
    'run',
    '--uplink',
    'nonexistent0',
    '--inbound',
    'maybe',
    '--state-dir',
    '/nonexistent/clatbar',
  );
  assert.equal(r.code, 2);
  assert.match(r.err, /--inbound must be allow or deny, not 'maybe'/);
  assert.doesNotMatch(r.out, /uplink|journal/);
});

test('run --help: what --inbound deny keeps out, what allow lets in, and the default', () => {
  const r = clatbar('run', '--help');
  assert.match(r.out, /--inbound allow\|deny +deny: only replies to this host's own IPv4 flows/);
  assert.match(r.out, /DNS\s+queries\s+from\s+the\s+network\s+never\s+reach\s+the\s+DNS64\s+stub/);
  // The one case where that does not hold is said, not hidden (inbound-filter.ts install()).
  assert.match(r.out, /allow\s+without\s+nft\s+starts,\s+says\s+that\s+the\s+DNS\s+guard\s+is\s+missing/);
  assert.match(r.out, /default: deny\n/);
});

test('run --control-group: what is not a group name (an option for getent, a path) is a usage error', () => {
  for (const bad of ['-s', '../etc', 'a b', '']) {
    const r = clatbar('run', `--control-group=${bad}`, '--state-dir', '/nonexistent/clatbar');
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /--control-group must be a group name/, bad);
  }
});
