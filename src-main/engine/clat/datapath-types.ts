// The seam between bring-up and the packet loop: bring-up needs a TUN that exists and moves
// packets; how (native TUN + SIIT translator, or a stand-in) is the factory's business.
import type { Say } from '../../shared/say.js';
export interface DataPathParams {
  tun: string;
  clatIpv4: string;
  clatIpv6: string;
  /** NAT64 prefix, text. */
  prefix: string;
  /** The IPv6 path MTU (--mtu, or the route's): DF-set IPv4 packets bigger than this - 20 get Fragmentation Needed. */
  ipv6Mtu: number;
  /**
   * The uplink's link MTU, which is the TUN's: the kernel forwards IPv6 packets to us as big as
   * the link carries whatever --mtu says about the path beyond, and must not refuse them.
   */
  linkMtu: number;
  /** MTU of IPv4 packets the kernel hands us (route MTU). */
  ipv4Mtu: number;
  log: Say;
}

export interface DataPath {
  /** One line about offloads etc., for the log. */
  describe?(): string;
  /** Starts moving packets; the TUN already exists and is up. */
  start(): void;
  /** Stops and closes the TUN. */
  stop(): Promise<void>;
  counters(): Record<string, number>;
  /**
   * A new NAT64 prefix (RFC 6052 text) while running, or null for none (IPv4 destinations are
   * then untranslatable and dropped). Optional: a data path without it cannot follow a prefix
   * that changes (engine/discovery).
   */
  setPrefix?(prefix: string | null): void;
}

/** Creates the TUN (up, with MTU ipv6Mtu) and returns the loop, not yet started. */
export type DataPathFactory = (p: DataPathParams) => Promise<DataPath>;
