// The grace period after native IPv4 arrived (engine/daemon/grace.ts): which decisions keep the
// CLAT instance without its default route, which put the route back, and which tear it down.
// The decisions come from the real classify() and decide() (decide.ts), as the supervisor makes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classify,
  decide,
  type ClassifyInput,
  type Override,
} from '../../../src-main/engine/daemon/decide.js';
import { instanceStep, keptReason, type InstanceInput } from '../../../src-main/engine/daemon/grace.js';
import type { Policy } from '../../../src-main/shared/control.js';

const nat64: ClassifyInput = {
  uplink: 'up0',
  nativeIpv4: [],
  otherClats: [],
  prefix: { prefix: '64:ff9b::/96', source: 'pref64' },
};
const v4 = { nativeIpv4: ['via 192.0.2.1 dev up0'] };

function decision(over: Partial<ClassifyInput>, policy: Policy = 'auto', override: Override = null) {
  const network = classify({ ...nat64, ...over });
  const havePrefix = (over.prefix === undefined ? nat64.prefix : over.prefix) !== null;
  return decide({ network, havePrefix, policy, policySource: 'default', override });
}

/**
 * The step for a network like nat64 changed by `over`, as the supervisor asks: the instance
 * counts as the same while the uplink and the prefix are the ones it was started with (the
 * network id, DNS64 mode and inbound option are the same here unless `rest` says otherwise).
 */
function step(
  over: Partial<ClassifyInput>,
  rest: Partial<Omit<InstanceInput, 'want'>> = {},
  policy: Policy = 'auto',
  override: Override = null,
) {
  const n = { ...nat64, ...over };
  return instanceStep({
    want: decision(over, policy, override),
    instance: 'running',
    sameInstance: n.uplink === nat64.uplink && n.prefix?.prefix === nat64.prefix?.prefix,
    wasKind: 'ipv6-only-nat64',
    expired: false,
    ...rest,
  });
}

const other = { prefix: { prefix: '2001:db8:46::/96', source: 'pref64' } };

test('native IPv4 arriving under auto keeps the instance without its route; nothing else does', () => {
  assert.equal(step(v4), 'withdraw');
  // The same moment something else changed (another network, setting or prefix, the prefix
  // gone, the uplink gone): all down.
  assert.equal(step(v4, { sameInstance: false }), 'stand-down');
  assert.equal(step({ ...v4, ...other }), 'stand-down');
  assert.equal(step({ ...v4, prefix: null }), 'stand-down');
  assert.equal(step({ ...v4, uplink: null }), 'stand-down');
  // Policy `always` lifted on a network that had native IPv4 all along: not a flap, all down.
  assert.equal(step(v4, { wasKind: 'dual-stack' }), 'stand-down');
  // Offline, no prefix any more, another CLAT, never, disable: as before, all down.
  assert.equal(step({ uplink: null, prefix: null }), 'stand-down');
  assert.equal(step({ prefix: null }), 'stand-down');
  assert.equal(step({ otherClats: ['clatd (pid 9)'] }), 'stand-down');
  assert.equal(step({ ...v4, otherClats: ['clatd (pid 9)'] }), 'stand-down');
  assert.equal(step(v4, {}, 'never'), 'stand-down');
  assert.equal(step(v4, {}, 'auto', 'disable'), 'stand-down');
  // Nothing runs: nothing to keep.
  assert.equal(step(v4, { instance: 'none' }), 'stand-down');
});

const kept = { instance: 'kept' as const, wasKind: 'dual-stack' as const };

test('while kept: native IPv4 still there keeps it until the grace period is over', () => {
  assert.equal(step(v4, kept), 'keep');
  assert.equal(step(v4, { ...kept, expired: true }), 'stand-down');
  // Another prefix, network or setting meanwhile, the prefix or the uplink gone: all down.
  assert.equal(step({ ...v4, ...other }, kept), 'stand-down');
  assert.equal(step(v4, { ...kept, sameInstance: false }), 'stand-down');
  assert.equal(step({ ...v4, prefix: null }, kept), 'stand-down');
  assert.equal(step({ ...v4, uplink: null }, kept), 'stand-down');
  assert.equal(step({ ...v4, otherClats: ['tayga on nat64'] }, kept), 'stand-down');
  assert.equal(step(v4, kept, 'never'), 'stand-down');
  assert.equal(step(v4, kept, 'auto', 'disable'), 'stand-down');
});

test('while kept: native IPv4 gone (or policy always) puts the route back; a changed instance is brought up anew', () => {
  assert.equal(step({}, kept), 'restore');
  // At the very end of the grace period the kept instance is as good as a new one.
  assert.equal(step({}, { ...kept, expired: true }), 'restore');
  assert.equal(step(v4, kept, 'always'), 'restore');
  assert.equal(step(other, kept), 'run');
  assert.equal(step({}, { ...kept, sameInstance: false }), 'run');
  // Not kept: active is the bring-up (or the running instance followed), as before.
  assert.equal(step({}, { instance: 'none' }), 'run');
  assert.equal(step({}), 'run');
  assert.equal(step(other), 'run');
});

test('the status says standby, native IPv4, and until when the CLAT is kept', () => {
  const standby = decision(v4);
  const until = Date.parse('2026-12-04T14:32:05.123Z');
  const m = keptReason(standby.reason, until);
  assert.equal(m.code, 'standby.dual-stack-kept');
  assert.deepEqual(m.params, { route: 'via 192.0.2.1 dev up0', until: '2026-12-04T14:32:05Z' });
  assert.match(m.text, /native IPv4 \(default route via 192\.0\.2\.1 dev up0\)/);
  assert.match(m.text, /without its IPv4 default route until 2026-12-04T14:32:05Z/);
});
