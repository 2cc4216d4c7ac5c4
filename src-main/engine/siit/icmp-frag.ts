// Fragmented ICMP echo (`ping -s 3000`, and every echo reply bigger than 1260 bytes that a NAT64
// such as TAYGA or Jool fragments at its lowest-ipv6-mtu of 1280). RFC 7915 §1.2 leaves
// fragmented ICMP untranslated because the ICMPv6 checksum covers a pseudo-header holding the
// length of the *whole* message (RFC 8200 §8.1), which the first fragment does not know. Only
// the first fragment carries the checksum, and only the last one tells the length (its offset
// plus its size). So the translator holds a first fragment until the last one of the same
// datagram has passed, then translates it with the length known; a last fragment that comes
// first leaves the length here for its first fragment. Middle and last fragments are translated
// at once (they carry no ICMP header). Bounded: SLOTS datagrams in flight, first fragments up to
// SLOT_BYTES, HOLD_MS at most; an evicted held fragment counts as icmp-fragment-expired. ICMP
// *errors* stay untranslated when fragmented (their quote must be whole too; Jool refuses them).
// Nothing here allocates after construction.
import { R } from './counters.js';
import type { Translator } from './translator.js';

const SLOTS = 16;
/** Largest first fragment held: a 9216-byte (jumbo) MTU; bigger ones are dropped as icmp-fragmented. */
const SLOT_BYTES = 9216;
/** A held fragment older than this gives its slot up first (Linux reassembles for 30-60 s). */
const HOLD_MS = 5000;
/** Room in front of a held packet for in-place translation (translator.ts HEADROOM). */
const ROOM = 32;
const KEY = 40;

export class IcmpFragTable {
  /** Family (4 or 6), source, destination (16 bytes each, IPv4 in the first 4), ID (4 bytes). */
  private readonly keys = new Uint8Array(SLOTS * KEY);
  private readonly used = new Uint8Array(SLOTS);
  /** ICMP message length once the last fragment was seen; -1 before. */
  readonly total = new Int32Array(SLOTS);
  /** Length of the held first fragment at bufs[slot * stride + ROOM]; 0 when none. */
  readonly heldLen = new Int32Array(SLOTS);
  readonly heldFlags = new Int32Array(SLOTS);
  private readonly born = new Float64Array(SLOTS);
  readonly buf = new Uint8Array(SLOTS * (ROOM + SLOT_BYTES));
  /** The key of the packet being looked at, filled by key4/key6. */
  private readonly k = new Uint8Array(KEY);

  static readonly room = ROOM;
  static readonly stride = ROOM + SLOT_BYTES;

  /** Key of an IPv4 datagram: src, dst, protocol (always ICMP here) and the 16-bit ID. */
  key4(b: Uint8Array, off: number): void {
    const k = this.k;
    k.fill(0);
    k[0] = 4;
    for (let i = 0; i < 4; i++) {
      k[1 + i] = b[off + 12 + i];
      k[17 + i] = b[off + 16 + i];
    }
    k[37] = b[off + 4];
    k[38] = b[off + 5];
  }

  /** Key of an IPv6 datagram: src, dst and the Fragment Header's 32-bit ID. */
  key6(b: Uint8Array, off: number, frag: number): void {
    const k = this.k;
    k[0] = 6;
    for (let i = 0; i < 16; i++) {
      k[1 + i] = b[off + 8 + i];
      k[17 + i] = b[off + 24 + i];
    }
    for (let i = 0; i < 4; i++) k[35 + i] = b[frag + 4 + i];
    k[39] = 0;
  }

  /** The slot of the current key, or -1. */
  find(): number {
    const k = this.k;
    for (let s = 0; s < SLOTS; s++) {
      if (!this.used[s]) continue;
      const base = s * KEY;
      let same = true;
      for (let i = 0; i < KEY; i++) {
        if (this.keys[base + i] !== k[i]) {
          same = false;
          break;
        }
      }
      if (same) return s;
    }
    return -1;
  }

  /**
   * A slot for the current key: a free one, else the oldest (its held fragment, if any, is
   * lost: returns it in `evicted` so the caller counts it).
   */
  claim(now: number): number {
    let pick = -1;
    let oldest = Infinity;
    for (let s = 0; s < SLOTS; s++) {
      if (!this.used[s] || now - this.born[s] > HOLD_MS || now < this.born[s]) {
        pick = s;
        break;
      }
      if (this.born[s] < oldest) {
        oldest = this.born[s];
        pick = s;
      }
    }
    this.evicted = this.used[pick] === 1 && this.heldLen[pick] > 0;
    this.keys.set(this.k, pick * KEY);
    this.used[pick] = 1;
    this.total[pick] = -1;
    this.heldLen[pick] = 0;
    this.born[pick] = now;
    return pick;
  }

  /** Whether the last claim() threw a held fragment away. */
  evicted = false;

  /** Copies a first fragment into the slot (the caller checked it fits). */
  hold(s: number, b: Uint8Array, off: number, len: number, flags: number): void {
    const at = s * IcmpFragTable.stride + ROOM;
    for (let i = 0; i < len; i++) this.buf[at + i] = b[off + i];
    this.heldLen[s] = len;
    this.heldFlags[s] = flags;
  }

  release(s: number): void {
    this.used[s] = 0;
    this.heldLen[s] = 0;
    this.total[s] = -1;
  }
}

/** A slot for the current key; a held fragment thrown out to make room is counted. */
function claimSlot(t: Translator): number {
  const tab = t.icmpFrags;
  const s = tab.claim(t.now());
  if (tab.evicted) t.counters.drops[R.icmpFragmentExpired]++;
  return s;
}

/** firstFragment: the fragment was held until its last fragment tells the length. */
export const HELD = -1;
/** firstFragment: the fragment is bigger than a slot holds (dropped as icmp-fragmented). */
const TOO_BIG = -2;

/**
 * A first fragment of an ICMP echo, `len` bytes at b[off] (key already set): the length of the
 * whole message when known (its last fragment went first, or this is the held fragment being
 * replayed), else HELD once it is copied into a slot, or TOO_BIG when it does not fit one.
 */
export function firstFragment(t: Translator, b: Uint8Array, off: number, len: number, flags: number): number {
  if (t.fragTotal >= 0) return t.fragTotal;
  const tab = t.icmpFrags;
  let s = tab.find();
  if (s >= 0 && tab.total[s] >= 0) {
    const whole = tab.total[s];
    tab.release(s);
    return whole;
  }
  if (len > SLOT_BYTES) return TOO_BIG;
  if (s < 0) s = claimSlot(t);
  tab.hold(s, b, off, len, flags);
  return HELD;
}

/**
 * The last fragment of an ICMP datagram (key already set) has gone through: `whole` is the
 * message length. A held first fragment is translated right after it (Translator.replay);
 * otherwise the length waits for the first fragment.
 */
export function lastFragment(t: Translator, whole: number): void {
  const tab = t.icmpFrags;
  let s = tab.find();
  if (s < 0) s = claimSlot(t);
  tab.total[s] = whole;
  if (tab.heldLen[s] > 0) t.replaySlot = s;
}
