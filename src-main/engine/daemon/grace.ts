// What happens to the CLAT instance when the decision changes, as a pure function: above all the
// grace period after native IPv4 arrived. A network whose native IPv4 comes and goes (an
// IPv6-mostly network taking back the lease it handed out before DHCPv4 asked for option 108, a
// DHCPv4 server that fails to renew) would otherwise cost a whole teardown and bring-up each way:
// 1.9-2.4 s on a loaded machine, against the 1 s the route must be back in. So the instance is
// kept for a while without its IPv4 default route, and native IPv4 going again is one `ip route`.
import type { Classification } from '../../shared/status.js';
import { engineMessage } from '../../shared/engine-words.js';
import type { Message } from '../../shared/status.js';
import type { Decision } from './decide.js';

/**
 * How long a CLAT instance is kept without its default route after native IPv4 arrived. Longer
 * than a DHCPv4 client takes to give up on one attempt (NetworkManager's ipv4.dhcp-timeout is
 * 45 s) and than an IPv6-mostly network takes to withdraw a lease after the Reapply that asks for
 * option 108 (seconds), so the flaps of one attachment find the CLAT ready; short enough that a
 * dual-stack network does not hold what the instance costs for long: its 8.4 MB TUN ring, IPv6
 * forwarding and proxy-ND on the uplink, the nftables table.
 */
export const ROUTE_GRACE_MS = 120_000;

export type InstanceStep =
  /** Active is wanted: bring the CLAT up, or keep running it (following a new prefix). */
  | 'run'
  /** Active again on the kept instance: its IPv4 default route back, one `ip route`. */
  | 'restore'
  /** Native IPv4 arrived: keep the instance, its IPv4 default route out, the DNS64 hook back. */
  | 'withdraw'
  /** Still in the grace period, nothing else changed. */
  | 'keep'
  /** No CLAT wanted: tear it down (if there is one), as on any stand-down. */
  | 'stand-down';

export interface InstanceInput {
  /** The decision just made (decide.ts). */
  want: Decision;
  /** What runs now: no instance, one with its default route, one kept without it. */
  instance: 'none' | 'running' | 'kept';
  /**
   * The instance was started for the uplink, network, DNS64 mode and inbound option in force
   * now, and translates with the prefix known now.
   */
  sameInstance: boolean;
  /** The classification before this evaluation (null: none yet). */
  wasKind: Classification | null;
  /** The kept instance's grace period is over. */
  expired: boolean;
}

export function instanceStep(i: InstanceInput): InstanceStep {
  // Native IPv4 gone again: the kept instance is as good as a new one, even at the last moment.
  if (i.want.state === 'active') return i.instance === 'kept' && i.sameInstance ? 'restore' : 'run';
  // Only native IPv4 arriving under `auto` keeps it: not offline, a prefix gone or changed,
  // another CLAT, policy never or a disable (off), another uplink, network or setting.
  if (i.want.reason.code !== 'standby.dual-stack' || !i.sameInstance) return 'stand-down';
  // The classification was not dual-stack before: native IPv4 is what changed (not policy
  // `always` lifted on a network that had native IPv4 all along).
  if (i.instance === 'running' && i.wasKind !== 'dual-stack') return 'withdraw';
  if (i.instance === 'kept' && !i.expired) return 'keep';
  return 'stand-down';
}

/** The standby reason while the instance is kept: the decision's words, and until when. */
export function keptReason(standby: Decision['reason'], until: number): Message {
  const route = String(standby.params?.route ?? '');
  return engineMessage('standby.dual-stack-kept', {
    route,
    until: new Date(until).toISOString().replace(/\.\d+Z$/, 'Z'),
  });
}
