// Router Advertisements straight off an interface, for the NAT64 prefix in the PREF64 option
// (RFC 8781). A raw ICMPv6 socket (native/src/ra_socket_linux.cc) filtered to RAs and bound to
// the interface; validation per RFC 4861 §6.1.2 happens here and in pref64.ts.
import { nativeFeature, netnsPath, type NativeRaSocket, type SysError } from '../native/native.js';
import { parsePref64Options, type Pref64Option } from './pref64.js';

export interface RouterAdvertisement {
  /** Link-local address of the router. */
  source: string;
  ifindex: number;
  /** The ICMPv6 message from its type byte on. */
  payload: Buffer;
  /** Router lifetime in seconds (0: not a default router). */
  routerLifetime: number;
  pref64: Pref64Option[];
}

/**
 * RFC 4861 §6.1.2 checks that do not need the IP header (hop limit and source are checked by the
 * caller: length, type, code, an option area that parses), then the PREF64 options
 * (discovery/pref64.ts, the one parser); undefined for a message that must be silently discarded.
 */
export function parseRouterAdvertisement(
  payload: Uint8Array,
): Pick<RouterAdvertisement, 'routerLifetime' | 'pref64'> | undefined {
  const parsed = parsePref64Options(payload);
  if (parsed.malformed) return undefined;
  return { routerLifetime: (payload[6] << 8) | payload[7], pref64: parsed.options };
}

export interface RaSocketOptions {
  ifname: string;
  /** Open inside this network namespace (`ip netns` name or path). */
  netns?: string;
}

export class RaSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /** Messages dropped by RFC 4861 §6.1.2 validation. */
  invalid = 0;
  private readonly native: NativeRaSocket;
  private msgCbs: ((ra: RouterAdvertisement) => void)[] = [];
  private errorCbs: ((err: SysError) => void)[] = [];
  private started = false;

  static open(opts: RaSocketOptions): RaSocket {
    return new RaSocket(opts);
  }

  private constructor(opts: RaSocketOptions) {
    const Native = nativeFeature('RaSocket');
    this.native = new Native({
      ifname: opts.ifname,
      netns: netnsPath(opts.netns),
      onMessage: (payload, source, hopLimit, ifindex) => this.receive(payload, source, hopLimit, ifindex),
      onError: (err) => {
        if (this.errorCbs.length === 0) throw err;
        for (const cb of this.errorCbs) cb(err);
      },
    });
    const info = this.native.info();
    this.ifname = info.ifname;
    this.ifindex = info.ifindex;
  }

  private receive(payload: Buffer, source: string, hopLimit: number, ifindex: number): void {
    // RFC 4861 §6.1.2: hop limit 255 (not forwarded) and a link-local source. The interface is
    // checked too: a message queued in the instant between socket() and SO_BINDTODEVICE may have
    // come in on another link (and lacks the packet info, so its ifindex reads 0).
    const linkLocal = /^fe[89ab][0-9a-f]:/i.test(source);
    const ok = hopLimit === 255 && linkLocal && ifindex === this.ifindex;
    const parsed = ok ? parseRouterAdvertisement(payload) : undefined;
    if (!parsed) {
      this.invalid++;
      return;
    }
    const ra: RouterAdvertisement = { source, ifindex, payload, ...parsed };
    for (const cb of this.msgCbs) cb(ra);
  }

  /** Starts receiving; valid RAs go to every listener. */
  onMessage(cb: (ra: RouterAdvertisement) => void): void {
    this.msgCbs.push(cb);
    if (!this.started) {
      this.started = true;
      this.native.start();
    }
  }

  onError(cb: (err: SysError) => void): void {
    this.errorCbs.push(cb);
  }

  /** Sends a Router Solicitation so routers answer now (RFC 4861 §6.3.7). */
  solicit(): void {
    this.native.solicit();
  }

  close(): void {
    this.native.close();
  }
}
