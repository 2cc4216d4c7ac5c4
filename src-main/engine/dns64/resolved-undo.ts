// The undo step the journal replays for the systemd-resolved hook:
//
//   node resolved-undo.js revert-link IFINDEX IFNAME [--bus ADDRESS]
//
// The journal's undo actions are plain data run synchronously by whichever process replays them
// (stop, `clatbar run --cleanup`, the next start), and D-Bus calls are asynchronous, so the
// RevertLink call runs as this small program. Exit 0 when the link has no settings of ours left
// (reverted, the link is gone so resolved dropped them with it, or resolved does not run), 1
// with the reason on stderr otherwise.
import { ResolvedBus, explain, ifnameOf, resolvedOnBus, takeBusOption } from './resolved-dbus.js';

async function main(argv: string[]): Promise<number> {
  argv = takeBusOption(argv);
  const [verb, indexText, ifname] = argv;
  const ifindex = Number(indexText);
  if (verb !== 'revert-link' || !Number.isInteger(ifindex) || ifindex <= 0 || !ifname) {
    process.stderr.write('usage: resolved-undo revert-link IFINDEX IFNAME [--bus ADDRESS]\n');
    return 2;
  }
  // Ifindexes are not reused while the counter has not wrapped, but a different link under the
  // number would not be ours to revert.
  const now = await ifnameOf(ifindex);
  if (now === null) {
    process.stdout.write(
      `${ifname} (ifindex ${ifindex}) is gone; systemd-resolved dropped its settings with it\n`,
    );
    return 0;
  }
  if (now !== ifname) {
    process.stdout.write(`ifindex ${ifindex} is now ${now}, not ${ifname}: left alone\n`);
    return 0;
  }
  try {
    if (!(await resolvedOnBus())) {
      process.stdout.write('systemd-resolved is not running: nothing to revert\n');
      return 0;
    }
    const bus = await ResolvedBus.connect();
    try {
      await bus.revertLink(ifindex);
    } finally {
      bus.close();
    }
  } catch (err) {
    const e = explain(err, `RevertLink on ${ifname}`, ifname);
    if (e.dbusName === 'org.freedesktop.resolve1.NoSuchLink') {
      process.stdout.write(`systemd-resolved no longer knows ${ifname}: nothing to revert\n`);
      return 0;
    }
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  process.stdout.write(`systemd-resolved: settings on ${ifname} reverted\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
