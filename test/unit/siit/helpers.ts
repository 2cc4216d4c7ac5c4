// Shared helpers of the SIIT unit tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HEADROOM, Translator, VERDICT_NAMES } from '../../../src-main/engine/siit/translator.js';
import type { TranslatorConfigInput } from '../../../src-main/engine/siit/config.js';
import { finish, sum16 } from '../../../src-main/engine/siit/checksum.js';

export const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export interface RunResult {
  verdict: string;
  reason: string;
  out: Uint8Array[];
}

/** Runs one packet through a translator (copied behind HEADROOM bytes) and collects what it emits. */
export function run(t: Translator, pkt: Uint8Array, flags = 0): RunResult {
  const out: Uint8Array[] = [];
  t.emit = (b, o, l) => out.push(b.slice(o, o + l));
  const buf = new Uint8Array(HEADROOM + pkt.length + 16);
  buf.set(pkt, HEADROOM);
  const v = t.translate(buf, HEADROOM, pkt.length, flags);
  return { verdict: VERDICT_NAMES[v], reason: t.reasonName, out };
}

export function translator(config: TranslatorConfigInput): Translator {
  return new Translator(config);
}

export interface Vector {
  name: string;
  section: string;
  direction: string;
  config: TranslatorConfigInput;
  input: string;
  expected: string[];
  verdict: string;
  reason: string;
  ignore: number[];
}

export function loadVectors(): Vector[] {
  const file = `${repoRoot}test/fixtures/siit/vectors.json`;
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: Vector[] }).cases;
}

/** Byte offsets where a and b differ, minus the ignored ones; null when the lengths differ. */
export function diff(a: Uint8Array, b: Uint8Array, ignore: number[] = []): number[] | null {
  if (a.length !== b.length) return null;
  const skip = new Set(ignore);
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !skip.has(i)) bad.push(i);
  return bad;
}

/** IPv4 UDP 192.0.0.1 -> 198.51.100.7 with the given TTL (TTL 1 expires at the translator). */
export function udp4(ttl: number): Uint8Array {
  const p = new Uint8Array(28 + 4);
  p.set([0x45, 0, 0, p.length, 0, 1, 0, 0, ttl, 17, 0, 0, 192, 0, 0, 1, 198, 51, 100, 7]);
  p.set([0x30, 0x39, 0, 53, 0, 12, 0x12, 0x34], 20);
  const c = finish(sum16(p, 0, 20, 0));
  p[10] = c >> 8;
  p[11] = c & 255;
  return p;
}

/** IPv6 UDP from 2001:db8:64::c633:6407 to the CLAT address with the given hop limit. */
export function udp6(hlim: number): Uint8Array {
  const p = new Uint8Array(40 + 8 + 4);
  p.set([0x60, 0, 0, 0, 0, 12, 17, hlim]);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 198, 51, 100, 7], 8);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0xc1, 0xa7], 24);
  p.set([0, 53, 0x30, 0x39, 0, 12, 0x12, 0x34], 40);
  return p;
}

/** A CLAT's translator configuration, the one udp4() and udp6() are addressed for. */
export const CLAT = {
  pool6: '2001:db8:64::/96',
  eamt: [{ ipv4: '192.0.0.1/32', ipv6: '2001:db8:1:2::c1a7/128' }],
  icmpSourceV4: '192.0.0.2',
  icmpSourceV6: '2001:db8:1:2::1',
};
