// The package's polkit rule (assets/linux/50-clatbar.rules) decided for each verb and subject.
// polkitd is installed here, but what the rule turns on (a subject's `local` and `active`) comes
// from systemd-logind's sessions, which a test machine without logind cannot give; so the rule
// file runs in a VM context with polkit's rule API as its documentation (polkit(8), "AUTHORIZATION
// RULES") describes it: addRule(fn(action, subject)), action.lookup(key), subject.isInGroup().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

const RULE = readFileSync(new URL('../../../assets/linux/50-clatbar.rules', import.meta.url), 'utf8');
const Result = { YES: 'yes', NO: 'no', NOT_HANDLED: 'not-handled', AUTH_ADMIN: 'auth_admin' };

type Rule = (action: unknown, subject: unknown) => string;
function loadRules(): Rule[] {
  const rules: Rule[] = [];
  runInNewContext(RULE, { polkit: { addRule: (f: Rule) => rules.push(f), Result } });
  return rules;
}

function decide(
  verb: string,
  who: { local?: boolean; active?: boolean; groups?: string[] },
  opts: { unit?: string; id?: string } = {},
): string {
  const details: Record<string, string> = { unit: opts.unit ?? 'clatbar-engine.service', verb };
  const action = {
    id: opts.id ?? 'org.freedesktop.systemd1.manage-units',
    lookup: (k: string) => details[k],
  };
  const subject = {
    local: who.local ?? true,
    active: who.active ?? true,
    isInGroup: (g: string) => (who.groups ?? []).includes(g),
  };
  for (const r of loadRules()) {
    const v = r(action, subject);
    if (v !== Result.NOT_HANDLED) return v;
  }
  return Result.NOT_HANDLED;
}

test('an active local user may start the engine; stopping it is for the group clatbar', () => {
  assert.equal(decide('start', {}), Result.YES);
  assert.equal(decide('stop', {}), Result.NOT_HANDLED, 'anyone at the machine could take IPv4 away');
  assert.equal(decide('restart', {}), Result.NOT_HANDLED);
  assert.equal(decide('stop', { groups: ['clatbar'] }), Result.YES);
  assert.equal(decide('restart', { groups: ['clatbar'] }), Result.YES);
});

test('nothing for remote or inactive sessions, other units, other verbs or other actions', () => {
  assert.equal(decide('start', { local: false }), Result.NOT_HANDLED);
  assert.equal(decide('start', { active: false }), Result.NOT_HANDLED);
  assert.equal(decide('stop', { local: false, groups: ['clatbar'] }), Result.NOT_HANDLED);
  assert.equal(decide('start', {}, { unit: 'sshd.service' }), Result.NOT_HANDLED);
  assert.equal(decide('reload', { groups: ['clatbar'] }), Result.NOT_HANDLED);
  assert.equal(decide('start', {}, { id: 'org.freedesktop.systemd1.manage-unit-files' }), Result.NOT_HANDLED);
});
