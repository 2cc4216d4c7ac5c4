// The undo step the journal replays for an option-108 request (v6only-preferred.ts):
//
//   node v6only-undo.js reset IFNAME CONNECTION-UUID [--bus ADDRESS]
//
// The journal's undo actions are plain data run by whichever process replays them (stop, the
// next start, `clatbar run --cleanup`), and D-Bus calls are asynchronous, so the Reapply runs as
// this small program. It puts ipv4.dhcp-ipv6-only-preferred of the device's applied connection
// back to the default, only while the device still runs that connection's activation with our
// value. Exit 0 when nothing of ours is left (put back, NetworkManager or the device gone,
// another activation), 1 with the reason on stderr otherwise.
import { NO_BUS, ResolvedBus, takeBusOption } from '../dns64/resolved-dbus.js';
import { reapplyV6OnlyPreferred } from './v6only-preferred.js';
import { NM_UUID } from './nm-dbus.js';

async function main(argv: string[]): Promise<number> {
  argv = takeBusOption(argv);
  const [verb, iface, uuid] = argv;
  if (verb !== 'reset' || !iface || !uuid || !NM_UUID.test(uuid) || argv.length !== 3) {
    process.stderr.write('usage: v6only-undo reset IFNAME CONNECTION-UUID [--bus ADDRESS]\n');
    return 2;
  }
  let bus: ResolvedBus;
  try {
    bus = await ResolvedBus.connect(5000);
  } catch (err) {
    if (NO_BUS.includes((err as NodeJS.ErrnoException).code ?? '')) {
      process.stdout.write(
        'no system bus: NetworkManager does not run, its applied connections went with it\n',
      );
      return 0;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  try {
    const r = await reapplyV6OnlyPreferred(bus, iface, uuid, 1, -1);
    process.stdout.write(
      r === 'changed'
        ? `NetworkManager: ipv4.dhcp-ipv6-only-preferred on ${iface} put back to the default\n`
        : `nothing to put back on ${iface} (${r})\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(
      `putting back ipv4.dhcp-ipv6-only-preferred on ${iface}: ${(err as Error).message}\n`,
    );
    return 1;
  } finally {
    bus.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
