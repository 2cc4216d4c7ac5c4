// Spots firewall rules that would drop the CLAT's forwarded IPv6 traffic. The CLAT's IPv6
// packets are *forwarded* by the kernel (TUN -> uplink and back), so a forward chain with policy
// drop (ufw's and firewalld's default) silently breaks every IPv4 app. We only report, with the
// rule to add: rewriting someone's firewall behind their back is not ours to do.
import { existsSync, readFileSync } from 'node:fs';
import { execOut, CommandError } from './exec.js';

export interface FirewallFinding {
  /** Which tool and chain, in plain words. */
  where: string;
  problem: string;
  /** Commands the user may run to let the traffic through. */
  fix: string;
  /** Set when this is not a finding but a check that could not run: "could not check". */
  couldNotCheck?: true;
}

/** How the checks run a command; tests pass one that fails the way a broken tool does. */
export type RunCommand = (argv: string[]) => Promise<string>;

type NftObject = Record<string, Record<string, unknown>>;
interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  policy?: string;
}
interface NftRule {
  family: string;
  table: string;
  chain: string;
  expr?: Array<Record<string, unknown>>;
}

/** Interface names a rule's matches mention (iifname/oifname/iif/oif), with their operators. */
function interfaceMatches(rule: NftRule): Array<{ key: string; op: string; value: string }> {
  const out: Array<{ key: string; op: string; value: string }> = [];
  for (const e of rule.expr ?? []) {
    const m = e.match as { op?: string; left?: { meta?: { key?: string } }; right?: unknown } | undefined;
    const key = m?.left?.meta?.key;
    if (m && key && ['iifname', 'oifname', 'iif', 'oif'].includes(key) && typeof m.right === 'string')
      out.push({ key, op: m.op ?? '==', value: m.right });
  }
  return out;
}

function verdict(rule: NftRule): string | undefined {
  for (const e of rule.expr ?? []) {
    for (const v of ['accept', 'drop', 'reject', 'jump', 'goto']) if (v in e) return v;
  }
  return undefined;
}

/** A `ct state established[,related]` match: replies to what the TUN sent out pass. */
function acceptsEstablished(rule: NftRule): boolean {
  return (rule.expr ?? []).some((e) => {
    const m = e.match as { left?: { ct?: { key?: string } }; right?: unknown } | undefined;
    if (m?.left?.ct?.key !== 'state') return false;
    const r = m.right;
    const states =
      typeof r === 'string' ? [r] : Array.isArray(r) ? r : ((r as { set?: unknown[] })?.set ?? []);
    return states.includes('established');
  });
}

