// The translator's configuration: one schema shared by `clatbar translate --config` and the engine.
// Keys and meaning follow Jool's SIIT options so that its conformance vectors map one to one.
import { z } from 'zod';
import { Eamt, type EamEntry } from './eamt.js';
import { Pool6, RFC6052_LENGTHS } from '../ip/rfc6052.js';
import {
  hostBitsSet4,
  hostBitsSet6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from '../ip/address.js';

/** What `parse` makes of s, or null where it throws: zod refinements ask yes or no. */
function parsed<T>(parse: (s: string) => T, s: string): T | null {
  try {
    return parse(s);
  } catch {
    return null;
  }
}
/** A prefix that parses and keeps the host-bit rule (ip/address.ts). */
const clean4 = (s: string) => {
  const p = parsed(parsePrefix4, s);
  return p && !hostBitsSet4(p) ? p : null;
};
const clean6 = (s: string) => {
  const p = parsed(parsePrefix6, s);
  return p && !hostBitsSet6(p) ? p : null;
};

const ipv4 = z
  .string()
  .refine((s) => parsed(parseIPv4, s) !== null, 'must be an IPv4 address such as 192.0.2.1');
const ipv6 = z
  .string()
  .refine((s) => parsed(parseIPv6, s) !== null, 'must be an IPv6 address such as 2001:db8::1');
const prefix4 = z
  .string()
  .refine((s) => clean4(s) !== null, 'must be an IPv4 prefix such as 192.0.2.0/24 (no host bits)');
const prefix6 = z
  .string()
  .refine((s) => clean6(s) !== null, 'must be an IPv6 prefix such as 2001:db8::/96 (no host bits)');

export const translatorConfigSchema = z
  .object({
    /** RFC 6052 prefix (NAT64 prefix for a CLAT), or null for EAM-only translation. */
    pool6: prefix6
      .refine((s) => (RFC6052_LENGTHS as readonly number[]).includes(clean6(s)?.len ?? -1), {
        message: `prefix length must be one of ${RFC6052_LENGTHS.join(', ')} (RFC 6052 §2.2)`,
      })
      .refine((s) => clean6(s)?.len !== 96 || clean6(s)?.addr[8] === 0, {
        message: 'bits 64-71 (the u-octet) must be zero (RFC 6052 §2.2)',
      })
      .nullable()
      .default(null),
    /** RFC 7757 entries; a CLAT has one: 192.0.0.1/32 <-> its IPv6 /128. */
    eamt: z
      .array(
        z
          .object({ ipv4: prefix4, ipv6: prefix6 })
          .strict()
          .refine((e) => {
            const a = clean4(e.ipv4);
            const b = clean6(e.ipv6);
            return !a || !b || 128 - b.len >= 32 - a.len;
          }, 'the IPv6 suffix must be at least as long as the IPv4 suffix (RFC 7757 §3.2)'),
      )
      .default([]),
    /** RFC 6791: source of translated ICMPv6 errors whose source has no IPv4 mapping. */
    rfc6791v4: ipv4.nullable().default(null),
    /** RFC 6791 (reverse): source of translated ICMPv4 errors whose source has no IPv6 mapping. */
    rfc6791v6: ipv6.nullable().default(null),
    /** RFC 7915 §4.1 lowest-ipv6-mtu: DF-clear IPv4 packets are fragmented to fit it. */
    lowestIpv6Mtu: z.number().int().min(1280).max(65535).default(1280),
    /** RFC 7915 §4.5: compute a checksum for zero-checksum IPv4 UDP instead of dropping it. */
    amendUdpChecksumZero: z.boolean().default(false),
    /** Egress MTU towards IPv4 (the TUN side of a CLAT); larger IPv6 packets get Packet Too Big. */
    ipv4Mtu: z.number().int().min(68).max(65535).default(1500),
    /** Egress MTU towards IPv6; DF-set IPv4 packets that would exceed it get Fragmentation Needed. */
    ipv6Mtu: z.number().int().min(1280).max(65535).default(1500),
    /** Source of ICMPv4 errors the translator generates itself (null: drop without an error). */
    icmpSourceV4: ipv4.nullable().default(null),
    /** Source of ICMPv6 errors the translator generates itself (null: drop without an error). */
    icmpSourceV6: ipv6.nullable().default(null),
    /**
     * RFC 7915 §4.4 / §5.4, RFC 1812 §4.3.2.8, RFC 4443 §2.4(f): the ICMP errors the translator
     * generates itself (both families together) are limited by a token bucket refilled at this
     * many per second; 0 turns the limit off. Default: Linux's net.ipv4.icmp_msgs_per_sec.
     */
    icmpErrorRate: z.number().min(0).max(1e9).default(1000),
    /** Bucket size: errors that may go out at once after a quiet spell (Linux's icmp_msgs_burst). */
    icmpErrorBurst: z.number().int().min(1).max(1e9).default(50),
  })
  .strict();

/** The configuration as written (JSON). */
export type TranslatorConfigInput = z.input<typeof translatorConfigSchema>;
export type TranslatorConfig = z.output<typeof translatorConfigSchema>;

/** A configuration error that names the offending key. */
export class ConfigError extends Error {}

/** Validates unknown JSON; throws ConfigError with one line per problem ("key: message"). */
export function parseTranslatorConfig(input: unknown): TranslatorConfig {
  const r = translatorConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const where = i.path.length ? i.path.map(String).join('.') : '(top level)';
    return `${where}: ${i.message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

/** The configuration in the form the data path uses: parsed addresses, no strings. */
export interface CompiledConfig {
  pool6: Pool6 | null;
  eamt: Eamt;
  /** int32; -1 when unset. */
  rfc6791v4: number;
  rfc6791v6: Uint8Array | null;
  lowestIpv6Mtu: number;
  amendUdpChecksumZero: boolean;
  ipv4Mtu: number;
  ipv6Mtu: number;
  /** int32; -1 when unset. */
  icmpSourceV4: number;
  icmpSourceV6: Uint8Array | null;
  /** Tokens per millisecond; 0: no limit. */
  icmpErrorRatePerMs: number;
  icmpErrorBurst: number;
}

export function compileConfig(c: TranslatorConfig): CompiledConfig {
  const eam: EamEntry[] = c.eamt.map((e) => ({ v4: parsePrefix4(e.ipv4), v6: parsePrefix6(e.ipv6) }));
  return {
    pool6: c.pool6 === null ? null : new Pool6(parsePrefix6(c.pool6)),
    eamt: new Eamt(eam),
    rfc6791v4: c.rfc6791v4 === null ? -1 : parseIPv4(c.rfc6791v4) | 0,
    rfc6791v6: c.rfc6791v6 === null ? null : parseIPv6(c.rfc6791v6),
    lowestIpv6Mtu: c.lowestIpv6Mtu,
    amendUdpChecksumZero: c.amendUdpChecksumZero,
    ipv4Mtu: c.ipv4Mtu,
    ipv6Mtu: c.ipv6Mtu,
    icmpSourceV4: c.icmpSourceV4 === null ? -1 : parseIPv4(c.icmpSourceV4) | 0,
    icmpSourceV6: c.icmpSourceV6 === null ? null : parseIPv6(c.icmpSourceV6),
    icmpErrorRatePerMs: c.icmpErrorRate / 1000,
    icmpErrorBurst: c.icmpErrorBurst,
  };
}
