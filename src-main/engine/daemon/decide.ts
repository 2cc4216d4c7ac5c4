// The daemon's one decision, as a pure function: what the network is (classify) and, with the
// policy and the user's override, what the engine should be doing on it (decide). No I/O here,
// so every case is a unit test and the supervisor only carries the decision out.
import type { Classification, EngineStateName, Message, PolicySource } from '../../shared/status.js';
import type { Policy } from '../../shared/control.js';

export interface ClassifyInput {
  /** The chosen uplink, or null (no IPv6 default route with a global address). */
  uplink: string | null;
  /** Native IPv4 default routes (not ours), each ending in its device: "via 192.0.2.1 dev eth0". */
  nativeIpv4: string[];
  /** Other CLATs found on the host, in words. */
  otherClats: string[];
  /** The NAT64 prefix known for the network, with where it came from. */
  prefix: { prefix: string; source: string } | null;
  /**
   * The uplink's last DHCPv4 reply carried option 108 (RFC 8925, "IPv6-only preferred"): the
   * network withholds IPv4 from this host for waitSeconds (V6ONLY_WAIT). Null or absent: not seen.
   */
  ipv4Withheld?: { waitSeconds: number } | null;
}

export interface Classified {
  kind: Classification;
  text: Message;
  /** IPv4 is withheld by option 108 (an IPv6-mostly network), so the network counts as IPv6-only. */
  withheld?: boolean;
}

export function classify(i: ClassifyInput): Classified {
  if (i.otherClats.length)
    return {
      kind: 'system-clat',
      text: {
        code: 'network.system-clat',
        params: { what: i.otherClats.join('; ') },
        text: `another CLAT is already active: ${i.otherClats.join('; ')}`,
      },
    };
  // Option 108 withholds IPv4 on the uplink: what IPv4 default route it still has is the end of a
  // lease the network told this host to give up (RFC 8925 §3.2), not native IPv4. A default route
  // through another device is native IPv4 all the same.
  const withheld = !!i.ipv4Withheld && !!i.uplink;
  const nativeIpv4 = withheld ? i.nativeIpv4.filter((r) => !r.endsWith(` dev ${i.uplink}`)) : i.nativeIpv4;
  if (nativeIpv4.length)
    return {
      kind: 'dual-stack',
      text: {
        code: 'network.dual-stack',
        params: { route: nativeIpv4[0] },
        text: `the network has native IPv4 (default route ${nativeIpv4[0]})`,
      },
    };
  if (!i.uplink)
    return {
      kind: 'offline',
      text: {
        code: 'network.offline',
        text: 'no network: no IPv6 default route with a global address, no IPv4',
      },
    };
  if (withheld && i.uplink && i.ipv4Withheld) {
    const wait = i.ipv4Withheld.waitSeconds;
    const why = `the network withholds IPv4 from this host by DHCPv4 option 108 (IPv6-only preferred, RFC 8925) for ${wait} s`;
    if (!i.prefix)
      return {
        kind: 'ipv6-only',
        withheld,
        text: {
          code: 'network.v6only-preferred',
          params: { uplink: i.uplink, wait },
          text: `IPv6-only on ${i.uplink}: ${why}, and announces no NAT64 prefix (no PREF64, ipv4only.arpa not synthesized)`,
        },
      };
    return {
      kind: 'ipv6-only-nat64',
      withheld,
      text: {
        code: 'network.v6only-preferred-nat64',
        params: { uplink: i.uplink, wait, prefix: i.prefix.prefix, source: i.prefix.source },
        text: `IPv6-only on ${i.uplink}: ${why}; NAT64 prefix ${i.prefix.prefix} (${i.prefix.source})`,
      },
    };
  }
  if (!i.prefix)
    return {
      kind: 'ipv6-only',
      text: {
        code: 'network.ipv6-only',
        params: { uplink: i.uplink },
        text: `IPv6-only on ${i.uplink}, and the network announces no NAT64 prefix (no PREF64, ipv4only.arpa not synthesized)`,
      },
    };
  return {
    kind: 'ipv6-only-nat64',
    text: {
      code: 'network.ipv6-only-nat64',
      params: { uplink: i.uplink, prefix: i.prefix.prefix, source: i.prefix.source },
      text: `IPv6-only on ${i.uplink} with the NAT64 prefix ${i.prefix.prefix} (${i.prefix.source})`,
    },
  };
}

export type Override = 'enable' | 'disable' | null;

export interface DecideInput {
  network: Classified;
  /** Whether a NAT64 prefix is known (a dual-stack network may have one too). */
  havePrefix: boolean;
  policy: Policy;
  policySource: PolicySource;
  override: Override;
}

export interface Decision {
  /** 'active' brings the CLAT up; the others keep it down. */
  state: Exclude<EngineStateName, 'attention' | 'stopping'>;
  reason: Message;
}

export function decide(i: DecideInput): Decision {
  const { kind } = i.network;
  if (i.override === 'disable')
    return {
      state: 'off',
      reason: { code: 'off.override', text: 'turned off for this network (clatbar disable)' },
    };
  // enable lifts never (and a disable) and then behaves as auto; only always runs beside native IPv4.
  const policy = i.override === 'enable' && i.policy === 'never' ? 'auto' : i.policy;
  if (policy === 'never')
    return {
      state: 'off',
      reason: {
        code: 'off.policy',
        params: { source: i.policySource },
        text: `off on this network by policy "never" (${SOURCE_WORDS[i.policySource]})`,
      },
    };
  if (kind === 'system-clat')
    return {
      state: 'standby',
      reason: {
        ...i.network.text,
        code: 'standby.system-clat',
        text: `standing down: ${i.network.text.text}`,
      },
    };
  if (kind === 'offline' || kind === 'ipv6-only')
    return {
      state: 'standby',
      reason: {
        ...i.network.text,
        code: i.network.withheld ? 'standby.v6only-preferred' : `standby.${kind}`,
      },
    };
  if (kind === 'dual-stack') {
    if (policy === 'always' && i.havePrefix)
      return {
        state: 'active',
        reason: {
          code: 'active.always',
          text: `policy "always": the CLAT runs beside native IPv4 (${i.network.text.text})`,
        },
      };
    return {
      state: 'standby',
      reason: {
        ...i.network.text,
        code: 'standby.dual-stack',
        text: `not needed: ${i.network.text.text}; native IPv4 beats a CLAT`,
      },
    };
  }
  return {
    state: 'active',
    reason: { ...i.network.text, code: i.network.withheld ? 'active.v6only-preferred' : 'active.nat64' },
  };
}

export const SOURCE_WORDS: Record<PolicySource, string> = {
  default: 'the built-in default',
  'user-default': "the user's default for all networks",
  user: "the user's choice for this network",
  'admin-default': "the administrator's default in /etc/clatbar/policy.json",
  admin: 'set by the administrator in /etc/clatbar/policy.json',
};
