// Keeps the CLAT reachable while the uplink comes and goes (Wi-Fi roaming, suspend, a cable
// pulled and put back). Linux deletes a device's proxy-ND entries when the device goes down
// (pneigh_ifdown in net/core/neighbour.c) and never puts them back: without this, IPv4 through
// the CLAT stays dead after the first down/up although the uplink itself recovers, and nothing
// says why. Watches rtnetlink through `ip -o monitor link address neigh` (no polling: the
// child sleeps in recv() when nothing happens), and after each burst of events for the uplink
// (debounced) checks the state, says in plain words what changed, and re-adds the proxy entry
// when the link is back. The entry's undo (ip -6 neigh del proxy) is already in the journal, so
// putting it back needs no new journal entry.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { commandEnv, commandPath, execOut } from '../system/exec.js';
import { addresses, proxyNeighbours } from '../system/iproute.js';
import { inSubnet64 } from './clat-address.js';
import { parseIPv6, prefixMatch6 } from '../ip/address.js';
import { say, type Say } from '../../shared/say.js';

export interface UplinkWatchOptions {
  uplink: string;
  /** The CLAT IPv6 address answered for by proxy-ND on the uplink. */
  clatIpv6: string;
  /** The uplink's /64 the CLAT address was taken from, "2001:db8:1::/64". */
  subnet64: string;
  log: Say;
  /** Quiet time after the last event before looking (ms). */
  debounceMs?: number;
}

export interface UplinkState {
  exists: boolean;
  up: boolean;
  /** A usable global address in subnet64 (not tentative, not dadfailed). */
  inSubnet: boolean;
  proxy: boolean;
}

export interface UplinkWatch {
  /** What the last check found. */
  readonly state: UplinkState;
  /** Proxy entries put back so far. */
  readonly restored: number;
  /** Runs a check now (also what every event leads to); checks never overlap. */
  check(): Promise<UplinkState>;
  stop(): void;
}

/** Reads the uplink's state; never throws (a vanished device is a state, not an error). */
export async function readUplinkState(
  uplink: string,
  clatIpv6: string,
  subnet64: string,
): Promise<UplinkState> {
  const exists = existsSync(`/sys/class/net/${uplink}`);
  if (!exists) return { exists, up: false, inSubnet: false, proxy: false };
  let up = false;
  try {
    const flags = parseInt(readFileSync(`/sys/class/net/${uplink}/flags`, 'utf8'), 16);
    const carrier = readFileSync(`/sys/class/net/${uplink}/carrier`, 'utf8').trim() === '1';
    up = (flags & 1) === 1 && carrier; // IFF_UP and a carrier
  } catch {
    // carrier is unreadable while the device is administratively down.
  }
  let inSubnet = false;
  let proxy = false;
  try {
    inSubnet = (await addresses(6, uplink)).some((l) =>
      (l.addr_info ?? []).some(
        (a) =>
          a.family === 'inet6' &&
          a.scope === 'global' &&
          !a.tentative &&
          !a.dadfailed &&
          !sameAddress(a.local, clatIpv6) &&
          inSubnet64(a.local, subnet64),
      ),
    );
    proxy = (await proxyNeighbours(uplink)).some((n) => sameAddress(n.dst, clatIpv6));
  } catch {
    // The device went away between the two reads.
  }
  return { exists, up, inSubnet, proxy };
}

/** Same IPv6 address however written (`ip` prints the canonical form, --clat-ipv6 may not be). */
function sameAddress(a: string, b: string): boolean {
  try {
    return prefixMatch6(parseIPv6(a), 128, parseIPv6(b));
  } catch {
    return false;
  }
}

/**
 * Whether a monitor line about the uplink can change what the watch cares about. Address lines
 * come with every router advertisement (SLAAC lifetime refreshes) and with IPv4 changes; reading
 * the state for each would wake the engine for nothing, so only a deleted IPv6 address, a failed
 * DAD, or an address while we have none in the /64 is looked at.
 */
