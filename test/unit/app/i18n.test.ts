// The translation layer (shared/i18n.ts): the language from the system's locales, catalogs with
// the same keys in English and Korean, engine messages by code with the engine's text as fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appMessage, catalogKey, createTranslator, pickLanguage } from '../../../src-main/shared/i18n.js';
import { en } from '../../../src-main/shared/locales/en.js';
import { ko } from '../../../src-main/shared/locales/ko.js';
import { classify, decide, type ClassifyInput } from '../../../src-main/engine/daemon/decide.js';
import { keptReason } from '../../../src-main/engine/daemon/grace.js';
import {
  failedMessage,
  notRequestedMessage,
  requestedMessage,
  type NmUplink,
} from '../../../src-main/engine/daemon/v6only-preferred.js';
import {
  CLASSIFICATIONS,
  PolicySourceSchema,
  PrefixSourceSchema,
  type Message,
} from '../../../src-main/shared/status.js';

test('the language comes from the first system locale we have', () => {
  assert.equal(pickLanguage(['ko-KR', 'en-US']), 'ko');
  assert.equal(pickLanguage(['ko_KR.UTF-8']), 'ko');
  assert.equal(pickLanguage(['de-DE', 'ko']), 'ko');
  assert.equal(pickLanguage(['de-DE', 'fr']), 'en');
  assert.equal(pickLanguage([]), 'en');
});

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${prefix}${k}`] : keys(v as object, `${prefix}${k}.`),
  );
}

test('Korean has every English key, each with its parameters, and no English left', () => {
  assert.deepEqual(keys(ko).sort(), keys(en).sort());
  // {{name}} or {{name, format}} (a source code put into words, shared/i18n.ts).
  const params = (s: string) => [...s.matchAll(/\{\{(\w+)(?:, \w+)?\}\}/g)].map((m) => m[1]).sort();
  const get = (o: object, k: string) =>
    k.split('.').reduce<unknown>((x, p) => (x as Record<string, unknown>)[p], o) as string;
  for (const k of keys(en)) {
    assert.deepEqual(params(get(ko, k)), params(get(en, k)), k);
    // Every Korean string has Hangul, except ones that are only names and numbers.
    if (!/^(clatbar: )?(CLAT IPv[46]|DNS64|\{\{\w+\}\}|MTU \{\{mtu\}\})$/.test(get(ko, k)))
      assert.match(get(ko, k), /[\uac00-\ud7a3]/, k);
  }
});

test('messages: the app’s by key, the engine’s by code, else the engine’s own words', () => {
  const tr = createTranslator('ko');
  const m = appMessage('app.noEngine', { path: '/run/clatbar/engine.sock' });
  assert.equal(m.text, 'no engine is running (nothing answers on /run/clatbar/engine.sock)');
  assert.equal(tr.msg(m), '실행 중인 엔진이 없습니다 (/run/clatbar/engine.sock에서 응답 없음)');
  assert.equal(
    tr.msg({ code: 'standby.not-in-catalog', text: 'native IPv4 is here' }),
    'native IPv4 is here',
  );
  assert.equal(createTranslator('en').t('tray.policyOn', { network: '<b>x</b>' }), 'On <b>x</b>:');
});

test('the engine’s codes the windows show have words in both catalogs', () => {
  const tr = { en: createTranslator('en'), ko: createTranslator('ko') };
  const groups = {
    prefixSource: PrefixSourceSchema.options,
    policySource: PolicySourceSchema.options,
    classification: CLASSIFICATIONS,
    override: ['enabled', 'disabled'],
  } as const;
  for (const [group, codes] of Object.entries(groups) as Array<[keyof typeof groups, readonly string[]]>)
    for (const code of codes) {
      assert.notEqual(tr.en.words(group, code), code, `${group}.${code} in en.ts`);
      assert.match(tr.ko.words(group, code), /[\uac00-\ud7a3]/, `${group}.${code} in ko.ts`);
    }
});

test('every reason the daemon decides on is in both catalogs, with its parameters filled in', () => {
  // Each kind of network and each decision (engine/daemon/decide.ts), as the daemon makes them.
  const base: ClassifyInput = { uplink: 'up0', nativeIpv4: [], otherClats: [], prefix: null };
  const prefix = { prefix: '64:ff9b::/96', source: 'ipv4only.arpa' };
  const networks = [
    classify({ ...base, otherClats: ['tayga on nat64'] }),
    classify({ ...base, nativeIpv4: ['via 192.0.2.1 dev eth0'], prefix }),
    classify({ ...base, uplink: null }),
    classify(base),
    classify({ ...base, prefix }),
    // IPv4 withheld by DHCPv4 option 108 (RFC 8925), with and without a NAT64 prefix.
    classify({ ...base, ipv4Withheld: { waitSeconds: 1800 } }),
    classify({ ...base, prefix, ipv4Withheld: { waitSeconds: 1800 } }),
  ];
  const messages: Message[] = networks.map((n) => n.text);
  // What the status says about option 108 (engine/daemon/v6only-preferred.ts), each case.
  const nm: NmUplink = {
    iface: 'up0',
    version: '1.52.0',
    supported: true,
    device: '/org/freedesktop/NetworkManager/Devices/2',
    uuid: '7d3e2a1c-55aa-4f3b-9c1d-0123456789ab',
    name: 'IETF Wi-Fi',
    method: 'auto',
    value: -1,
    withheld: null,
  };
  messages.push(
    requestedMessage(nm),
    failedMessage(nm, 'org.freedesktop.NetworkManager.Device.VersionIdMismatch'),
    ...[
      notRequestedMessage({ ...nm, supported: false, version: '1.42.4' }, true),
      notRequestedMessage({ ...nm, method: 'manual' }, true),
      notRequestedMessage({ ...nm, value: 0 }, true),
      notRequestedMessage(nm, false),
    ].map((m) => m!),
  );
  for (const network of networks)
    for (const policy of ['auto', 'always', 'never'] as const)
      for (const override of ['enable', 'disable', null] as const)
        messages.push(
          decide({
            network,
            havePrefix: network.kind !== 'ipv6-only',
            policy,
            policySource: 'user',
            override,
          }).reason,
        );
  // Standby beside native IPv4 while the CLAT is kept without its default route (grace.ts).
  messages.push(
    keptReason(
      decide({ network: networks[1], havePrefix: true, policy: 'auto', policySource: 'user', override: null })
        .reason,
      Date.now() + 120_000,
    ),
  );
  const codes = new Set<string>();
  for (const m of messages) {
    codes.add(m.code);
    for (const lang of ['en', 'ko'] as const) {
      const words = createTranslator(lang).msg(m);
      assert.ok(
        Object.hasOwn((lang === 'en' ? en : ko).engine, catalogKey(m.code)),
        `${m.code}: not in ${lang}.ts`,
      );
      assert.doesNotMatch(words, /\{\{|\}\}/, `${m.code} (${lang}): a parameter left over`);
      if (lang === 'ko') assert.match(words, /[\uac00-\ud7a3]/, `${m.code}: not in ko.ts`);
      for (const v of Object.values(m.params ?? {}))
        if (typeof v === 'string' && /[:./ ]/.test(v))
          assert.ok(words.includes(v), `${m.code} (${lang}) says ${v}`);
    }
  }
  assert.ok(codes.size >= 10, [...codes].join(' '));
  // The prefix and policy sources in words, not codes.
  assert.match(
    createTranslator('ko').msg(
      decide({ network: networks[4], havePrefix: true, policy: 'auto', policySource: 'user', override: null })
        .reason,
    ),
    /네트워크의 DNS에 물어서/,
  );
  assert.match(
    createTranslator('en').msg(
      decide({
        network: networks[4],
        havePrefix: true,
        policy: 'never',
        policySource: 'user',
        override: null,
      }).reason,
    ),
    /by policy “never” \(your choice for this network\)/,
  );
});
