// RFC 7050 §3: the NAT64 prefix read off the AAAA records a DNS64 synthesizes for
// ipv4only.arpa, whose only A records are the well-known addresses 192.0.0.170 and .171
// (RFC 7050 §2.2, RFC 8880 §7). The prefix length is not in the answer: it is found by looking
// for a well-known address at the byte positions of each RFC 6052 length.
import { RFC6052_LENGTHS, checkRfc6052Prefix, rfc6052Positions, type Pref64 } from '../ip/rfc6052.js';
import { formatIPv6 } from '../ip/address.js';

/** RFC 7050 §2.2: the primary and secondary well-known IPv4 addresses (WKAs). */
export const WKA_PRIMARY = Uint8Array.of(192, 0, 0, 170);
export const WKA_SECONDARY = Uint8Array.of(192, 0, 0, 171);

export interface Rfc7050Prefix extends Pref64 {
  /** "2001:db8:64::/96" */
  prefix: string;
}

export interface Rfc7050Result {
  /** Distinct prefixes, in the order of the first answer that gave each. */
  prefixes: Rfc7050Prefix[];
  /** Addresses that gave no prefix, with the reason in words (for the log). */
  rejected: string[];
}

interface Candidate extends Rfc7050Prefix {
  /** Which WKA sat at this position: 170 or 171. */
  wka: number;
}

/** Every RFC 6052 length at which a WKA sits in addr, with the prefix that length implies. */
export function wkaPositions(addr: Uint8Array): Candidate[] {
  const out: Candidate[] = [];
  for (const length of RFC6052_LENGTHS) {
    const pos = rfc6052Positions(length);
    const v4 = pos.map((p) => addr[p]);
    if (v4[0] !== 192 || v4[1] !== 0 || v4[2] !== 0 || (v4[3] !== 170 && v4[3] !== 171)) continue;
    // RFC 6052 §2.2: bits 64-71 (the u-octet) are zero in every IPv4-embedded address; for /96
    // they are prefix bits and checkRfc6052Prefix checks them below.
    if (length < 96 && addr[8] !== 0) continue;
    const bytes = new Uint8Array(16);
    bytes.set(addr.subarray(0, length / 8));
    out.push({ prefix: `${formatIPv6(bytes)}/${length}`, addr: bytes, len: length, wka: v4[3] });
  }
  return out;
}

/**
 * RFC 7050 §3: the Pref64::/n of each synthesized address.
 *
 * - An address with a WKA at exactly one position gives that prefix.
 * - An address with a WKA at several positions (the prefix itself may contain 192.0.0.170's
 *   bytes) is ambiguous on its own; §3 settles it with the other WKA: a position is kept only
 *   when the same prefix at the same length also carries the other WKA in another answer
 *   (DNS64s synthesize both A records). Still more than one: the address is not used.
 * - The prefix must be a legal RFC 6052 prefix (§2.2 lengths, zero u-octet, the Well-Known
 *   Prefix only as /96). Non-global IPv4 addresses must never appear under the WKP
 *   (RFC 6052 §3.1), but the WKAs are the documented exception that lets a host discover
 *   64:ff9b::/96 at all (RFC 7050 §2.2, RFC 8880 §7.2), so a WKP answer is accepted.
 */
export function prefixesFromAnswers(addrs: readonly Uint8Array[]): Rfc7050Result {
  const result: Rfc7050Result = { prefixes: [], rejected: [] };
  const perAddr = addrs.map((a) => (a.length === 16 ? wkaPositions(a) : []));
  const key = (c: Candidate) => c.prefix;
  // Prefix text -> the set of WKAs seen at it across all answers.
  const seen = new Map<string, Set<number>>();
  for (const cands of perAddr)
    for (const c of cands) {
      const s = seen.get(key(c)) ?? new Set<number>();
      s.add(c.wka);
      seen.set(key(c), s);
    }
  const add = (c: Candidate) => {
    const problem = checkRfc6052Prefix(c);
    if (problem) {
      result.rejected.push(`${c.prefix}: ${problem.message}`);
      return;
    }
    if (!result.prefixes.some((p) => p.prefix === c.prefix))
      result.prefixes.push({ prefix: c.prefix, addr: c.addr, len: c.len });
  };
  perAddr.forEach((cands, i) => {
    const text = addrs[i].length === 16 ? formatIPv6(addrs[i]) : `${addrs[i].length}-byte record`;
    if (cands.length === 0) {
      result.rejected.push(`${text}: neither 192.0.0.170 nor 192.0.0.171 at any RFC 6052 position`);
      return;
    }
    if (cands.length === 1) return add(cands[0]);
    const both = cands.filter((c) => (seen.get(key(c))?.size ?? 0) === 2);
    if (both.length === 1) return add(both[0]);
    result.rejected.push(
      `${text}: a well-known address at ${cands.map((c) => `/${c.len}`).join(', ')}; ambiguous (RFC 7050 §3)`,
    );
  });
  return result;
}
