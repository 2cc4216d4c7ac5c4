// --dns64: the DNS64 stub (engine/dns64) next to the CLAT. It listens on the CLAT's IPv4
// address, forwards to the resolvers the uplink had before, and the system resolver is pointed
// at it through the same undo journal, so stopping (or crash recovery) puts DNS back too.
import { Dns64Server } from '../dns64/server.js';
import { parsePref64 } from '../ip/rfc6052.js';
import { formatServer } from '../dns/upstream.js';
import { learnUplinkResolvers, hookSystemResolver, type Hooked } from '../dns64/system-resolver.js';
import { formatDomains } from '../dns64/resolved-dbus.js';
import type { ClatEngine } from './engine.js';
import { say, type Say } from '../../shared/say.js';

export async function startDns64(
  engine: ClatEngine,
  mode: 'auto' | 'on',
  log: Say,
): Promise<() => Promise<void>> {
  const { uplink, clatIpv4, tun } = engine.options;
  // Learned before hooking, or we would learn ourselves: the uplink's own servers in
  // systemd-resolved (D-Bus) when it runs, else resolv.conf's.
  const learned = await learnUplinkResolvers({ iface: uplink, exclude: [clatIpv4] });
  const upstreams = learned.upstreams;
  if (upstreams.length === 0)
    throw new Error(`no resolvers known for ${uplink} (asked ${learned.source}); DNS left alone`);
  const servers = upstreams.map(formatServer).join(', ');
  log(
    learned.domains.length
      ? say('dns64.upstreams-domains', {
          source: learned.source,
          servers,
          domains: formatDomains(learned.domains),
        })
      : say('dns64.upstreams', { source: learned.source, servers }),
  );
  // "" while the network announces no prefix (it went away since bring-up): the stub then
  // passes answers through until one comes back.
  const now = engine.status().prefix;
  const server = new Dns64Server({
    listen: [{ address: clatIpv4, port: 53 }],
    upstreams,
    prefix: now ? parsePref64(now) : null,
    mode,
    log,
  });
  // A new NAT64 prefix from discovery (engine/discovery): setPrefix flushes the stub's cache,
  // whose synthesized answers carry the old one. Followed from before the first await, so a
  // change while the stub starts or hooks is not missed.
  const unfollow = engine.onPrefixChange((p) => server.setPrefix(p ? parsePref64(p) : null));
  try {
    await server.start();
  } catch (err) {
    unfollow();
    throw err;
  }
  const listen = [
    ...new Set(
      server
        .boundAddresses()
        .map((b) => (b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`)),
    ),
  ];
  engine.setDns64Status(() => ({ mode, listen, ...server.stats }));
  let hooked: Hooked;
  try {
    hooked = await hookSystemResolver({
      journal: engine.journal,
      address: clatIpv4,
      iface: tun,
      uplink,
      log,
    });
    log(say('dns64.started', { mode, address: clatIpv4, how: hooked.how, count: upstreams.length }));
  } catch (err) {
    unfollow();
    engine.setDns64Status(null);
    await server.stop();
    throw err;
  }
  return async () => {
    unfollow();
    engine.setDns64Status(null);
    // The system resolver goes back to the network's servers before the stub stops, so nothing
    // asks a stub that is gone: its own journal entry, wherever it stands (nothing journaled
    // after it depends on it), so the daemon's grace period, which keeps the rest of the
    // instance, gives the resolver back too. The watch that keeps resolved's settings ends
    // first, or it would put them back.
    hooked.close();
    const o = await engine.journal.undoEntry(hooked.what);
    if (o)
      log(
        o.ok
          ? say('journal.undone', { what: o.what })
          : say('journal.undo-failed', { what: o.what, error: o.detail ?? '' }),
      );
    await server.stop();
  };
}
