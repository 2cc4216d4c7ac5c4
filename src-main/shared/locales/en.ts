// English message catalog: every string the tray, the notifications and both windows show, and
// the engine's message codes (status.ts MessageSchema) for translation. i18next format:
// {{name}} interpolates a parameter. ko.ts must have exactly these keys (its type says so).
export const en = {
  state: {
    disconnected: 'Engine not reachable',
    off: 'Off',
    standby: 'Standing by',
    active: 'Active',
    attention: 'Needs attention',
    stopping: 'Stopping',
  },
  tray: {
    status: {
      disconnected: 'clatbar: the engine is not running',
      off: 'IPv4 through clatbar is off on {{network}}',
      standby: 'Standing by on {{network}}: {{reason}}',
      active: 'IPv4 through clatbar is on for {{network}}',
      attention: 'clatbar needs attention: {{reason}}',
      stopping: 'The engine is stopping',
    },
    tooltip: {
      disconnected: 'clatbar: engine not reachable ({{reason}})',
      off: 'clatbar: off on {{network}}',
      standby: 'clatbar: standing by ({{reason}})',
      active: 'clatbar: IPv4 via {{prefix}} on {{uplink}}',
      attention: 'clatbar: {{reason}}',
      stopping: 'clatbar: stopping',
    },
    toggle: 'IPv4 through clatbar',
    policyOn: 'On {{network}}:',
    thisNetwork: 'this network',
    policy: { auto: 'Automatic', always: 'Always', never: 'Never' },
    diagnostics: 'Diagnostics…',
    settings: 'Settings…',
    startEngine: 'Start the engine',
    howToGetPermission: 'How to get permission to change this…',
    quit: 'Quit',
  },
  access: {
    denied: 'You may look, but not change clatbar: only root and members of the group “{{group}}” may.',
    fix: 'Ask an administrator to run “sudo usermod -aG {{group}} {{user}}”, then log out and in again.',
  },
  app: {
    connecting: 'connecting to the engine',
    noEngine: 'no engine is running (nothing answers on {{path}})',
    noEngineFix:
      'start it with “sudo systemctl start clatbar-engine”, or use “Start the engine” in the tray menu',
    socketDenied: 'no permission to open {{path}}',
    socketDeniedFix: 'the engine’s socket is in a directory you cannot reach; is another program in the way?',
    closed: 'the engine closed the connection on {{path}} (stopped or restarting)',
    notAnEngine: 'something on {{path}} answers, but not as a clatbar engine: {{detail}}',
    timeout: 'the engine did not answer within {{ms}} ms',
    timeoutFix:
      'it may be stuck; “sudo systemctl restart clatbar-engine” puts the network back and starts over',
    incompatible: 'this app speaks control protocol {{app}}, the engine {{engine}} (clatbar {{version}})',
    incompatibleAppOlder: 'update the clatbar app: the engine is newer than it',
    incompatibleEngineOlder:
      'restart the engine after the update (“sudo systemctl restart clatbar-engine”): it still runs the older version',
    engineStopping: 'the engine is stopping and putting the network back as it was',
    noPrefix:
      'no NAT64 prefix on {{uplink}}: IPv4 apps cannot reach anything until the network announces one',
    noPrefixFix: 'clatbar resumes when a prefix appears; or set one with “clatbar run --prefix PFX/LEN”',
    activeLegacy:
      'IPv4 apps on this computer reach IPv4 hosts through the network’s NAT64 ({{prefix}}) via {{uplink}}',
    unsupported:
      'this engine does not do “{{method}}”: it runs in the foreground (clatbar run --uplink) or is older than this app; the installed service (clatbar-engine) does',
    refused: 'The engine refused: {{reason}}',
    // The daemon's default policy when the admin file sets it (status.defaultPolicy): the settings
    // window's lock, as for a network's forced policy.
    adminDefaultIn: 'Set by the administrator in {{file}}',
    adminDefault: 'Set by the administrator',
  },
  notify: {
    activeTitle: 'IPv4 through clatbar is on',
    activeBody: 'On {{network}}, IPv4 apps now go through the network’s NAT64.',
    standbyTitle: 'clatbar stood down',
    standbyBody: '{{reason}}',
    attentionTitle: 'clatbar needs attention',
    attentionBody: '{{reason}}',
  },
  diag: {
    title: 'clatbar diagnostics',
    subtitle: 'IPv4 for this computer on an IPv6-only network, through a CLAT (RFC 6877)',
    network: 'Network',
    networkName: 'Name',
    networkId: 'Identity',
    classification: 'Classification',
    policy: 'Policy',
    policySource: '{{policy}} (from {{source}})',
    uplink: 'Uplink',
    prefix: 'NAT64 prefix',
    prefixSource: 'Source',
    lifetime: 'Lifetime',
    lifetimeLeft: '{{s}} s left',
    lifetimeNone: 'does not expire',
    connection: 'Connection',
    clatIpv4: 'CLAT IPv4',
    clatIpv6: 'CLAT IPv6',
    device: 'Device',
    engine: 'Engine',
    traffic: 'Traffic',
    noTraffic: 'No traffic counters without a running engine.',
    chartTitle: 'Last 5 minutes',
    chartPackets: 'Packets per second',
    chartBytes: 'Bytes per second',
    out: 'IPv4 → IPv6 (out)',
    in: 'IPv6 → IPv4 (in)',
    transitions: 'Transitions',
    noTransitions: 'No transitions yet.',
    selfTests: 'Self-tests',
    run: 'Run',
    running: 'Running…',
    notRun: 'Not run yet.',
    result: { pass: 'pass', fail: 'fail', skipped: 'skipped' },
    fix: 'Fix: {{fix}}',
    logs: 'Log',
    filter: 'Filter',
    follow: 'Follow',
    /** A log line's level (status.ts LogLine.level); the lines themselves are the engine's English. */
    level: { debug: 'debug', info: 'info', warn: 'warn', error: 'error' },
    noLogs: 'No log lines.',
    copyReport: 'Copy report',
    saveReport: 'Save report…',
    copied: 'Report copied.',
    saved: 'Report saved to {{path}}.',
    settings: 'Settings…',
    toggle: 'IPv4 through clatbar on this network',
    turningOn: 'Turning IPv4 through clatbar on…',
    turningOff: 'Turning IPv4 through clatbar off…',
    drops: 'Drops',
    dns64: 'DNS64',
  },
  cards: {
    connection: 'Connection',
    nat64Prefix: 'NAT64 prefix',
    device: 'Device',
    uplink: 'Uplink',
    engine: 'Engine',
    nothingYet: 'Nothing to show until the engine is translating.',
    traffic: 'Traffic',
    trafficCaption: 'Packets translated each way, with rates over the last second',
    direction: 'Direction',
    packets: 'Packets',
    now: 'Now',
    lastMinute: 'Last minute',
    readTun: 'Read from the TUN',
    writtenTun: 'Written to the TUN',
    madeByTranslator: 'Made by the translator',
    drops: 'Dropped packets',
    dropsNone: 'None: every packet was translated.',
    why: 'Why',
    queries: 'Queries',
    synthesized: 'AAAA synthesized',
    fromCache: 'From the cache',
    passedThrough: 'Passed through',
    failed: 'Failed',
    resolverTimeouts: 'Resolver timeouts',
    networkDns: 'Network’s DNS',
    listening: 'Listening on',
    clatIpv4Note: 'the address IPv4 apps use',
    clatIpv6Note: 'what it becomes on the network',
    checksumNeutral: 'checksum-neutral',
    mtu: 'MTU {{mtu}}',
    ipv4Mtu: 'IPv4 apps see MTU {{mtu}}',
    pid: 'pid {{pid}}',
    upFor: 'up {{time}}',
    time: 'Time',
    outNote: 'out, from apps',
    inNote: 'in, replies',
    sparkOut: 'IPv4 to IPv6 packets per second, last minute',
    sparkIn: 'IPv6 to IPv4 packets per second, last minute',
    // i18next picks bytesInPackets_one or _other by {{count}} (the language's plural rules).
    bytesInPackets_one: '{{bytes}} in {{packets}} packet',
    bytesInPackets_other: '{{bytes}} in {{packets}} packets',
    madeCounts: '{{icmp}} ICMP errors, {{fragments}} fragments',
    dns64Mode: 'mode: {{mode}}',
    doesDns64: 'does DNS64 itself',
    noDns64: 'does not do DNS64',
    noDns64Activity:
      'The engine reports no DNS64 activity. IPv4 addresses work through the CLAT either way; names of IPv4-only hosts then depend on the network’s own DNS64.',
    // The inbound filter in force (status.inbound; clatbar run --inbound, or the network's option).
    inbound: 'From the network',
    inboundMode: {
      deny: 'only replies to this computer’s own connections come in through the CLAT',
      allow: 'anyone on the IPv6 network can reach IPv4 services on this computer through the CLAT',
    },
  },
  settings: {
    title: 'clatbar settings',
    networks: 'Networks seen',
    noNetworks: 'No networks seen yet.',
    lastSeen: 'last seen {{time}}',
    forget: 'Forget',
    default: 'Default',
    globalDefault: 'Default for new networks',
    dns64: 'DNS64 mode',
    dns64Mode: { off: 'Off', auto: 'Automatic', on: 'On' },
    /** Per network: may hosts on it open connections to this computer's IPv4 services (setNetworkOption inbound). */
    inbound: 'Incoming IPv4',
    inboundHelp:
      'Whether hosts on the network may connect to IPv4 services on this computer through clatbar. Blocked lets in only replies to what this computer started.',
    inboundMode: { default: 'Default (blocked)', deny: 'Blocked', allow: 'Allowed' },
    notifications: 'Show notifications',
    startAtLogin: 'Start at login',
    locked: 'Set by the administrator: {{reason}}',
    /** A network's policy the admin file forces: the file as the engine names it (listNetworks). */
    lockedIn: 'Set by the administrator in {{file}}',
    lockedByAdmin: 'Set by the administrator',
    app: 'This app',
    engine: 'Engine',
  },
  /**
   * Why the data path dropped packets, by the counter's reason code (the translator's, engine/siit/
   * counters.ts REASONS, and the data path's own); shown in the diagnostics window and by `clatbar
   * status` (shared/ipc.ts DROP_REASONS).
   */
  drops: {
    'not-ip': 'not an IP packet',
    truncated: 'shorter than its own headers say',
    'bad-ipv4-header': 'malformed IPv4 header',
    'bad-ipv4-checksum': 'IPv4 header checksum wrong',
    'bad-ipv6-header': 'malformed IPv6 header',
    'ext-header-chain': 'IPv6 extension headers malformed or cut short',
    'transport-truncated': 'TCP, UDP or ICMP header cut short',
    'illegal-source': 'from an address that must never be a source (loopback, multicast, unspecified)',
    'src-untranslatable': 'source address has no form in the other IP version',
    'dst-untranslatable':
      'destination has no form in the other IP version (multicast, broadcast, outside the prefix)',
    'ttl-expired': 'hop limit ran out (Time Exceeded sent back)',
    'too-big': 'too big for the IPv6 path with Don’t Fragment set (Fragmentation Needed sent back)',
    'source-route': 'IPv4 source route option (not translatable)',
    'routing-header': 'IPv6 routing header with hops left (not translatable)',
    'ext-header-after-fragment': 'extension header after the Fragment header',
    'udp-checksum-zero': 'UDP with a zero checksum (invalid in IPv6, RFC 8200 §8.1)',
    'udp-checksum-zero-fragment': 'fragmented IPv4 UDP without checksum (cannot be computed)',
    'icmp-fragmented': 'fragmented ICMP message',
    'icmp-fragment-expired': 'first fragment of a fragmented ping whose last fragment never came',
    'icmp-rate-limited':
      "ICMP errors not sent: over the translator's rate limit (RFC 4443 §2.4(f)); the packets are counted under their own reason too",
    'icmp-untranslatable': 'ICMP type with no counterpart in the other IP version',
    'icmp-checksum': 'ICMP checksum wrong',
    'icmp-inner-invalid': 'ICMP error quoting a malformed packet',
    'icmp-inner-untranslatable': 'ICMP error quoting a packet that cannot be translated',
    'icmp-error-nested': 'ICMP error about an ICMP error',
    'hairpin-loop': 'would loop back into the CLAT',
    'write-refused': 'the TUN’s write queue was full',
    'write-errors': 'writing to the TUN failed',
    'staged-overflow': 'no room left for packets the translator made itself',
    'inbound-unsolicited':
      'came in from the network through the CLAT unasked (no flow this host started; --inbound deny), or a DNS query for the stub from the network',
  },
  /**
   * Where the NAT64 prefix came from (status.ts PrefixSource; dots written as '_'): the windows'
   * words and `clatbar status`'s. Which file the administrator's settings are in is the engine's to
   * say (--admin-policy), so these do not name one.
   */
  prefixSource: {
    pref64: 'learned from the router advertisements (PREF64, RFC 8781)',
    ipv4only_arpa: "learned by asking the network's DNS for ipv4only.arpa (RFC 7050)",
    configured: 'configured with clatbar run --prefix',
    admin: 'pinned by the administrator in the admin policy file',
  },
  /** Where the policy in force came from (status.ts PolicySource). */
  policySource: {
    default: 'the built-in default',
    'user-default': 'your default for all networks',
    user: 'your choice for this network',
    'admin-default': 'the administrator’s default in the admin policy file',
    admin: 'set by the administrator in the admin policy file',
  },
  /** What kind of network the engine found (status.ts CLASSIFICATIONS). */
  classification: {
    offline: 'offline: no usable network',
    'dual-stack': 'native IPv4 and IPv6 (dual-stack)',
    'ipv6-only': 'IPv6-only, without NAT64',
    'ipv6-only-nat64': 'IPv6-only, with NAT64',
    'system-clat': 'another CLAT is already running',
  },
  /** An on/off click for this network, in force until the network changes. */
  override: {
    enabled: 'turned on by hand until the network changes',
    disabled: 'turned off by hand until the network changes',
  },
  // The engine's message codes (status.ts Message.code, dots written as '_') -> words; a code missing here shows the
  // engine's own English text.
  // {{source, prefixSource}} and {{source, policySource}} put a source code's words in (shared/i18n.ts).
  engine: {
    active_foreground:
      'IPv4 apps on this computer reach IPv4 hosts through the network’s NAT64 ({{prefix}}) via {{uplink}}',
    active_nat64: 'IPv6-only on {{uplink}} with the NAT64 prefix {{prefix}}, {{source, prefixSource}}',
    active_always: 'policy “always”: the CLAT runs beside native IPv4',
    'network_ipv6-only-nat64':
      'IPv6-only on {{uplink}} with the NAT64 prefix {{prefix}}, {{source, prefixSource}}',
    'network_system-clat': 'another CLAT is already active: {{what}}',
    'standby_system-clat': 'standing down: another CLAT is already active: {{what}}',
    'network_dual-stack': 'the network has native IPv4 (default route {{route}})',
    'standby_dual-stack':
      'not needed: the network has native IPv4 (default route {{route}}); native IPv4 beats a CLAT',
    'standby_dual-stack-kept':
      'not needed now: the network has native IPv4 (default route {{route}}); the CLAT stays ready without its IPv4 default route until {{until}}, in case native IPv4 goes again',
    network_offline: 'no network: no IPv6 default route with a global address, no IPv4',
    standby_offline: 'no network: no IPv6 default route with a global address, no IPv4',
    'network_ipv6-only':
      'IPv6-only on {{uplink}}, and the network announces no NAT64 prefix (no PREF64, ipv4only.arpa not synthesized)',
    'standby_ipv6-only':
      'IPv6-only on {{uplink}}, and the network announces no NAT64 prefix (no PREF64, ipv4only.arpa not synthesized)',
    standby_starting: 'starting: looking at the network',
    /** The CLAT is brought up again for another uplink, network, DNS64 mode or inbound choice. */
    standby_restarting: 'restarting the CLAT: the uplink, network or settings changed',
    // RFC 8925: the network withholds IPv4 from this host by DHCPv4 option 108 (engine/daemon/decide.ts).
    'network_v6only-preferred':
      'IPv6-only on {{uplink}}: the network withholds IPv4 from this computer by DHCPv4 option 108 (IPv6-only preferred) for {{wait}} s, and announces no NAT64 prefix',
    'standby_v6only-preferred':
      'IPv6-only on {{uplink}}: the network withholds IPv4 from this computer by DHCPv4 option 108 (IPv6-only preferred) for {{wait}} s, and announces no NAT64 prefix',
    'network_v6only-preferred-nat64':
      'IPv6-only on {{uplink}}: the network withholds IPv4 from this computer by DHCPv4 option 108 (IPv6-only preferred) for {{wait}} s; NAT64 prefix {{prefix}}, {{source, prefixSource}}',
    'active_v6only-preferred':
      'IPv6-only on {{uplink}}: the network withholds IPv4 from this computer by DHCPv4 option 108 (IPv6-only preferred) for {{wait}} s; NAT64 prefix {{prefix}}, {{source, prefixSource}}',
    // What clatbar asks NetworkManager's DHCPv4 client (engine/daemon/v6only-preferred.ts).
    v6only_requested:
      'DHCPv4 asks for option 108 (IPv6-only preferred) on {{connection}}: an IPv6-mostly network may withhold IPv4, the CLAT stands in (NetworkManager {{version}})',
    v6only_unsupported:
      'DHCPv4 option 108 is not requested: NetworkManager {{version}} cannot ask for it (1.52 and later can)',
    'v6only_not-dhcp':
      'DHCPv4 option 108 is not requested: the connection’s IPv4 is not from DHCP (ipv4.method {{method}})',
    'v6only_connection-setting':
      'the connection {{connection}} sets ipv4.dhcp-ipv6-only-preferred to {{value}} itself; clatbar leaves it as it is',
    'v6only_not-allowed':
      'DHCPv4 option 108 is not requested on {{connection}}: the CLAT may not run here now, so this computer needs IPv4',
    v6only_failed: 'DHCPv4 option 108 could not be requested on {{connection}}: {{error}}',
    off_override: 'turned off for this network (the switch, or clatbar disable)',
    off_policy: 'off on this network by policy “never” ({{source, policySource}})',
    'attention_bring-up-failed': 'the CLAT could not start: {{error}}',
    'fix_bring-up': '{{fix}}',
    'fix_see-log':
      'see the log (clatbar logs); clatbar tries again when the network changes, or when you turn it on',
    'fix_no-prefix':
      'clatbar resumes when the network announces a prefix again, or restart it with “clatbar run --prefix PFX/LEN”',
    stopping: 'the engine is stopping and putting the network back as it was',
    'uplink_only-default-route': '{{uplink}} carries the IPv6 default route (metric {{metric}})',
    'uplink_lowest-metric':
      '{{uplink}} carries the IPv6 default route with the lowest metric ({{metric}}; also {{others}})',
    // The self-test (engine/control/selftest.ts): selftest_CHECK_title, then each outcome's words.
    'selftest_ipv4-icmp_title': 'IPv4 ping through the CLAT',
    'selftest_ipv4-icmp_inactive': 'the CLAT is not active, so there is nothing to ping through',
    'selftest_ipv4-icmp_pass': '{{address}} answered a ping over IPv4',
    'selftest_ipv4-icmp_fail': 'no answer to a ping from {{addresses}}',
    'selftest_ipv4-icmp_fix':
      'check the NAT64 prefix (clatbar status) and the firewall check below; some networks drop ICMP, so look at the TCP check too',
    'selftest_ipv4-tcp_title': 'IPv4 TCP connection through the CLAT',
    'selftest_ipv4-tcp_inactive': 'the CLAT is not active',
    'selftest_ipv4-tcp_connected': '{{address}}:{{port}} answered (connected)',
    'selftest_ipv4-tcp_refused': '{{address}}:{{port}} answered (refused the port)',
    'selftest_ipv4-tcp_fail': 'no TCP answer: {{tried}}',
    'selftest_ipv4-tcp_fix':
      "check the NAT64 prefix (clatbar status), the firewall check, and that the network's NAT64 works (ping6 the prefix + an IPv4 address)",
    'selftest_dns-system_title': 'A and AAAA of {{name}} through the system resolver',
    'selftest_dns-system_pass': 'A {{a}}, AAAA {{aaaa}}',
    'selftest_dns-system_fail': 'A: {{a}}; AAAA: {{aaaa}}',
    'selftest_dns-system_fix-dns64': 'IPv4-only names need DNS64: run the engine with --dns64 auto',
    'selftest_dns-system_fix-resolver':
      'check /etc/resolv.conf or resolvectl status: the system resolver does not answer',
    'selftest_ipv4only-arpa_title': "ipv4only.arpa from the network's resolvers (RFC 7050)",
    'selftest_ipv4only-arpa_no-uplink': 'no uplink known yet',
    'selftest_ipv4only-arpa_unreadable':
      "could not check: the uplink's resolvers could not be read ({{error}})",
    'selftest_ipv4only-arpa_no-resolvers': 'could not check: no resolvers are known for {{uplink}}',
    'selftest_ipv4only-arpa_pass': '{{servers}} synthesize {{addresses}}: the network does DNS64',
    'selftest_ipv4only-arpa_fail':
      "{{servers}} gave no AAAA for ipv4only.arpa ({{error}}): the network's resolvers do not do DNS64",
    'selftest_ipv4only-arpa_fix-prefix-known':
      'nothing to do while the prefix comes from PREF64 or --prefix; IPv4-only names need --dns64 auto',
    'selftest_ipv4only-arpa_fix-no-prefix':
      'pass --prefix, or ask the network operator for PREF64 in router advertisements',
    'selftest_path-mtu_title': 'path MTU towards the NAT64 (ping with DF)',
    'selftest_path-mtu_inactive': 'no NAT64 prefix or MTU in use yet',
    'selftest_path-mtu_pass': '{{mtu}}-byte packets reach {{dst}} unfragmented',
    'selftest_path-mtu_no-echo': '{{dst}} does not answer pings at all, so its path MTU cannot be probed',
    'selftest_path-mtu_fail':
      '{{mtu}}-byte packets do not reach {{dst}}, small ones do: the path MTU is below what the CLAT assumes',
    'selftest_path-mtu_fix': 'restart the engine with a smaller --mtu (1280 always works)',
    'selftest_dns64-stub_title': 'the DNS64 stub answers',
    'selftest_dns64-stub_not-running': 'the DNS64 stub does not run (--dns64 off)',
    'selftest_dns64-stub_pass': '{{listen}} gave AAAA {{addresses}} for {{name}}',
    'selftest_dns64-stub_fail': '{{listen}} gave no AAAA for {{name}} ({{error}})',
    'selftest_dns64-stub_fix': "see the engine's log (clatbar logs) for the stub's upstreams",
    selftest_firewall_title: 'firewall rules that would drop translated traffic',
    'selftest_firewall_no-tun': 'no TUN or uplink yet',
    // The findings and their commands are the firewall check's own (engine/system/firewall.ts).
    selftest_firewall_fail: '{{findings}}',
    selftest_firewall_unchecked: '{{findings}}',
    selftest_firewall_fix: '{{fixes}}',
    selftest_firewall_pass: "nothing found that would drop the CLAT's traffic",
  } as Readonly<Record<string, string>>,
} as const;

/** The shape every catalog has: the same keys, any words. */
type Words<T> = { readonly [K in keyof T]: T[K] extends string ? string : Words<T[K]> };
export type Catalog = Words<Omit<typeof en, 'engine'>> & { engine: Readonly<Record<string, string>> };
