// The engine's log carries text that others choose: a NetworkManager connection name (any
// desktop user may name a connection), D-Bus error messages, tools' stderr. One log call must
// stay one line in the journal and in `clatbar logs`, or such a name could forge the engine's
// own lines; and a terminal escape in it must not reach the admin's terminal as one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogRing, escapeLogText } from '../../src-main/engine/control/log-ring.js';
import { say } from '../../src-main/shared/say.js';

test('a connection name with a newline cannot forge a second log line', () => {
  const written: string[] = [];
  const ring = new LogRing((t) => written.push(t));
  const name = 'Cafe\nclatbar: policy of network nm-1 set to always (asked by uid 0, pid 1)';
  ring.log(say('daemon.network', { name, id: 'nm-1' }));
  // What goes to journald (stdout, split at newlines) and what clients read.
  const stdout = written.join('\n');
  assert.equal(stdout.split('\n').length, 1, stdout);
  assert.equal(
    written[0],
    'network: Cafe\\nclatbar: policy of network nm-1 set to always (asked by uid 0, pid 1) (id nm-1)',
  );
  const [line] = ring.since(0);
  assert.equal(line.text, written[0]);
});

test('terminal escapes, carriage returns and Unicode line and bidi controls are shown, not obeyed', () => {
  assert.equal(escapeLogText('a\x1b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(escapeLogText('ok\rFAKE'), 'ok\\rFAKE');
  assert.equal(escapeLogText('x\u2028y\u202ez\u0085'), 'x\\u2028y\\u202ez\\x85');
  // Tabs and ordinary non-ASCII text are left as they are.
  assert.equal(escapeLogText('Café\tnet Ⅱ 東京'), 'Café\tnet Ⅱ 東京');
});

test('a warning stays a warning after escaping', () => {
  const written: string[] = [];
  const ring = new LogRing((t) => written.push(t));
  ring.warn(say('resolved.check-failed', { error: 'resolver said:\nnothing' }));
  assert.deepEqual(written, ['warn: resolver said:\\nnothing (our settings there may be missing)']);
  assert.equal(ring.since(0)[0].level, 'warn');
  // The parameter the app fills into the translated words is escaped the same way.
  assert.deepEqual(ring.since(0)[0].params, { error: 'resolver said:\\nnothing' });
});