function nameMatches(pattern: string, name: string): boolean {
  // nft wildcards are a trailing '*' only.
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Analyses `nft -j list ruleset` output (exported for tests). */
export function analyseNftRuleset(json: string, tun: string, uplink: string): FirewallFinding[] {
  const objects = (JSON.parse(json) as { nftables?: NftObject[] }).nftables ?? [];
  const chains = objects.filter((o) => 'chain' in o).map((o) => o.chain as unknown as NftChain);
  const rules = objects.filter((o) => 'rule' in o).map((o) => o.rule as unknown as NftRule);
  const findings: FirewallFinding[] = [];
  for (const c of chains) {
    if (c.hook !== 'forward' || !['ip6', 'inet'].includes(c.family)) continue;
    const where = `nftables: table ${c.family} ${c.table}, chain ${c.name} (forward hook)`;
    const mine = rules.filter((r) => r.family === c.family && r.table === c.table && r.chain === c.name);
    // Only a rule that matches nothing else but the interface surely lets every packet by. Both
    // directions must pass: out of the TUN (iifname) and back into it (oifname, or replies let
    // through by `ct state established`); an accept for one direction alone still breaks it.
    const onlyAccept = (r: NftRule, ok: (r: NftRule) => boolean) =>
      verdict(r) === 'accept' && (r.expr ?? []).filter((e) => 'match' in e).length === 1 && ok(r);
    const viaTun = (r: NftRule, keys: string[]) =>
      interfaceMatches(r).some((m) => m.op === '==' && keys.includes(m.key) && nameMatches(m.value, tun));
    const fromTun = mine.some((r) => onlyAccept(r, (x) => viaTun(x, ['iifname', 'iif'])));
    const toTun = mine.some((r) =>
      onlyAccept(r, (x) => viaTun(x, ['oifname', 'oif']) || acceptsEstablished(x)),
    );
    const acceptsTun = fromTun && toTun;
    const fix = `nft insert rule ${c.family} ${c.table} ${c.name} iifname "${tun}" accept; nft insert rule ${c.family} ${c.table} ${c.name} oifname "${tun}" accept`;
    if (c.policy === 'drop' && !acceptsTun) {
      findings.push({
        where,
        problem: `policy drop: IPv6 packets the CLAT forwards between ${tun} and ${uplink} will be dropped unless a rule accepts them`,
        fix,
      });
    }
    for (const r of mine) {
      const v = verdict(r);
      if (v !== 'drop' && v !== 'reject') continue;
      const ifs = interfaceMatches(r);
      const touchesUs =
        ifs.length === 0 ||
        ifs.some((m) =>
          m.op === '!='
            ? !nameMatches(m.value, tun)
            : nameMatches(m.value, tun) || nameMatches(m.value, uplink),
        );
      if (touchesUs && !acceptsTun)
        findings.push({
          where,
          problem: `a rule with verdict ${v} may catch the CLAT's forwarded traffic`,
          fix,
        });
    }
  }
  return findings;
}

/** Analyses `ip6tables-save` output (legacy iptables; iptables-nft shows up in nft already). */
export function analyseIptablesSave(text: string, tun: string): FirewallFinding[] {
  const findings: FirewallFinding[] = [];
  const fix = `ip6tables -I FORWARD -i ${tun} -j ACCEPT; ip6tables -I FORWARD -o ${tun} -j ACCEPT`;
  // As for nftables: both directions must pass, out of the TUN (-i) and back into it (-o, or
  // replies accepted by conntrack state ESTABLISHED).
  const forward = text.split('\n').filter((l) => l.startsWith('-A FORWARD') && / -j ACCEPT\b/.test(l));
  const fromTun = forward.some((l) => l.includes(` -i ${tun} `));
  const toTun = forward.some(
    (l) => l.includes(` -o ${tun} `) || /(--ctstate|--state) (\S*,)?ESTABLISHED\b/.test(l),
  );
  const acceptsTun = fromTun && toTun;
  if (/^:FORWARD DROP/m.test(text) && !acceptsTun)
    findings.push({
      where: 'ip6tables: filter table, FORWARD chain',
      problem: 'policy DROP: the IPv6 packets the CLAT forwards will be dropped',
      fix,
    });
  for (const l of text.split('\n')) {
    if (/^-A FORWARD\b/.test(l) && / -j (DROP|REJECT)\b/.test(l) && !acceptsTun)
      findings.push({
        where: 'ip6tables: filter table, FORWARD chain',
        problem: `rule \`${l}\` may drop the CLAT's forwarded traffic`,
        fix,
      });
  }
  return findings;
}

/** The tool's output; null when it is not installed; the error when it is but did not answer. */
async function tryExec(run: RunCommand, argv: string[]): Promise<string | null | Error> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof CommandError && err.reason === 'missing') return null;
    return err as Error;
  }
}

/**
 * Every finding on this host, and a "could not check" finding for each tool that is installed
 * but did not answer (a hung or broken nft must not read as "nothing found"). Never changes
 * anything.
 */
export async function findFirewallProblems(
  tun: string,
  uplink: string,
  run: RunCommand = (argv) => execOut(argv),
): Promise<FirewallFinding[]> {
  const findings: FirewallFinding[] = [];
  const unchecked = (where: string, err: Error, fix: string): FirewallFinding => ({
    where,
    problem: `could not check: ${err.message}`,
    fix,
    couldNotCheck: true,
  });
  const nft = await tryExec(run, ['nft', '-j', 'list', 'ruleset']);
  if (nft instanceof Error)
    findings.push(
      unchecked(
        'nftables',
        nft,
        `look yourself: sudo nft list ruleset (the CLAT needs IPv6 forwarding between ${tun} and ${uplink})`,
      ),
    );
  else if (nft) findings.push(...analyseNftRuleset(nft, tun, uplink));
  let legacy = await tryExec(run, ['ip6tables-legacy-save']);
  if (legacy === null && nft === null) legacy = await tryExec(run, ['ip6tables-save']);
  if (legacy instanceof Error)
    findings.push(unchecked('ip6tables', legacy, `look yourself: sudo ip6tables-save (FORWARD chain)`));
  else if (legacy) findings.push(...analyseIptablesSave(legacy, tun));
  if (nft === null && legacy === null)
    findings.push({
      where: 'firewall',
      problem: 'could not check: neither nft nor ip6tables-save is installed to read the rules with',
      fix: 'install nftables (apt-get install nftables) so clatbar can check, or make sure IPv6 forwarding is allowed',
      couldNotCheck: true,
    });
  if (existsSync('/etc/ufw/ufw.conf') && /^ENABLED=yes/m.test(readFileSync('/etc/ufw/ufw.conf', 'utf8'))) {
    const def = existsSync('/etc/default/ufw') ? readFileSync('/etc/default/ufw', 'utf8') : '';
    if (/^DEFAULT_FORWARD_POLICY="?(DROP|REJECT)/m.test(def))
      findings.push({
        where: 'ufw',
        problem:
          'ufw is on with DEFAULT_FORWARD_POLICY drop: the CLAT forwards IPv6 packets, which ufw drops',
        fix: `ufw route allow in on ${tun}; ufw route allow out on ${tun}`,
      });
  }
  return findings;
}
