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
    // No uplink (engine/daemon/netstate.ts): {{passed}} lists each interface with its IPv6 default route and why it was passed over.
    uplink_none: 'no interface qualifies as the uplink: {{passed}}',
    'uplink_no-default-route': 'no interface has an IPv6 default route',
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
    // ---- The engine's log lines (say.ts: every line of the log is one of these codes) ----
    // The CLAT's bring-up on the host (engine/clat/host.ts).
    'clat_tun-sysctls': '{{tun}}: loose rp_filter, no router advertisements',
    'clat_accept-ra-raised':
      '{{uplink}}: accept_ra 1 -> 2, so router advertisements keep working once forwarding is on',
    'clat_accept-ra-kept':
      '{{uplink}}: accept_ra is {{value}}; left alone (0 means addresses are static, 2 is already right)',
    'clat_forwarding-on': '{{uplink}}: IPv6 forwarding on (proxy-ND answers only on forwarding interfaces)',
    'clat_force-forwarding-on':
      '{{uplink}}, {{tun}}: force_forwarding on; the rest of the host is not made a router',
    'clat_global-forwarding-on':
      'net.ipv6.conf.all.forwarding on (this kernel has no per-interface force_forwarding)',
    'clat_proxy-ndp-on': '{{uplink}}: proxy_ndp on, answering at once (proxy_delay 0)',
    'clat_ipv6-address-routed':
      'CLAT IPv6 {{address}}: routed into {{tun}}, answered for on {{uplink}} by proxy-ND',
    'clat_default-route-added':
      'IPv4 default route via {{tun}}, metric {{metric}} (any native route wins), MTU {{ipv4Mtu}} = IPv6 path MTU {{ipv6Mtu}} - 28',
    // The DNS64 stub beside the CLAT (engine/clat/dns64-glue.ts).
    dns64_upstreams: 'DNS64 upstreams from {{source}}: {{servers}}',
    'dns64_upstreams-domains': 'DNS64 upstreams from {{source}}: {{servers}} (domains there: {{domains}})',
    dns64_started: 'DNS64 ({{mode}}) on {{address}}:53, via {{how}}, forwarding to {{count}} resolver(s)',
    // The undo journal (engine/system/journal.ts): {{what}} is the change as the journal names it.
    journal_undone: 'undone: {{what}}',
    'journal_undo-failed': 'could not undo {{what}}: {{error}}',
    // The data path's setup (engine/clat/datapath.ts); nothing is logged per packet.
    'clat_tun-error': 'TUN error (first of its kind, later ones only counted): {{error}}',
    'clat_txqueuelen-failed': 'could not set {{tun}} txqueuelen {{length}}: {{error}}',
    'clat_little-headroom': '{{tun}}: only {{bytes}} bytes of headroom; IPv4 -> IPv6 will copy packets',
    // The inbound filter (engine/clat/inbound-filter.ts).
    'inbound_allow-without-nft':
      'inbound: allow (--inbound allow); {{nft}} is not installed: DNS queries from the network through the CLAT are not blocked',
    inbound_deny:
      "inbound: deny: only replies to this host's own flows (and ICMP errors about them) come in through {{tun}}; the rest is counted and dropped (nftables table {{table}} (inbound deny on {{tun}}), kernel connection tracking)",
    inbound_allow:
      'inbound: allow (--inbound allow): anyone on the IPv6 network can reach IPv4 services on this host through {{tun}}; DNS queries to the stub from there are still dropped (nftables table {{table}} (inbound allow on {{tun}}))',
    // The CLAT instance: bring-up, prefix changes, teardown (engine/clat/engine.ts).
    journal_recovered: 'recovered: {{undone}}/{{total}} changes of an earlier run undone',
    clat_uplink:
      'uplink {{uplink}}: {{address}} in {{subnet}}, IPv6 default route via {{gateway}}, MTU {{mtu}}',
    'clat_mtu-capped': "--mtu {{mtu}} is above {{uplink}}'s MTU {{linkMtu}}; using {{using}}",
    clat_prefix: 'NAT64 prefix {{prefix}}, {{from, message}}',
    // Where the prefix came from, inside the lines above and below ({{from, message}}).
    'prefix-from_configured': 'configured (--prefix)',
    'prefix-from_pref64':
      'from PREF64 in router advertisements from {{router}} (RFC 8781), lifetime {{lifetime}} s',
    'prefix-from_pref64-unknown-router':
      'from PREF64 in router advertisements (RFC 8781), lifetime {{lifetime}} s',
    'prefix-from_rfc7050': 'from ipv4only.arpa as synthesized by {{servers}} (RFC 7050)',
    'prefix-from_rfc7050-unknown-servers':
      "from ipv4only.arpa as synthesized by the network's resolvers (RFC 7050)",
    'clat_dad-duplicate': 'DAD: {{address}} is in use on {{uplink}}; trying another',
    'clat_dad-free': 'DAD: {{address}} is free',
    'clat_dad-off': 'DAD is off on {{uplink}}; using {{address}} unprobed',
    clat_addresses: 'CLAT addresses: {{ipv4}} <-> {{ipv6}}',
    'clat_addresses-neutral':
      'CLAT addresses: {{ipv4}} <-> {{ipv6}} (checksum-neutral: translation leaves TCP/UDP checksums unchanged)',
    'clat_tun-up': '{{tun}}: up, MTU {{mtu}}',
    // {{details}}: the data path's offloads and read method, in the kernel's own terms.
    'clat_tun-up-details': '{{tun}}: up, MTU {{mtu}}, {{details}}',
    // The firewall check (engine/system/firewall.ts): where and what are nft's and iptables' terms.
    firewall_warning: 'firewall warning: {{where}}: {{problem}}',
    'firewall_to-allow': '  to allow it: {{fix}}',
    'firewall_nothing-found': 'firewall: nothing found that would drop the translated traffic',
    clat_up: 'CLAT is up: IPv4 apps now reach the IPv4 internet through the NAT64',
    'clat_bring-up-failed': 'bring-up failed: {{error}}; undoing what was done',
    'resolvers_uplink-unreadable':
      'the resolvers of {{uplink}} could not be read ({{error}}); trying resolv.conf',
    discovery_looking:
      'no --prefix: looking for the NAT64 prefix on {{uplink}} (router solicitation for PREF64, RFC 8781; AAAA ipv4only.arpa from {{servers}}, RFC 7050)',
    'discovery_looking-no-resolvers':
      'no --prefix: looking for the NAT64 prefix on {{uplink}} (router solicitation for PREF64, RFC 8781; no resolvers known for ipv4only.arpa)',
    'clat_prefix-differs':
      'the network announces the NAT64 prefix {{prefix}} in PREF64 (router {{router}}); using --prefix {{configured}} as told (leave --prefix out to follow the network)',
    'clat_prefix-gone':
      'NAT64 prefix: {{was}} is gone and nothing replaces it; IPv4 packets are dropped (not translated) until the network announces a prefix again',
    'clat_prefix-none':
      'no NAT64 prefix: IPv4 packets are dropped (not translated) until the network announces one',
    'clat_prefix-fixed':
      "the network's NAT64 prefix is now {{prefix}}, but this data path cannot change its prefix while running; restart clatbar",
    'clat_prefix-changed':
      'NAT64 prefix changed: {{was}} ({{wasSource}}) -> {{prefix}} ({{from, message}}); the translator uses it from now on',
    'clat_prefix-arrived':
      'NAT64 prefix changed: none -> {{prefix}} ({{from, message}}); the translator uses it from now on',
    'clat_prefix-not-neutral':
      'checksums are now adjusted per packet: the CLAT address is not checksum-neutral with the new NAT64 prefix',
    'clat_prefix-switch-failed': 'while switching the NAT64 prefix: {{error}}',
    'clat_default-route-withdrawn':
      'IPv4 default route via {{tun}} removed; the rest of the CLAT stays ready',
    'clat_default-route-restored':
      'IPv4 default route via {{tun}} back: IPv4 apps reach the IPv4 internet through the NAT64 again',
    clat_stopping: 'stopping: tearing the CLAT down',
    'clat_stop-step-failed': 'while stopping: {{error}}',
    'clat_stopped-incomplete': 'stopped, but {{failed}} change(s) could not be undone (see above)',
    clat_stopped: 'stopped; the host is as it was',
    journal_recovering: 'recovering: undoing {{count}} change(s) left by pid {{pid}} (started {{startedAt}})',
    // The uplink watch of a running CLAT (engine/net/uplink-watch.ts).
    uplink_gone: '{{uplink}} is gone: IPv4 through the CLAT stops until it is back (or stop clatbar)',
    'uplink_new-device':
      '{{uplink}} is back as a new device: its own settings (forwarding, proxy_ndp, accept_ra) start from the defaults again, so IPv4 through the CLAT needs a restart of clatbar run',
    uplink_down: '{{uplink}} is down: IPv4 through the CLAT pauses until it comes back',
    'uplink_up-again': '{{uplink}} is up again',
    'uplink_left-subnet':
      '{{uplink}} has no address in {{subnet}} any more: the CLAT address {{address}} is off-link until it returns (a different network needs a new clatbar run)',
    'uplink_back-in-subnet': '{{uplink}} has an address in {{subnet}} again',
    'uplink_proxy-nd-restored':
      '{{uplink}}: proxy-ND entry for {{address}} was gone (the kernel drops them when a link goes down); put back',
    'uplink_proxy-nd-restore-failed':
      '{{uplink}}: could not put the proxy-ND entry for {{address}} back: {{error}}',
    'uplink_watch-failed':
      'cannot watch {{uplink}} (ip monitor: {{error}}); a down/up of {{uplink}} will not be repaired',
    // The daemon's watch on links, addresses and routes (engine/daemon/netwatch.ts).
    netwatch_failed: 'cannot watch the network: {{error}}',
    'netwatch_monitor-failed': 'cannot watch the network ({{command}} monitor: {{error}})',
    // NAT64 prefix discovery (engine/discovery/monitor.ts). {{reason}}, {{detail}}: the parser's
    // words about the answer or option; {{problem}} its code.
    'discovery_ra-unreadable':
      'router advertisements on {{uplink}} cannot be read ({{error}}); PREF64 is not watched',
    'discovery_ra-read-error': 'reading router advertisements on {{uplink}}: {{error}}',
    'discovery_rs-failed': 'router solicitation on {{uplink}} failed: {{error}}',
    'discovery_rfc7050-silent': 'no answer for ipv4only.arpa from {{servers}}; keeping {{prefix}}',
    'discovery_rfc7050-rejected': 'ipv4only.arpa answer not used: {{reason}}',
    'discovery_rfc7050-several': 'ipv4only.arpa gives {{count}} prefixes ({{prefixes}}); using the first',
    'discovery_too-many-problems':
      'more than {{max}} different discovery problems; further ones are only counted',
    'discovery_pref64-ignored': 'PREF64 option from {{router}} ignored: {{detail}} ({{problem}})',
    'discovery_pref64-withdrawn':
      'router {{router}} withdrew the NAT64 prefix {{prefix}} (PREF64 lifetime 0)',
    'discovery_pref64-expired':
      'the NAT64 prefix {{prefix}} from {{router}} expired (its PREF64 lifetime of {{lifetime}} s ran out without a new router advertisement)',
    // The DNS64 stub (engine/dns64/server.ts, udp.ts, tcp.ts).
    'dns64_probe-failed': 'DNS64 probe failed: {{error}}',
    dns64_prefix: 'NAT64 prefix now {{prefix}}; cache flushed',
    'dns64_no-prefix': 'NAT64 prefix now none (passing queries through); cache flushed',
    'dns64_upstreams-changed': 'upstream resolvers now {{servers}}; cache flushed',
    'dns64_no-fast-path': 'cache hits answered in JS: {{error}}',
    'dns64_probe-silent-passing':
      'could not ask the upstreams whether they do DNS64 (no answer); still passing through',
    'dns64_probe-silent-synthesizing':
      'could not ask the upstreams whether they do DNS64 (no answer); synthesizing ourselves',
    'dns64_upstreams-do-dns64':
      'the upstreams already do DNS64 (ipv4only.arpa is {{addresses}}): passing AAAA queries through',
    dns64_synthesizing: 'the upstreams do not do DNS64: synthesizing AAAA records ourselves',
    'dns64_tcp-listener-error': 'TCP listener {{address}}: {{error}}',
    'dns64_udp-listener-error': 'UDP listener {{address}}: {{error}}',
    dns64_listening: 'listening on {{address}} (UDP and TCP)',
    // {{reason}}: why the native batched sockets cannot be used (native/batch-socket.ts).
    'dns64_udp-unbatched': 'UDP without batching (node:dgram): {{reason}}',
    'dns64_internal-error': 'internal error on a query from {{client}}: {{error}}',
    'dns64_internal-error-tcp': 'internal error on a TCP query: {{error}}',
    'dns64_internal-error-answering': 'internal error answering {{name}}: {{error}}',
    'dns64_send-failed': 'could not send an answer: {{error}}',
    // The upstream resolvers (engine/dns/upstream.ts), at most once a minute per server.
    upstream_timeout:
      'upstream {{server}} did not answer within {{ms}} ms ({{others}} other resolver(s) to try)',
    'upstream_no-route':
      'upstream {{server}} cannot be reached: this host has no route to it ({{error}}); check `ip route get` for it ({{others}} other resolver(s) to try)',
    'upstream_no-address':
      'upstream {{server}} cannot be reached: this host has no address of its family ({{error}}) ({{others}} other resolver(s) to try)',
    upstream_firewall:
      'upstream {{server}} cannot be reached: a firewall rule on this host refused the query ({{error}}) ({{others}} other resolver(s) to try)',
    upstream_unreachable:
      'upstream {{server}} cannot be reached: {{error}} ({{others}} other resolver(s) to try)',
    // The system resolver hook (engine/dns64/system-resolver.ts).
    resolved_unwatched:
      "systemd-resolved: cannot watch for changes to {{iface}}'s settings ({{error}}); they are set, but if another program resets them, names go to the uplink's servers unsynthesized until clatbar restarts",
    resolved_hooked:
      'systemd-resolved: every DNS name now goes to {{address}} (the DNS64 stub) through {{iface}} (ifindex {{ifindex}}): routing domain ~., default route yes, LLMNR, mDNS, DNSSEC and DNS-over-TLS off there. Stopping reverts it (RevertLink), journaled',
    'resolved_hooked-uplink-kept':
      'systemd-resolved: every DNS name now goes to {{address}} (the DNS64 stub) through {{iface}} (ifindex {{ifindex}}): routing domain ~., default route yes, LLMNR, mDNS, DNSSEC and DNS-over-TLS off there; {{uplink}} is not changed. Stopping reverts it (RevertLink), journaled',
    'resolved_given-up':
      "systemd-resolved: the settings on {{iface}} were reset {{times}} times within a minute; no longer putting them back: another program manages {{iface}}'s DNS (for NetworkManager: unmanaged-devices=interface-name:{{iface}} in NetworkManager.conf)",
    // {{why}}: what resolved signalled (its D-Bus signal, as the watch names it).
    resolved_reapplied:
      'systemd-resolved: our settings on {{iface}} were gone ({{why}}); set again (DNS {{address}}, ~.)',
    'resolved_check-failed': '{{error}} (our settings there may be missing)',
    'resolved_uplink-claims-all':
      'note: {{uplink}} has the routing domain ~. in systemd-resolved as well (domains: {{domains}}), so resolved asks its servers and the stub in parallel; names with only IPv4 addresses may then get no synthesized AAAA, and IPv4 apps still work through the CLAT',
    resolvconf_hooked: '{{path}} now names {{address}} as the only nameserver (the old file is journaled)',
    // The option-108 request through NetworkManager (engine/daemon/v6only-preferred.ts).
    v6only_recovered: 'recovered: {{undone}}/{{total}} option-108 requests of an earlier run undone',
    'v6only_read-failed': 'asking NetworkManager about {{uplink}} for option 108 failed: {{error}}',
    v6only_error: 'option 108: {{error}}',
    v6only_asking:
      'asking for DHCPv4 option 108 (IPv6-only preferred, RFC 8925) on {{uplink}}: NetworkManager {{version}}, connection {{connection}}',
    'v6only_ask-failed': 'could not ask for DHCPv4 option 108 on {{uplink}}: {{error}}',
    v6only_released: 'no longer asking for DHCPv4 option 108 on {{uplink}} ({{connection}})',
    'v6only_release-gone':
      'the option-108 request on {{uplink}} ({{connection}}) needs no undoing: the device or NetworkManager is gone, and the applied connection with it',
    'v6only_release-other-activation':
      'the option-108 request on {{uplink}} ({{connection}}) needs no undoing: the device runs another activation, which never had the request',
    'v6only_release-changed-by-someone-else':
      'the option-108 request on {{uplink}} ({{connection}}) needs no undoing: someone else changed the setting since',
    'v6only_release-failed':
      'letting go of DHCPv4 option 108 on {{uplink}} failed ({{error}}); undoing by the journal',
    // The policy files (engine/policy/store.ts); {{reason}}, {{detail}}: what is wrong, in the checker's or parser's words.
    'policy_user-untrusted':
      'not using the policy file {{path}}: {{reason}}; the defaults apply and choices are not saved. Use a directory only root can write (the default /var/lib/clatbar is), or make it so: sudo chown root:root {{dir}} && sudo chmod 0700 {{dir}} (and the same for the directories above)',
    'policy_user-untrusted-moved':
      'the policy file {{path}} cannot be trusted ({{detail}}); moved aside to {{aside}}, the defaults apply',
    'policy_user-untrusted-kept':
      'the policy file {{path}} cannot be trusted ({{detail}}), and could not be moved aside ({{error}}); the defaults apply',
    'policy_user-unreadable-moved':
      'the policy file {{path}} cannot be read ({{detail}}); moved aside to {{aside}}, the defaults apply',
    'policy_user-unreadable-kept':
      'the policy file {{path}} cannot be read ({{detail}}), and could not be moved aside ({{error}}); the defaults apply',
    'policy_user-invalid-moved':
      'the policy file {{path}} is not a valid policy file ({{detail}}); moved aside to {{aside}}, the defaults apply',
    'policy_user-invalid-kept':
      'the policy file {{path}} is not a valid policy file ({{detail}}), and could not be moved aside ({{error}}); the defaults apply',
    'policy_admin-untrusted':
      'ignoring the admin policy {{path}}: {{reason}}; it must be owned by root and not writable by group or others, in directories only root can write (chown root: {{path}}; chmod 644 {{path}})',
    'policy_admin-unreadable': 'ignoring the admin policy {{path}}: {{error}}',
    'policy_admin-invalid':
      'ignoring the admin policy {{path}}: not a valid policy file ({{detail}}); fix it and send SIGHUP (systemctl reload clatbar-engine)',
    // The control socket (engine/control/server.ts): refusals, at most a few a second, and changes.
    // {{who}}: the caller, "uid 1000 (alice) pid 4242".
    'control_refusals-not-logged': 'control: {{count}} more refusals were not logged (too many at once)',
    'control_no-credentials': 'control: dropped a connection whose credentials could not be read: {{error}}',
    'control_refused-full':
      'control: refused a connection of {{who}}: the engine holds {{max}} connections already; try again later',
    'control_refused-reserved':
      'control: refused a connection of {{who}}: too many connections; the last {{reserved}} are kept for root and the {{group}} group',
    'control_refused-per-uid':
      'control: refused a connection of {{who}}: uid {{uid}} holds {{max}} connections already; close some (each tray app or terminal needs one)',
    'control_closed-oversize': 'control: closed {{who}}: a request over {{bytes}} bytes',
    'control_closed-stalled': 'control: closed {{who}}: half a request and not the rest within {{ms}} ms',
    'control_refused-method':
      'control: refused "{{method}}" to {{who}}: not root and not in the group {{group}}',
    'control_change-with-params': 'control: {{method}} {{params}} asked by {{who}}',
    control_change: 'control: {{method}} asked by {{who}}',
    'control_dropped-slow-reader':
      'control: dropped {{who}}: it does not read its replies (over {{bytes}} bytes queued)',
    // The daemon's supervisor (engine/daemon/supervisor.ts). {{reason, message}}, {{why, message}}
    // and {{what, message}} are messages of their own, with their parameters as reason.NAME etc.
    // (shared/engine-words.ts nestedParams); {{state}} is the state's code (off, standby, ...).
    'daemon_no-system-bus': 'no system bus ({{error}}); network ids are hashes of uplink, router and /64',
    daemon_reload: 'SIGHUP: reading the policy files again',
    'daemon_evaluate-failed': 'while looking at the network: {{error}}',
    daemon_uplink: 'uplink: {{why, message}}',
    'daemon_no-uplink': 'no uplink: {{why, message}}',
    daemon_network: 'network: {{name}} (id {{id}})',
    'policy_save-failed': 'could not save the network history: {{error}}',
    'identity_networkmanager-failed': "asking NetworkManager for the network's connection failed: {{error}}",
    'daemon_prefix-changed': 'NAT64 prefix on {{uplink}}: {{was}} -> {{prefix}} ({{source}})',
    'daemon_prefix-found': 'NAT64 prefix on {{uplink}}: none -> {{prefix}} ({{source}})',
    'daemon_prefix-lost': 'NAT64 prefix on {{uplink}}: {{was}} -> none',
    'daemon_prepare-failed': 'could not prepare a CLAT address on {{uplink}}: {{error}}',
    'daemon_withdraw-failed': '{{error}}; stopping the CLAT instead',
    daemon_kept:
      'native IPv4 is here: the CLAT stays ready without its IPv4 default route for {{seconds}} s, in case it goes again',
    'daemon_restore-failed': "the CLAT's IPv4 default route could not be put back: {{error}}",
    'dns64_not-started': 'DNS64 stub not started: {{error}}',
    'dns64_stop-failed': 'while stopping the DNS64 stub: {{error}}',
    'daemon_clat-stopping': 'stopping the CLAT: {{why, message}}',
    teardown_incomplete: '{{failed}} change(s) could not be undone (see above)',
    'daemon_why-grace-over': 'the grace period after native IPv4 arrived is over',
    'daemon_why-instance-changed': 'the uplink, network or settings changed',
    'daemon_why-kept-changed': 'the uplink, network, prefix or settings changed',
    'daemon_why-restore-failed': 'its default route could not be put back',
    'daemon_why-engine-stops': 'the engine stops',
    'daemon_override-enable-ends-network': 'the manual enable ends: the laptop is on another network now',
    'daemon_override-disable-ends-network': 'the manual disable ends: the laptop is on another network now',
    'daemon_override-enable-ends-offline':
      'the manual enable ends: no IPv6 default route for more than {{seconds}} s',
    'daemon_override-disable-ends-offline':
      'the manual disable ends: no IPv6 default route for more than {{seconds}} s',
    daemon_state: 'state: {{state}}: {{reason, message}} [after: {{why, message}}]',
    'daemon_state-fix':
      'state: {{state}}: {{reason, message}} (to fix: {{fix, message}}) [after: {{why, message}}]',
    daemon_asked: '{{what, message}} (asked by uid {{uid}}, pid {{pid}})',
    // What made the daemon look at the network again (the [after: ...] of a state line).
    why_start: 'start',
    why_stop: 'stop',
    why_reload: 'policy files re-read',
    'why_prefix-changed': 'NAT64 prefix changed',
    // {{event}}: the first line of `ip monitor` output, the kernel's own words.
    why_netlink: 'netlink: {{event}}',
    'why_clock-jump': 'the wall clock jumped {{seconds}} s (suspend and resume?)',
    'why_monitor-ended': 'ip monitor ended',
    'why_grace-over': 'the grace period is over',
    'why_override-expired': 'override expired',
    'why_override-cleared': 'override cleared',
    'why_clatbar-enable': 'clatbar enable',
    'why_clatbar-disable': 'clatbar disable',
    // Changes asked for over the control socket, as the daemon logs and then applies them.
    'change_manual-enable': 'manual enable for network {{network}}',
    'change_manual-disable': 'manual disable for network {{network}}',
    'change_override-cleared': 'manual override cleared',
    change_policy: 'policy of network {{network}} set to {{policy}}',
    'change_default-policy': 'default policy set to {{policy}}',
    'change_dns64-mode': 'DNS64 mode set to {{mode}}',
    'change_network-option': '{{option}} on network {{network}} set to {{value}}',
    change_forget: 'network {{network}} forgotten',
    // clatbar run, both modes (cli/commands/run.ts, engine/clat/plan.ts).
    'clat_not-needed':
      'not needed: this host has native IPv4 (default route via {{via}}); native IPv4 always beats a CLAT. Use --force to run anyway (our route then loses to the native one).',
    'clat_aborted-discovery': 'stopped while looking for the NAT64 prefix; nothing was changed',
    'run_nothing-to-clean': 'nothing to clean up in {{dir}}',
    run_signal: '{{signal}} received',
    'run_status-hint': 'status: clatbar status, or JSON-RPC "status" on {{socket}}',
    'run_control-unavailable': 'control socket {{socket}} not available: {{error}}',
    'memory_release-failed': 'could not give memory back: {{error}}',
    memory_released: 'settled: memory given back, RSS {{before}} -> {{after}} MB ({{ms}} ms)',
    daemon_starting:
      'clatbar engine (daemon) starting: pid {{pid}}, state in {{stateDir}}, choices in {{dataDir}}',
    daemon_stopped: 'stopped; the host is as it was',
    'daemon_stopped-incomplete': 'stopped, but some changes could not be undone (see above)',
  },
} as const;

/** The shape every catalog has: the same keys, any words. */
type Words<T> = { readonly [K in keyof T]: T[K] extends string ? string : Words<T[K]> };
export type Catalog = Words<typeof en>;