function needsCheck(line: string, state: UplinkState): boolean {
  const address = /\sinet6?\s/.exec(line);
  if (!address) return true;
  if (address[0].trim() === 'inet') return false;
  return line.startsWith('Deleted') || line.includes('dadfailed') || !state.inSubnet;
}

export async function watchUplink(opts: UplinkWatchOptions): Promise<UplinkWatch> {
  const { uplink, clatIpv6, subnet64, log } = opts;
  const debounceMs = opts.debounceMs ?? 200;
  let state = await readUplinkState(uplink, clatIpv6, subnet64);
  let restored = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let monitor: ChildProcess | null = null;

  let running: Promise<UplinkState> | null = null;
  const check = (): Promise<UplinkState> => {
    // One check at a time: a second one waits for the first and then looks again.
    const next: Promise<UplinkState> = (running ?? Promise.resolve(state)).then(checkOnce, checkOnce);
    running = next;
    void next.finally(() => {
      if (running === next) running = null;
    });
    return next;
  };
  const checkOnce = async (): Promise<UplinkState> => {
    const prev = state;
    const now = await readUplinkState(uplink, clatIpv6, subnet64);
    if (!now.exists && prev.exists) log(say('uplink.gone', { uplink }));
    else if (now.exists && !prev.exists) log(say('uplink.new-device', { uplink }));
    if (now.exists && !now.up && prev.up) log(say('uplink.down', { uplink }));
    if (now.up && !prev.up) log(say('uplink.up-again', { uplink }));
    if (now.up && !now.inSubnet && prev.inSubnet)
      log(say('uplink.left-subnet', { uplink, subnet: subnet64, address: clatIpv6 }));
    if (now.up && now.inSubnet && !prev.inSubnet)
      log(say('uplink.back-in-subnet', { uplink, subnet: subnet64 }));
    if (now.up && !now.proxy) {
      // `replace` adds or keeps: safe if something else re-added it meanwhile.
      try {
        await execOut(['ip', '-6', 'neigh', 'replace', 'proxy', clatIpv6, 'dev', uplink]);
        restored++;
        now.proxy = true;
        log(say('uplink.proxy-nd-restored', { uplink, address: clatIpv6 }));
      } catch (err) {
        log(
          say('uplink.proxy-nd-restore-failed', { uplink, address: clatIpv6, error: (err as Error).message }),
        );
      }
    }
    state = now;
    return now;
  };

  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!stopped) void check();
    }, debounceMs);
  };

  // "2: up0@if7: <...>" (link), "2: up0    inet6 ..." (address), "... dev up0 ..." (neighbour).
  const name = uplink.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const mentions = new RegExp(`(^|\\s)${name}(@\\S+)?(:|\\s)|dev ${name}(\\s|$)`);
  const start = () => {
    if (stopped) return;
    const child = spawn(commandPath('ip'), ['-o', 'monitor', 'link', 'address', 'neigh'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: commandEnv(),
    });
    monitor = child;
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        // Link and address lines name the device ("2: up0: ..." / "2: up0    inet6 ..."),
        // neighbour lines end in "dev up0 ..."; only proxy entries matter among those.
        if (!mentions.test(line) || (line.includes('lladdr') && !line.includes('proxy'))) continue;
        if (!needsCheck(line, state)) continue;
        schedule();
      }
    });
    child.on('error', (err) => {
      log(say('uplink.watch-failed', { uplink, error: err.message }));
    });
    child.on('exit', () => {
      if (monitor === child) monitor = null;
      // ip monitor does not end by itself; if it does, look once and start again.
      if (!stopped) {
        schedule();
        setTimeout(start, 1000).unref();
      }
    });
  };
  start();

  return {
    get state() {
      return state;
    },
    get restored() {
      return restored;
    },
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      monitor?.kill('SIGTERM');
      monitor = null;
    },
  };
}
