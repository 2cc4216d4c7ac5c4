// The PREF64 option (RFC 8781) read byte by byte out of a Router Advertisement: the project's
// one PREF64 parser (ra-socket.ts uses it too). Every reason an option is not used is counted,
// and the RFC 6052 rules are applied to the prefix before a translator ever sees it.
import { checkRfc6052Prefix, type Pref64, type Rfc6052Length } from '../ip/rfc6052.js';
import { formatIPv6 } from '../ip/address.js';

export const ND_ROUTER_ADVERT = 134;
export const OPT_PREF64 = 38;
/** RFC 8781 §4: the Prefix Length Code's values 0-5, in order. */
export const PLC_LENGTHS: readonly Rfc6052Length[] = [96, 64, 56, 48, 40, 32];
/** RFC 8781 §4: the Scaled Lifetime counts units of 8 seconds (13 bits: at most 65528 s). */
export const LIFETIME_UNIT = 8;

export interface Pref64Option extends Pref64 {
  /** Canonical text, e.g. "64:ff9b::/96". */
  prefix: string;
  /** Seconds (Scaled Lifetime x 8); 0 withdraws the prefix (RFC 8781 §4). */
  lifetime: number;
}

/** Why an option of type 38 in an RA was not used. */
export type Pref64Problem =
  /** Length field not 2 (RFC 8781 §4: receivers ignore such an option). */
  | 'bad-length'
  /** PLC 6 or 7: no prefix length is defined for them (RFC 8781 §4). */
  | 'unknown-plc'
  /** The prefix breaks RFC 6052 §2.2 (u-octet, WKP length) or is multicast. */
  | 'not-rfc6052';

export interface Pref64Parse {
  /** Usable options, in the order the RA carried them. */
  options: Pref64Option[];
  /** Options of type 38 that were not used, with the reason. */
  ignored: { problem: Pref64Problem; detail: string }[];
  /**
   * Options whose bits past the prefix length were not zero. RFC 8781 §4 has senders zero them;
   * we zero them ourselves and use the prefix (as Android's IpPrefix does), but count it.
   */
  hostBitsCleared: number;
  /** The option area itself is broken (zero length, runs past the end): nothing is used. */
  malformed: boolean;
}

/**
 * Reads every PREF64 option in an RA (payload from the ICMPv6 type byte on). Never throws; an
 * RA whose option area is broken yields malformed=true and no options (RFC 4861 §6.1.2 discards
 * the whole message).
 */
export function parsePref64Options(payload: Uint8Array): Pref64Parse {
  const out: Pref64Parse = { options: [], ignored: [], hostBitsCleared: 0, malformed: false };
  const broken = (): Pref64Parse => ({ options: [], ignored: [], hostBitsCleared: 0, malformed: true });
  if (payload.length < 16 || payload[0] !== ND_ROUTER_ADVERT || payload[1] !== 0) return broken();
  const found: Pref64Option[] = [];
  for (let i = 16; i < payload.length;) {
    if (i + 2 > payload.length) return broken();
    const len = payload[i + 1] * 8;
    if (len === 0 || i + len > payload.length) return broken(); // RFC 4861 §4.6: zero length
    if (payload[i] === OPT_PREF64) {
      if (len !== 16) {
        out.ignored.push({ problem: 'bad-length', detail: `Length ${payload[i + 1]}, not 2` });
      } else {
        const v = (payload[i + 2] << 8) | payload[i + 3];
        const plc = v & 7;
        if (plc >= PLC_LENGTHS.length) {
          out.ignored.push({ problem: 'unknown-plc', detail: `PLC ${plc}` });
        } else {
          const length = PLC_LENGTHS[plc];
          const bytes = new Uint8Array(16);
          bytes.set(payload.subarray(i + 4, i + 16));
          // Only the first `length` bits are the prefix; anything after is cleared.
          let cleared = false;
          for (let bit = length; bit < 96; bit++) {
            const m = 0x80 >> (bit & 7);
            if (bytes[bit >> 3] & m) {
              bytes[bit >> 3] &= ~m;
              cleared = true;
            }
          }
          if (cleared) out.hostBitsCleared++;
          const problem = checkRfc6052Prefix({ addr: bytes, len: length });
          if (problem && problem.code !== 'host-bits') {
            out.ignored.push({
              problem: 'not-rfc6052',
              detail: `${formatIPv6(bytes)}/${length}: ${problem.message}`,
            });
          } else {
            found.push({
              prefix: `${formatIPv6(bytes)}/${length}`,
              addr: bytes,
              len: length,
              lifetime: (v >>> 3) * LIFETIME_UNIT,
            });
          }
        }
      }
    }
    i += len;
  }
  out.options = found;
  return out;
}
