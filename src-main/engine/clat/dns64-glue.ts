// --dns64: the DNS64 stub (engine/dns64) next to the CLAT. It listens on the CLAT's IPv4
// address, forwards to the resolvers the uplink had before, and the system resolver is pointed
// at it through the same undo journal, so stopping (or crash recovery) puts DNS back too.
import { Dns64Server } from '../dns64/server.js';
import { parsePref64 } from '../dns64/rfc6052.js';
import { learnResolvers, hookSystemResolver } from '../dns64/system-resolver.js';
import type { ClatEngine } from './engine.js';

export async function startDns64(
  engine: ClatEngine,
  mode: 'auto' | 'on',
  log: (l: string) => void,
): Promise<() => Promise<void>> {
  const { uplink, clatIpv4, tun } = engine.options;
  // Learned before hooking, or we would learn ourselves.
  const upstreams = learnResolvers({ iface: uplink, exclude: [clatIpv4] });
  if (upstreams.length === 0)
    throw new Error(
      `no resolvers known for ${uplink} (resolvectl dns ${uplink}, /etc/resolv.conf); DNS left alone`,
    );
  const server = new Dns64Server({
    listen: [{ address: clatIpv4, port: 53 }],
    upstreams,
    prefix: parsePref64(engine.status().prefix),
    mode,
    log,
  });
  await server.start();
  const listen = [
    ...new Set(
      server
        .boundAddresses()
        .map((b) => (b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`)),
    ),
  ];
  engine.setDns64Status(() => ({ mode, listen, ...server.stats }));
  // A new NAT64 prefix from discovery (engine/discovery): setPrefix flushes the stub's cache,
  // whose synthesized answers carry the old one.
  const unfollow = engine.onPrefixChange((p) => server.setPrefix(p ? parsePref64(p) : null));
  try {
    const hooked = hookSystemResolver({ journal: engine.journal, address: clatIpv4, iface: tun, log });
    log(
      `DNS64 (${mode}) on ${clatIpv4}:53, via ${hooked.how}, forwarding to ${upstreams.length} resolver(s)`,
    );
  } catch (err) {
    unfollow();
    engine.setDns64Status(null);
    await server.stop();
    throw err;
  }
  return () => {
    unfollow();
    engine.setDns64Status(null);
    return server.stop();
  };
}
