// Finds another CLAT already working on this host, so we never stack two translators
// (ARCHITECTURE.md, "must never happen"). Three tells: an address from 192.0.0.0/29 (RFC 7335,
// used by clatd, Android and NetworkManager's ipv4.clat alike), NetworkManager with ipv4.clat
// on an active connection, and a clatd or tayga process in *our* network namespace (one in
// another namespace, such as the test lab's NAT64 router, is not our concern).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { addresses } from './iproute.js';
import { execOut, CommandError } from './exec.js';

export interface Conflict {
  /** Plain words: what is running and where. */
  what: string;
  /** How to stop it. */
  fix: string;
  /** Set when this is not a finding but a check that could not run: "could not check". */
  couldNotCheck?: true;
}

function inRfc7335(addr: string): boolean {
  const p = addr.split('.').map(Number);
  return p[0] === 192 && p[1] === 0 && p[2] === 0 && p[3] < 8;
}

/** A process holding a TUN device open: who is behind an interface. */
export interface TunOwner {
  pid: number;
  /** Its command line, spaces between the arguments. */
  command: string;
  /** Whether it is a clatbar engine (then its own stop puts the host back). */
  clatbar: boolean;
}

/**
 * The process that holds the TUN device `name` open in our network namespace, found through
 * the tun driver's fdinfo line `iff: NAME` (Linux >= 3.9). Null when none does (a persistent
 * TUN nobody holds, or not a TUN at all) or /proc does not tell.
 */
export function tunOwner(name: string): TunOwner | null {
  let ourNs: string;
  try {
    ourNs = readlinkSync('/proc/self/ns/net');
  } catch {
    return null;
  }
  const want = `iff:\t${name}\n`;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ourNs) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        // Only TUN fds carry an iff line; reading the link first skips sockets and files cheaply.
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== '/dev/net/tun') continue;
        if (!`${readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')}\n`.includes(want)) continue;
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        return { pid: Number(pid), command, clatbar: /clatbar\S*\s+run\b/.test(command) };
      }
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return null;
}

/** Interfaces (other than `ours`) holding an address from 192.0.0.0/29. */
async function rfc7335Holders(ours?: string): Promise<Conflict[]> {
  const found: Conflict[] = [];
  for (const l of await addresses(4)) {
    if (l.ifname === ours) continue;
    for (const a of l.addr_info ?? []) {
      if (a.family === 'inet' && inRfc7335(a.local)) {
        const owner = tunOwner(l.ifname);
        if (owner?.clatbar) {
          // Another clatbar engine: name it, and never suggest deleting its live TUN.
          found.push({
            what: `clatbar is already running a CLAT on ${l.ifname} (${a.local}/${a.prefixlen}): pid ${owner.pid}, \`${owner.command}\``,
            fix: `stop it first (Ctrl-C in its terminal, or kill ${owner.pid}; it puts the network back as it stops); \`clatbar status\` shows what it does`,
          });
        } else if (owner) {
          found.push({
            what: `interface ${l.ifname} has ${a.local}/${a.prefixlen}, an address from the CLAT range 192.0.0.0/29 (RFC 7335), and pid ${owner.pid} (\`${owner.command}\`) holds it open: another CLAT is active`,
            fix: `stop that program (kill ${owner.pid}, or its service: clatd, tayga, NetworkManager ipv4.clat)`,
          });
        } else {
          found.push({
            what: `interface ${l.ifname} has ${a.local}/${a.prefixlen}, an address from the CLAT range 192.0.0.0/29 (RFC 7335): another CLAT is active`,
            fix: `stop whatever manages ${l.ifname} (clatd, NetworkManager ipv4.clat, a stale clatbar: \`clatbar run --cleanup\`), or remove it: ip link del ${l.ifname}`,
          });
        }
      }
    }
  }
  return found;
}

/** clatd / tayga processes sharing our network namespace. */
function translatorProcesses(): Conflict[] {
  let ourNs: string;
  try {
    ourNs = readlinkSync('/proc/self/ns/net');
  } catch {
    return [];
  }
  const found: Conflict[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      // clatd is a Perl script: its comm is "perl" or "clatd", so read the command line too.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = ['tayga', 'clatd'].find(
        (n) => comm === n || cmdline.slice(0, 2).some((a) => a === n || a.endsWith(`/${n}`)),
      );
      if (!name) continue;
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ourNs) continue;
      found.push({
        what: `${name} (pid ${pid}) is running in this network namespace: it is a translator, likely acting as a CLAT`,
        fix:
          name === 'clatd'
            ? 'stop it: systemctl stop clatd'
            : `stop it: systemctl stop tayga, or kill ${pid}`,
      });
    } catch {
      // The process ended while we looked, or is not ours to read: nothing to report.
    }
  }
  return found;
}

/** Active NetworkManager connections with ipv4.clat enabled (NetworkManager >= 1.58). */
export async function networkManagerClat(
  run: (argv: string[]) => Promise<string> = (a) => execOut(a),
): Promise<Conflict[]> {
  let active: string;
  try {
    active = await run(['nmcli', '-t', '-f', 'UUID,DEVICE', 'connection', 'show', '--active']);
  } catch (err) {
    // No nmcli: no NetworkManager. nmcli's exit 8 is "NetworkManager is not running": no CLAT
    // of its. Anything else (a hang, a crash, no permission) leaves the question open.
    if (err instanceof CommandError && (err.reason === 'missing' || err.status === 8)) return [];
    return [
      {
        what: `could not check whether NetworkManager runs its own CLAT: ${(err as Error).message}`,
        fix: 'check by hand: nmcli -g ipv4.clat connection show UUID for each active connection (another CLAT must not run beside clatbar), then try again',
        couldNotCheck: true,
      },
    ];
  }
  const found: Conflict[] = [];
  for (const line of active.split('\n').filter(Boolean)) {
    const [uuid, dev] = line.split(':');
    try {
      const clat = (await run(['nmcli', '-g', 'ipv4.clat', 'connection', 'show', uuid])).trim();
      // "auto" only translates when NetworkManager finds a NAT64 prefix; either way it is a CLAT.
      if (clat && clat !== 'no' && clat !== 'default') {
        found.push({
          what: `NetworkManager runs its own CLAT on ${dev} (connection ${uuid} has ipv4.clat=${clat})`,
          fix: `use NetworkManager's CLAT, or turn it off: nmcli connection modify ${uuid} ipv4.clat no`,
        });
      }
    } catch (err) {
      // Older NetworkManager without the ipv4.clat property (exit 2, "invalid field"): it
      // cannot be running a CLAT. A timeout or anything else: could not check.
      if (
        err instanceof CommandError &&
        err.reason === 'exit' &&
        /invalid field|ipv4\.clat/i.test(err.stderr)
      )
        continue;
      found.push({
        what: `could not check whether NetworkManager runs its own CLAT on ${dev}: ${(err as Error).message}`,
        fix: `check by hand: nmcli -g ipv4.clat connection show ${uuid}`,
        couldNotCheck: true,
      });
    }
  }
  return found;
}

/** Every other CLAT we can see; empty when it is safe to start ours. */
export async function findConflictingClats(ourTun?: string): Promise<Conflict[]> {
  return [...(await rfc7335Holders(ourTun)), ...(await networkManagerClat()), ...translatorProcesses()];
}
