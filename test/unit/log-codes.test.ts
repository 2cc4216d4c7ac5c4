// Every line of the engine's log is a coded message (shared/say.ts): the compiler checks each
// say() against the catalog's templates; this test reads the engine's sources and checks the
// same from the catalogs' side, in English and Korean, and that the words come out right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { say, type Say } from '../../src-main/shared/say.js';
import { catalogKey, engineMessage, nestedParams } from '../../src-main/shared/engine-words.js';
import { createTranslator } from '../../src-main/shared/i18n.js';
import { en } from '../../src-main/shared/locales/en.js';
import { ko } from '../../src-main/shared/locales/ko.js';
import { LogRing } from '../../src-main/engine/control/log-ring.js';
import type { Message } from '../../src-main/shared/status.js';

const SRC = fileURLToPath(new URL('../../../src-main/', import.meta.url));
const enWords: Readonly<Record<string, string>> = en.engine;
const koWords: Readonly<Record<string, string>> = ko.engine;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The {{name}} and {{name, format}} placeholders of a template. */
const placeholders = (template: string): string[] =>
  [...new Set([...template.matchAll(/\{\{(\w+)(?:, \w+)?\}\}/g)].map((m) => m[1]))].sort();

interface Call {
  file: string;
  /** The code, with `${...}` of a template literal as '*'. */
  code: string;
  /** The parameter names written out at the call (none when spread in). */
  keys: string[] | null;
}

/** The property names of an object literal's body ("a, b: f(x, ', ')" -> a, b). */
function names(body: string): string[] {
  let flat = body.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "''");
  for (let prev = ''; prev !== flat;) [prev, flat] = [flat, flat.replace(/\([^()]*\)|\[[^[\]]*\]/g, '')];
  return flat
    .split(',')
    .map((p) => p.trim().split(':')[0].trim())
    .filter(Boolean)
    .sort();
}

