// Duplicate Address Detection for the CLAT address before we answer for it with proxy-ND
// (RFC 4862 §5.4). The kernel already does DAD well, so we borrow it: the address goes on the
// uplink for a moment (journaled), we watch its `tentative` flag clear or `dadfailed` appear,
// then take it off again. Proxy-ND itself does no DAD, so without this probe two hosts could
// claim one address silently.
import { addresses, readSysctl, ifSysctl } from '../system/iproute.js';
import { parseIPv6, formatIPv6 } from '../ip/address.js';
import type { Journal } from '../system/journal.js';

export type DadResult = 'unique' | 'duplicate' | 'skipped';

function flagsOf(uplink: string, addr: string): { present: boolean; tentative: boolean; dadfailed: boolean } {
  const want = formatIPv6(parseIPv6(addr));
  for (const a of addresses(6, uplink)[0]?.addr_info ?? []) {
    if (a.family === 'inet6' && formatIPv6(parseIPv6(a.local)) === want)
      return { present: true, tentative: !!a.tentative, dadfailed: !!a.dadfailed };
  }
  return { present: false, tentative: false, dadfailed: false };
}

/**
 * Probes addr on uplink. 'skipped' when the uplink does no DAD (accept_dad=0 or
 * dad_transmits=0): the kernel would mark the address valid at once, which proves nothing.
 */
export async function dadProbe(journal: Journal, uplink: string, addr: string): Promise<DadResult> {
  const acceptDad = Number(readSysctl(ifSysctl(6, uplink, 'accept_dad')) ?? '1');
  const transmits = Number(readSysctl(ifSysctl(6, uplink, 'dad_transmits')) ?? '1');
  if (acceptDad === 0 || transmits === 0) return 'skipped';
  const retransMs = Number(readSysctl(`net/ipv6/neigh/${uplink}/retrans_time_ms`) ?? '1000');
  journal.exec(
    `DAD probe address ${addr}/128 on ${uplink}`,
    ['ip', '-6', 'addr', 'add', `${addr}/128`, 'dev', uplink, 'noprefixroute'],
    ['ip', '-6', 'addr', 'del', `${addr}/128`, 'dev', uplink],
  );
  try {
    // The kernel waits up to a random delay (RFC 4862 §5.4.2) then transmits * retrans; allow slack.
    const deadline = Date.now() + transmits * retransMs + 3000;
    for (;;) {
      const f = flagsOf(uplink, addr);
      if (f.dadfailed) return 'duplicate';
      if (f.present && !f.tentative) return 'unique';
      // Gone while we watched: something (e.g. a network manager) removed it; do not trust it.
      if (!f.present) return 'duplicate';
      if (Date.now() > deadline)
        throw new Error(
          `DAD for ${addr} on ${uplink} did not finish in time; is the link up and carrier present?`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    journal.undoLast();
  }
}
