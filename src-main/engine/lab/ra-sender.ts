// The lab router's router advertisements, with PREF64 (RFC 8781). Debian 12's radvd predates
// PREF64, so the lab sends its own: a short Python program (stdlib only; the kernel fills in
// the ICMPv6 checksum on raw ICMPv6 sockets, which Node cannot open). It announces the LAN
// prefix (on-link, autonomous: SLAAC) and the PREF64 options of a JSON file it re-reads before
// every RA, answers Router Solicitations at once (RFC 4861 §6.2.6), and SIGUSR1 (the file
// changed) with an RA at once.
import { renameSync, writeFileSync } from 'node:fs';
import { LAB_NET } from './topology.js';

export const PYTHON3 = '/usr/bin/python3';

/** The program, for `python3 -c RA_SENDER IFNAME CONFIG.json`. */
export const RA_SENDER = `
import json, select, signal, socket, struct, sys, time
ifname, conf = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())
PLC = {96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5}
class Poke(Exception): pass
def poke(*_): raise Poke()
signal.signal(signal.SIGUSR1, poke)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
def send():
    c = json.load(open(conf))
    ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 600, 0, 0)
    pio = struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 3600, 1800, 0) + socket.inet_pton(socket.AF_INET6, c['lan'])
    opts = b''
    for prefix, length, lifetime in c.get('pref64', []):
        scaled = min(8191, (lifetime + 7) // 8)
        opts += struct.pack('!BBH', 38, 2, (scaled << 3) | PLC[length]) + socket.inet_pton(socket.AF_INET6, prefix)[:12]
    for raw in c.get('raw', []):
        opts += bytes.fromhex(raw)
    try:
        s.sendto(ra + pio + opts, ('ff02::1', 0, 0, idx))
    except OSError:
        pass  # the link is down (an unplugged laptop): the next RA goes out once it is back
    return float(c.get('interval', 1))
nxt = 0
while True:
    try:
        now = time.monotonic()
        if now >= nxt:
            nxt = now + send()
        r, _, _ = select.select([s], [], [], max(0, nxt - time.monotonic()))
        if r:
            data, addr = s.recvfrom(2048)
            if data and data[0] == 133:
                nxt = 0
    except Poke:
        nxt = 0
`;

/** What the router announces: PREF64 options, how often, and any extra raw options. */
export interface RaConfig {
  pref64: { prefix: string; lifetime: number }[];
  /** Seconds between unsolicited RAs. default 1 */
  interval?: number;
  /** More options as hex bytes, appended as they are (malformed ones included: tests use it). */
  raw?: string[];
}

/**
 * Writes the sender's config file; send SIGUSR1 to the sender for an RA with it at once. Written
 * aside and renamed over: the sender reads the file before every RA, and a half-written one
 * would end it, silencing the router.
 */
export function writeRaConfig(path: string, cfg: RaConfig): void {
  writeFileSync(
    `${path}.new`,
    JSON.stringify({
      lan: LAB_NET.lanPrefix.split('/')[0],
      interval: cfg.interval ?? 1,
      pref64: cfg.pref64.map((p) => [p.prefix.split('/')[0], Number(p.prefix.split('/')[1]), p.lifetime]),
      raw: cfg.raw ?? [],
    }),
  );
  renameSync(`${path}.new`, path);
}