/** say('code', { a, b: x }) calls in the files that import say.ts. */
function sayCalls(): Call[] {
  const calls: Call[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    if (!/import \{[^}]*\bsay\b[^}]*\} from '[./]*(shared\/)?say\.js'/.test(text)) continue;
    for (const m of text.matchAll(/\bsay\(\s*(['`])([^'`]+)\1\s*(,\s*\{([^{}]*)\}|,)?/g)) {
      const body = m[4];
      // No parameters; parameters not written out (spread, or braces inside): the compiler's.
      const keys = m[3] === undefined ? [] : body === undefined || body.includes('...') ? null : names(body);
      calls.push({ file: file.slice(SRC.length), code: m[2].replace(/\$\{[^}]*\}/g, '*'), keys });
    }
  }
  return calls;
}

test('every code the engine logs has English and Korean words, with the parameters the call gives', () => {
  const calls = sayCalls();
  // The engine's log functions in all its parts write through say().
  assert.ok(calls.length >= 200, `${calls.length} say() calls found`);
  for (const folder of ['clat', 'daemon', 'discovery', 'dns64', 'control', 'policy', 'system', 'net'])
    assert.ok(
      calls.some((c) => c.file.startsWith(`engine/${folder}/`)),
      `no say() in engine/${folder}/`,
    );
  for (const call of calls) {
    const where = `${call.file}: say('${call.code}')`;
    const pattern = new RegExp(
      `^${catalogKey(call.code).replace(/[-.]/g, '\\$&').replace(/\*/g, '[\\w-]+')}$`,
    );
    const keys = Object.keys(enWords).filter((k) => pattern.test(k));
    assert.ok(keys.length > 0, `${where}: not in en.ts`);
    for (const key of keys) {
      assert.ok(Object.hasOwn(koWords, key), `${where}: ${key} not in ko.ts`);
      assert.deepEqual(placeholders(koWords[key]), placeholders(enWords[key]), `${where}: ${key} in ko.ts`);
    }
    // A code made at the call ('policy.user-${what}-moved') is one of the keys matched; which
    // ones it can be is the compiler's to check.
    const given = call.keys;
    if (given)
      assert.ok(
        keys.some((k) => JSON.stringify(placeholders(enWords[k])) === JSON.stringify(given)),
        `${where}: its parameters ${given.join(', ')} are not ${keys.map((k) => `${k} (${placeholders(enWords[k]).join(', ')})`).join(' or ')}`,
      );
  }
});

test('the log functions refuse what is not a coded message (checked by the compiler)', () => {
  // Never called: the compiler fails the build when one of these lines stops being an error.
  const refused = (log: Say): void => {
    // @ts-expect-error a plain string is not a log line
    log('CLAT is up');
    // @ts-expect-error neither is a hand-made message with the right code
    log({ code: 'clat.up', text: 'CLAT is up' });
    // @ts-expect-error a code the catalog does not have
    log(say('clat.nothing-like-this'));
    // @ts-expect-error a parameter its template does not name
    log(say('clat.tun-up', { tun: 'clat0', mtu: 1500, speed: 'fast' }));
    // @ts-expect-error a parameter its template names, missing
    log(say('clat.tun-up', { tun: 'clat0' }));
  };
  assert.equal(typeof refused, 'function');
  const written: string[] = [];
  const ring = new LogRing((t) => written.push(t));
  ring.log(say('clat.tun-up', { tun: 'clat0', mtu: 1500 }));
  assert.deepEqual(written, ['clat0: up, MTU 1500']);
  assert.deepEqual(ring.since(0)[0], {
    seq: 1,
    time: ring.since(0)[0].time,
    level: 'info',
    text: 'clat0: up, MTU 1500',
    code: 'clat.tun-up',
    params: { tun: 'clat0', mtu: 1500 },
  });
});

/** The line's English (engine-words.ts, the same through i18next) and its Korean. */
function speaks(m: Message, english: string, korean: string): void {
  assert.equal(m.text, english);
  assert.equal(createTranslator('en').msg(m), english);
  assert.equal(createTranslator('ko').msg(m), korean);
}

test('a message inside a line (the state line’s reason and trigger) is words in each language', () => {
  const reason = engineMessage('standby.dual-stack', { route: 'via 192.0.2.1 dev up0' });
  const line = say('daemon.state', {
    state: 'standby',
    ...nestedParams('reason', reason),
    ...nestedParams('why', say('why.clock-jump', { seconds: 3600 })),
  });
  assert.deepEqual(line.params, {
    state: 'standby',
    reason: 'standby.dual-stack',
    'reason.route': 'via 192.0.2.1 dev up0',
    why: 'why.clock-jump',
    'why.seconds': 3600,
  });
  speaks(
    line,
    'state: standby: not needed: the network has native IPv4 (default route via 192.0.2.1 dev up0); native IPv4 beats a CLAT [after: the wall clock jumped 3600 s (suspend and resume?)]',
    '상태 대기 중: 필요 없음: 네트워크에 기본 IPv4가 있습니다 (기본 경로 via 192.0.2.1 dev up0); CLAT보다 기본 IPv4가 낫습니다 [계기: 벽시계가 3600초 건너뜀 (절전 후 깨어남?)]',
  );
  // Where a prefix came from, inside the line that says it changed.
  speaks(
    say('clat.prefix-changed', {
      was: '64:ff9b::/96',
      wasSource: 'ipv4only.arpa',
      prefix: '2001:db8:64::/96',
      ...nestedParams('from', say('prefix-from.pref64', { router: 'fe80::1', lifetime: 600 })),
    }),
    'NAT64 prefix changed: 64:ff9b::/96 (ipv4only.arpa) -> 2001:db8:64::/96 (from PREF64 in router advertisements from fe80::1 (RFC 8781), lifetime 600 s); the translator uses it from now on',
    'NAT64 프리픽스 변경: 64:ff9b::/96 (ipv4only.arpa) -> 2001:db8:64::/96 (fe80::1의 라우터 광고 PREF64에서 받음 (RFC 8781), 수명 600초); 변환기가 지금부터 이것을 씁니다',
  );
  // A source code as a parameter ({{source, prefixSource}}) is its catalog words in the engine's
  // English too, as i18next gives them.
  speaks(
    engineMessage('network.ipv6-only-nat64', { uplink: 'up0', prefix: '64:ff9b::/96', source: 'pref64' }),
    'IPv6-only on up0 with the NAT64 prefix 64:ff9b::/96, learned from the router advertisements (PREF64, RFC 8781)',
    'up0에서 IPv6 전용, NAT64 프리픽스 64:ff9b::/96, 라우터 광고에서 (PREF64, RFC 8781)',
  );
});
