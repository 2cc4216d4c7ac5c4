// Korean message catalog (한국어). Same keys as en.ts; the type makes a missing or extra key a
// compile error.
import type { Catalog } from './en.js';

export const ko = {
  state: {
    disconnected: '엔진에 연결할 수 없음',
    off: '꺼짐',
    standby: '대기 중',
    active: '작동 중',
    attention: '확인 필요',
    stopping: '멈추는 중',
  },
  tray: {
    status: {
      disconnected: 'clatbar: 엔진이 실행되고 있지 않습니다',
      off: '{{network}}에서 clatbar를 통한 IPv4가 꺼져 있습니다',
      standby: '{{network}}에서 대기 중: {{reason}}',
      active: '{{network}}에서 clatbar를 통한 IPv4가 켜져 있습니다',
      attention: 'clatbar 확인 필요: {{reason}}',
      stopping: '엔진이 멈추는 중입니다',
    },
    tooltip: {
      disconnected: 'clatbar: 엔진에 연결할 수 없음 ({{reason}})',
      off: 'clatbar: {{network}}에서 꺼짐',
      standby: 'clatbar: 대기 중 ({{reason}})',
      active: 'clatbar: {{uplink}}에서 {{prefix}}를 통한 IPv4',
      attention: 'clatbar: {{reason}}',
      stopping: 'clatbar: 멈추는 중',
    },
    toggle: 'clatbar를 통한 IPv4',
    policyOn: '{{network}}에서:',
    thisNetwork: '이 네트워크',
    policy: { auto: '자동', always: '항상', never: '사용 안 함' },
    diagnostics: '진단…',
    settings: '설정…',
    startEngine: '엔진 시작',
    howToGetPermission: '변경 권한을 얻는 방법…',
    quit: '종료',
  },
  access: {
    denied: '보기만 할 수 있고 변경할 수는 없습니다: root와 “{{group}}” 그룹의 구성원만 변경할 수 있습니다.',
    fix: '관리자에게 “sudo usermod -aG {{group}} {{user}}” 실행을 요청한 뒤 로그아웃했다가 다시 로그인하세요.',
  },
  app: {
    connecting: '엔진에 연결하는 중',
    noEngine: '실행 중인 엔진이 없습니다 ({{path}}에서 응답 없음)',
    noEngineFix:
      '“sudo systemctl start clatbar-engine”으로 시작하거나 트레이 메뉴의 “엔진 시작”을 사용하세요',
    socketDenied: '{{path}}를 열 권한이 없습니다',
    socketDeniedFix: '엔진의 소켓이 접근할 수 없는 디렉터리에 있습니다. 다른 프로그램이 방해하고 있나요?',
    closed: '엔진이 {{path}} 연결을 닫았습니다 (멈췄거나 다시 시작하는 중)',
    notAnEngine: '{{path}}에서 응답하는 것이 clatbar 엔진이 아닙니다: {{detail}}',
    timeout: '엔진이 {{ms}} ms 안에 응답하지 않았습니다',
    timeoutFix:
      '멈춰 있을 수 있습니다. “sudo systemctl restart clatbar-engine”은 네트워크를 원래대로 돌려놓고 다시 시작합니다',
    incompatible: '이 앱은 제어 프로토콜 {{app}}, 엔진은 {{engine}}을 사용합니다 (clatbar {{version}})',
    incompatibleAppOlder: 'clatbar 앱을 업데이트하세요: 엔진이 더 새 버전입니다',
    incompatibleEngineOlder:
      '업데이트 후 엔진을 다시 시작하세요 (“sudo systemctl restart clatbar-engine”): 아직 이전 버전이 실행 중입니다',
    engineStopping: '엔진이 멈추면서 네트워크를 원래대로 돌려놓고 있습니다',
    noPrefix:
      '{{uplink}}에 NAT64 프리픽스가 없습니다: 네트워크가 프리픽스를 알릴 때까지 IPv4 앱은 아무 곳에도 연결할 수 없습니다',
    noPrefixFix:
      '프리픽스가 나타나면 clatbar가 다시 시작합니다. 또는 “clatbar run --prefix PFX/LEN”으로 지정하세요',
    activeLegacy:
      '이 컴퓨터의 IPv4 앱이 {{uplink}}를 거쳐 네트워크의 NAT64({{prefix}})로 IPv4 호스트에 연결합니다',
    unsupported:
      '이 엔진은 “{{method}}”을(를) 지원하지 않습니다: 포그라운드(clatbar run --uplink)로 실행 중이거나 이 앱보다 오래된 버전입니다. 설치된 서비스(clatbar-engine)는 지원합니다',
    refused: '엔진이 거부했습니다: {{reason}}',
    adminDefaultIn: '관리자가 {{file}}에서 설정함',
    adminDefault: '관리자가 설정함',
  },
  notify: {
    activeTitle: 'clatbar를 통한 IPv4가 켜졌습니다',
    activeBody: '{{network}}에서 IPv4 앱이 이제 네트워크의 NAT64를 거칩니다.',
    standbyTitle: 'clatbar가 대기 상태로 돌아갔습니다',
    standbyBody: '{{reason}}',
    attentionTitle: 'clatbar 확인 필요',
    attentionBody: '{{reason}}',
  },
  diag: {
    title: 'clatbar 진단',
    subtitle: 'IPv6 전용 네트워크에서 CLAT(RFC 6877)을 통해 이 컴퓨터에 IPv4를 제공합니다',
    network: '네트워크',
    networkName: '이름',
    networkId: '식별자',
    classification: '분류',
    policy: '정책',
    policySource: '{{policy}} ({{source}}에서)',
    uplink: '업링크',
    prefix: 'NAT64 프리픽스',
    prefixSource: '출처',
    lifetime: '유효 기간',
    lifetimeLeft: '{{s}}초 남음',
    lifetimeNone: '만료되지 않음',
    connection: '연결',
    clatIpv4: 'CLAT IPv4',
    clatIpv6: 'CLAT IPv6',
    device: '장치',
    engine: '엔진',
    traffic: '트래픽',
    noTraffic: '엔진이 실행 중이 아니면 트래픽 카운터가 없습니다.',
    chartTitle: '최근 5분',
    chartPackets: '초당 패킷',
    chartBytes: '초당 바이트',
    out: 'IPv4 → IPv6 (나감)',
    in: 'IPv6 → IPv4 (들어옴)',
    transitions: '상태 변화',
    noTransitions: '아직 상태 변화가 없습니다.',
    selfTests: '자가 진단',
    run: '실행',
    running: '실행 중…',
    notRun: '아직 실행하지 않았습니다.',
    result: { pass: '통과', fail: '실패', skipped: '건너뜀' },
    fix: '해결 방법: {{fix}}',
    logs: '로그',
    filter: '필터',
    follow: '따라가기',
    level: { debug: '디버그', info: '정보', warn: '경고', error: '오류' },
    noLogs: '로그가 없습니다.',
    copyReport: '보고서 복사',
    saveReport: '보고서 저장…',
    copied: '보고서를 복사했습니다.',
    saved: '보고서를 {{path}}에 저장했습니다.',
    settings: '설정…',
    toggle: '이 네트워크에서 clatbar를 통한 IPv4',
    turningOn: 'clatbar를 통한 IPv4를 켜는 중…',
    turningOff: 'clatbar를 통한 IPv4를 끄는 중…',
    drops: '버려진 패킷',
    dns64: 'DNS64',
  },
  cards: {
    connection: '연결',
    nat64Prefix: 'NAT64 프리픽스',
    device: '장치',
    uplink: '업링크',
    engine: '엔진',
    nothingYet: '엔진이 변환을 시작하기 전에는 보여줄 것이 없습니다.',
    traffic: '트래픽',
    trafficCaption: '방향별로 변환된 패킷과 최근 1초의 속도',
    direction: '방향',
    packets: '패킷',
    now: '현재',
    lastMinute: '최근 1분',
    readTun: 'TUN에서 읽음',
    writtenTun: 'TUN에 씀',
    madeByTranslator: '변환기가 만든 패킷',
    drops: '버려진 패킷',
    dropsNone: '없음: 모든 패킷이 변환되었습니다.',
    why: '이유',
    queries: '질의',
    synthesized: '합성한 AAAA',
    fromCache: '캐시에서',
    passedThrough: '그대로 전달',
    failed: '실패',
    resolverTimeouts: '리졸버 시간 초과',
    networkDns: '네트워크의 DNS',
    listening: '수신 주소',
    clatIpv4Note: 'IPv4 앱이 쓰는 주소',
    clatIpv6Note: '네트워크에서 바뀌어 나가는 주소',
    checksumNeutral: '체크섬 중립',
    mtu: 'MTU {{mtu}}',
    ipv4Mtu: 'IPv4 앱에는 MTU {{mtu}}',
    pid: '프로세스 {{pid}}',
    upFor: '{{time}} 동안 실행 중',
    time: '시각',
    outNote: '나감, 앱에서',
    inNote: '들어옴, 응답',
    sparkOut: '최근 1분간 초당 IPv4 → IPv6 패킷',
    sparkIn: '최근 1분간 초당 IPv6 → IPv4 패킷',
    // Korean has one plural form (_other); _one is here only because the catalogs share their keys.
    bytesInPackets_one: '패킷 {{packets}}개, {{bytes}}',
    bytesInPackets_other: '패킷 {{packets}}개, {{bytes}}',
    madeCounts: 'ICMP 오류 {{icmp}}개, 조각 {{fragments}}개',
    dns64Mode: '모드: {{mode}}',
    doesDns64: '스스로 DNS64를 함',
    noDns64: 'DNS64를 하지 않음',
    noDns64Activity:
      '엔진이 DNS64 활동을 보고하지 않았습니다. IPv4 주소는 어느 쪽이든 CLAT을 거쳐 작동하고, IPv4 전용 호스트의 이름은 네트워크 자체의 DNS64에 달려 있습니다.',
    inbound: '네트워크에서 들어오는 연결',
    inboundMode: {
      deny: '이 컴퓨터가 시작한 연결의 응답만 CLAT을 거쳐 들어옵니다',
      allow: 'IPv6 네트워크의 누구나 CLAT을 거쳐 이 컴퓨터의 IPv4 서비스에 접속할 수 있습니다',
    },
  },
  settings: {
    title: 'clatbar 설정',
    networks: '접속했던 네트워크',
    noNetworks: '아직 접속한 네트워크가 없습니다.',
    lastSeen: '마지막 접속 {{time}}',
    forget: '삭제',
    default: '기본값',
    globalDefault: '새 네트워크의 기본값',
    dns64: 'DNS64 모드',
    dns64Mode: { off: '끔', auto: '자동', on: '켬' },
    inbound: '들어오는 IPv4',
    inboundHelp:
      '이 네트워크의 호스트가 clatbar를 거쳐 이 컴퓨터의 IPv4 서비스에 접속할 수 있는지 정합니다. 차단하면 이 컴퓨터가 시작한 연결의 응답만 들어옵니다.',
    inboundMode: { default: '기본값 (차단)', deny: '차단', allow: '허용' },
    notifications: '알림 표시',
    startAtLogin: '로그인할 때 시작',
    locked: '관리자가 설정함: {{reason}}',
    lockedIn: '관리자가 {{file}}에서 설정함',
    lockedByAdmin: '관리자가 설정함',
    app: '이 앱',
    engine: '엔진',
  },
  drops: {
    'not-ip': 'IP 패킷이 아님',
    truncated: '헤더에 적힌 것보다 짧음',
    'bad-ipv4-header': '잘못된 IPv4 헤더',
    'bad-ipv4-checksum': 'IPv4 헤더 체크섬이 틀림',
    'bad-ipv6-header': '잘못된 IPv6 헤더',
    'ext-header-chain': 'IPv6 확장 헤더가 잘못되었거나 잘림',
    'transport-truncated': 'TCP, UDP 또는 ICMP 헤더가 잘림',
    'illegal-source': '출발지가 될 수 없는 주소에서 옴 (루프백, 멀티캐스트, 미지정)',
    'src-untranslatable': '출발지 주소를 다른 IP 버전으로 나타낼 수 없음',
    'dst-untranslatable': '목적지를 다른 IP 버전으로 나타낼 수 없음 (멀티캐스트, 브로드캐스트, 프리픽스 밖)',
    'ttl-expired': '홉 제한이 다 됨 (Time Exceeded를 돌려보냄)',
    'too-big': 'Don’t Fragment가 설정되어 있는데 IPv6 경로에 비해 너무 큼 (Fragmentation Needed를 돌려보냄)',
    'source-route': 'IPv4 소스 라우트 옵션 (변환할 수 없음)',
    'routing-header': '남은 홉이 있는 IPv6 라우팅 헤더 (변환할 수 없음)',
    'ext-header-after-fragment': 'Fragment 헤더 뒤의 확장 헤더',
    'udp-checksum-zero': '체크섬이 0인 UDP (IPv6에서는 허용되지 않음, RFC 8200 §8.1)',
    'udp-checksum-zero-fragment': '체크섬 없는 조각난 IPv4 UDP (체크섬을 계산할 수 없음)',
    'icmp-fragmented': '조각난 ICMP 메시지',
    'icmp-fragment-expired': '마지막 조각이 끝내 오지 않은 조각난 ping의 첫 조각',
    'icmp-rate-limited':
      '보내지 않은 ICMP 오류: 변환기의 전송 한도를 넘음 (RFC 4443 §2.4(f)); 해당 패킷은 제 이유로도 따로 집계됨',
    'icmp-untranslatable': '다른 IP 버전에 대응하는 것이 없는 ICMP 유형',
    'icmp-checksum': 'ICMP 체크섬이 틀림',
    'icmp-inner-invalid': '잘못된 패킷을 인용한 ICMP 오류',
    'icmp-inner-untranslatable': '변환할 수 없는 패킷을 인용한 ICMP 오류',
    'icmp-error-nested': 'ICMP 오류에 대한 ICMP 오류',
    'hairpin-loop': 'CLAT으로 되돌아 들어가는 루프가 됨',
    'write-refused': 'TUN의 쓰기 대기열이 가득 참',
    'write-errors': 'TUN에 쓰기 실패',
    'staged-overflow': '변환기가 직접 만든 패킷을 둘 공간이 없음',
    'inbound-unsolicited':
      '이 컴퓨터가 시작하지 않은 흐름으로 네트워크에서 CLAT을 거쳐 들어옴 (--inbound deny), 또는 네트워크에서 온 스텁 대상 DNS 질의',
  },
  prefixSource: {
    pref64: '라우터 광고에서 (PREF64, RFC 8781)',
    ipv4only_arpa: '네트워크의 DNS에 물어서 (ipv4only.arpa, RFC 7050)',
    configured: '직접 설정함 (clatbar run --prefix)',
    admin: '관리자가 관리자 정책 파일에서 고정함',
  },
  policySource: {
    default: '기본 설정',
    'user-default': '모든 네트워크에 대한 사용자의 기본값',
    user: '이 네트워크에 대한 사용자의 선택',
    'admin-default': '관리자 정책 파일의 관리자 기본값',
    admin: '관리자가 관리자 정책 파일에서 정함',
  },
  classification: {
    offline: '연결 없음',
    'dual-stack': 'IPv4와 IPv6 모두 있음 (듀얼 스택)',
    'ipv6-only': 'IPv6 전용, NAT64 없음',
    'ipv6-only-nat64': 'IPv6 전용, NAT64 있음',
    'system-clat': '다른 CLAT이 이미 실행 중',
  },
  override: {
    enabled: '네트워크가 바뀔 때까지 직접 켬',
    disabled: '네트워크가 바뀔 때까지 직접 끔',
  },
  engine: {
    active_foreground:
      '이 컴퓨터의 IPv4 앱이 {{uplink}}를 거쳐 네트워크의 NAT64({{prefix}})로 IPv4 호스트에 연결합니다',
    active_nat64: '{{uplink}}에서 IPv6 전용, NAT64 프리픽스 {{prefix}}, {{source, prefixSource}}',
    active_always: '정책 “항상”: 기본 IPv4 옆에서 CLAT이 실행됩니다',
    'network_ipv6-only-nat64':
      '{{uplink}}에서 IPv6 전용, NAT64 프리픽스 {{prefix}}, {{source, prefixSource}}',
    'network_system-clat': '다른 CLAT이 이미 작동 중입니다: {{what}}',
    'standby_system-clat': '물러납니다: 다른 CLAT이 이미 작동 중입니다: {{what}}',
    'network_dual-stack': '네트워크에 기본 IPv4가 있습니다 (기본 경로 {{route}})',
    'standby_dual-stack':
      '필요 없음: 네트워크에 기본 IPv4가 있습니다 (기본 경로 {{route}}); CLAT보다 기본 IPv4가 낫습니다',
    'standby_dual-stack-kept':
      '지금은 필요 없음: 네트워크에 기본 IPv4가 있습니다 (기본 경로 {{route}}); 기본 IPv4가 다시 없어질 때를 대비해 CLAT은 {{until}}까지 IPv4 기본 경로 없이 준비된 채로 있습니다',
    network_offline: '네트워크 없음: 전역 주소가 있는 IPv6 기본 경로도, IPv4도 없습니다',
    standby_offline: '네트워크 없음: 전역 주소가 있는 IPv6 기본 경로도, IPv4도 없습니다',
    'network_ipv6-only':
      '{{uplink}}에서 IPv6 전용이고, 네트워크가 NAT64 프리픽스를 알리지 않습니다 (PREF64 없음, ipv4only.arpa 합성 안 됨)',
    'standby_ipv6-only':
      '{{uplink}}에서 IPv6 전용이고, 네트워크가 NAT64 프리픽스를 알리지 않습니다 (PREF64 없음, ipv4only.arpa 합성 안 됨)',
    standby_starting: '시작하는 중: 네트워크를 살펴보고 있습니다',
    standby_restarting: 'CLAT을 다시 시작하는 중: 업링크, 네트워크 또는 설정이 바뀌었습니다',
    'network_v6only-preferred':
      '{{uplink}}에서 IPv6 전용: 네트워크가 DHCPv4 옵션 108(IPv6 전용 선호)로 {{wait}}초 동안 이 컴퓨터에 IPv4를 주지 않고, NAT64 프리픽스도 알리지 않습니다',
    'standby_v6only-preferred':
      '{{uplink}}에서 IPv6 전용: 네트워크가 DHCPv4 옵션 108(IPv6 전용 선호)로 {{wait}}초 동안 이 컴퓨터에 IPv4를 주지 않고, NAT64 프리픽스도 알리지 않습니다',
    'network_v6only-preferred-nat64':
      '{{uplink}}에서 IPv6 전용: 네트워크가 DHCPv4 옵션 108(IPv6 전용 선호)로 {{wait}}초 동안 이 컴퓨터에 IPv4를 주지 않습니다; NAT64 프리픽스 {{prefix}}, {{source, prefixSource}}',
    'active_v6only-preferred':
      '{{uplink}}에서 IPv6 전용: 네트워크가 DHCPv4 옵션 108(IPv6 전용 선호)로 {{wait}}초 동안 이 컴퓨터에 IPv4를 주지 않습니다; NAT64 프리픽스 {{prefix}}, {{source, prefixSource}}',
    v6only_requested:
      '{{connection}}에서 DHCPv4가 옵션 108(IPv6 전용 선호)을 요청합니다: IPv6 위주 네트워크는 IPv4를 주지 않을 수 있고, 그때는 CLAT이 대신합니다 (NetworkManager {{version}})',
    v6only_unsupported:
      'DHCPv4 옵션 108을 요청하지 않습니다: NetworkManager {{version}}은 이 옵션을 요청할 수 없습니다 (1.52 이상은 가능)',
    'v6only_not-dhcp':
      'DHCPv4 옵션 108을 요청하지 않습니다: 이 연결의 IPv4는 DHCP에서 오지 않습니다 (ipv4.method {{method}})',
    'v6only_connection-setting':
      '연결 {{connection}}이(가) ipv4.dhcp-ipv6-only-preferred를 직접 {{value}}(으)로 정해 두었습니다; clatbar는 그대로 둡니다',
    'v6only_not-allowed':
      '{{connection}}에서 DHCPv4 옵션 108을 요청하지 않습니다: 지금 여기서는 CLAT이 실행될 수 없으므로 이 컴퓨터에 IPv4가 필요합니다',
    v6only_failed: '{{connection}}에서 DHCPv4 옵션 108을 요청하지 못했습니다: {{error}}',
    off_override: '이 네트워크에서 꺼 두었습니다 (스위치 또는 clatbar disable)',
    off_policy: '정책 “사용 안 함”으로 이 네트워크에서 꺼져 있습니다 ({{source, policySource}})',
    'attention_bring-up-failed': 'CLAT을 시작하지 못했습니다: {{error}}',
    'fix_bring-up': '{{fix}}',
    'fix_see-log': '로그를 보세요 (clatbar logs); 네트워크가 바뀌거나 직접 켜면 clatbar가 다시 시도합니다',
    'fix_no-prefix':
      '네트워크가 다시 프리픽스를 알리면 clatbar가 이어서 작동합니다. 또는 “clatbar run --prefix PFX/LEN”으로 다시 시작하세요',
    stopping: '엔진이 멈추면서 네트워크를 원래대로 되돌리고 있습니다',
    'uplink_only-default-route': '{{uplink}}에 IPv6 기본 경로가 있습니다 (메트릭 {{metric}})',
    'uplink_lowest-metric':
      '{{uplink}}의 IPv6 기본 경로가 메트릭이 가장 낮습니다 ({{metric}}; 다른 후보 {{others}})',
    'selftest_ipv4-icmp_title': 'CLAT을 거친 IPv4 ping',
    'selftest_ipv4-icmp_inactive': 'CLAT이 작동하지 않아 ping을 보낼 경로가 없습니다',
    'selftest_ipv4-icmp_pass': '{{address}}가 IPv4 ping에 응답했습니다',
    'selftest_ipv4-icmp_fail': '{{addresses}}에서 ping 응답이 없습니다',
    'selftest_ipv4-icmp_fix':
      'NAT64 프리픽스(clatbar status)와 아래 방화벽 검사를 확인하세요. ICMP를 막는 네트워크도 있으니 TCP 검사도 보세요',
    'selftest_ipv4-tcp_title': 'CLAT을 거친 IPv4 TCP 연결',
    'selftest_ipv4-tcp_inactive': 'CLAT이 작동하지 않습니다',
    'selftest_ipv4-tcp_connected': '{{address}}:{{port}}가 응답했습니다 (연결됨)',
    'selftest_ipv4-tcp_refused': '{{address}}:{{port}}가 응답했습니다 (포트 거부)',
    'selftest_ipv4-tcp_fail': 'TCP 응답 없음: {{tried}}',
    'selftest_ipv4-tcp_fix':
      'NAT64 프리픽스(clatbar status)와 방화벽 검사, 그리고 네트워크의 NAT64가 작동하는지(프리픽스 + IPv4 주소로 ping6) 확인하세요',
    'selftest_dns-system_title': '시스템 리졸버로 {{name}}의 A와 AAAA 조회',
    'selftest_dns-system_pass': 'A {{a}}, AAAA {{aaaa}} 받음',
    'selftest_dns-system_fail': 'A 결과: {{a}}; AAAA 결과: {{aaaa}}',
    'selftest_dns-system_fix-dns64':
      'IPv4 전용 이름에는 DNS64가 필요합니다: 엔진을 --dns64 auto로 실행하세요',
    'selftest_dns-system_fix-resolver':
      '/etc/resolv.conf 또는 resolvectl status를 확인하세요: 시스템 리졸버가 응답하지 않습니다',
    'selftest_ipv4only-arpa_title': '네트워크 리졸버의 ipv4only.arpa (RFC 7050)',
    'selftest_ipv4only-arpa_no-uplink': '아직 알려진 업링크가 없습니다',
    'selftest_ipv4only-arpa_unreadable':
      '검사하지 못했습니다: 업링크의 리졸버를 읽을 수 없습니다 ({{error}})',
    'selftest_ipv4only-arpa_no-resolvers': '검사하지 못했습니다: {{uplink}}의 리졸버를 모릅니다',
    'selftest_ipv4only-arpa_pass': '{{servers}}가 {{addresses}}를 합성합니다: 네트워크가 DNS64를 합니다',
    'selftest_ipv4only-arpa_fail':
      '{{servers}}가 ipv4only.arpa의 AAAA를 주지 않았습니다 ({{error}}): 네트워크의 리졸버는 DNS64를 하지 않습니다',
    'selftest_ipv4only-arpa_fix-prefix-known':
      '프리픽스가 PREF64나 --prefix에서 오는 동안은 할 일이 없습니다. IPv4 전용 이름에는 --dns64 auto가 필요합니다',
    'selftest_ipv4only-arpa_fix-no-prefix':
      '--prefix를 주거나, 네트워크 운영자에게 라우터 광고에 PREF64를 넣어 달라고 요청하세요',
    'selftest_path-mtu_title': 'NAT64까지의 경로 MTU (DF 설정 ping)',
    'selftest_path-mtu_inactive': '아직 사용 중인 NAT64 프리픽스나 MTU가 없습니다',
    'selftest_path-mtu_pass': '{{mtu}}바이트 패킷이 조각나지 않고 {{dst}}에 도달합니다',
    'selftest_path-mtu_no-echo': '{{dst}}가 ping에 전혀 응답하지 않아 경로 MTU를 잴 수 없습니다',
    'selftest_path-mtu_fail':
      '{{mtu}}바이트 패킷은 {{dst}}에 닿지 않고 작은 패킷은 닿습니다: 경로 MTU가 CLAT이 가정한 값보다 작습니다',
    'selftest_path-mtu_fix': '더 작은 --mtu로 엔진을 다시 시작하세요 (1280은 항상 됩니다)',
    'selftest_dns64-stub_title': 'DNS64 스텁 응답',
    'selftest_dns64-stub_not-running': 'DNS64 스텁이 실행되고 있지 않습니다 (--dns64 off)',
    'selftest_dns64-stub_pass': '{{listen}}가 {{name}}에 대해 AAAA {{addresses}}를 주었습니다',
    'selftest_dns64-stub_fail': '{{listen}}가 {{name}}에 대해 AAAA를 주지 않았습니다 ({{error}})',
    'selftest_dns64-stub_fix': '스텁의 상위 리졸버는 엔진 로그(clatbar logs)에서 확인하세요',
    selftest_firewall_title: '변환된 트래픽을 버릴 방화벽 규칙',
    'selftest_firewall_no-tun': '아직 TUN이나 업링크가 없습니다',
    selftest_firewall_fail: '{{findings}}',
    selftest_firewall_unchecked: '{{findings}}',
    selftest_firewall_fix: '{{fixes}}',
    selftest_firewall_pass: 'CLAT의 트래픽을 버릴 규칙을 찾지 못했습니다',
    uplink_none: '업링크로 쓸 수 있는 인터페이스가 없습니다: {{passed}}',
    'uplink_no-default-route': 'IPv6 기본 경로가 있는 인터페이스가 없습니다',
    // ---- 엔진 로그 줄 (say.ts) ----
    'clat_tun-sysctls': '{{tun}}: rp_filter 느슨하게(loose), 라우터 광고 받지 않음',
    'clat_accept-ra-raised': '{{uplink}}: accept_ra 1 -> 2, 포워딩을 켜도 라우터 광고를 계속 받도록 했습니다',
    'clat_accept-ra-kept':
      '{{uplink}}: accept_ra가 {{value}}이므로 그대로 둡니다 (0은 정적 주소, 2는 이미 맞는 값)',
    'clat_forwarding-on': '{{uplink}}: IPv6 포워딩 켬 (proxy-ND는 포워딩이 켜진 인터페이스에서만 응답합니다)',
    'clat_force-forwarding-on':
      '{{uplink}}, {{tun}}: force_forwarding 켬; 호스트의 나머지는 라우터가 되지 않습니다',
    'clat_global-forwarding-on':
      'net.ipv6.conf.all.forwarding 켬 (이 커널에는 인터페이스별 force_forwarding이 없습니다)',
    'clat_proxy-ndp-on': '{{uplink}}: proxy_ndp 켬, 지연 없이 바로 응답 (proxy_delay 0)',
    'clat_ipv6-address-routed':
      'CLAT IPv6 {{address}}: {{tun}}으로 라우팅하고, {{uplink}}에서 proxy-ND로 대신 응답합니다',
    'clat_default-route-added':
      '{{tun}}을 거치는 IPv4 기본 경로 추가, 메트릭 {{metric}} (기본 IPv4 경로가 있으면 그쪽이 우선), MTU {{ipv4Mtu}} = IPv6 경로 MTU {{ipv6Mtu}} - 28',
    dns64_upstreams: 'DNS64 업스트림 ({{source}}에서 가져옴): {{servers}}',
    'dns64_upstreams-domains':
      'DNS64 업스트림 ({{source}}에서 가져옴): {{servers}} (그쪽 도메인: {{domains}})',
    dns64_started: 'DNS64({{mode}})가 {{address}}:53에서 동작, {{how}} 경유, 리졸버 {{count}}개로 전달',
    journal_undone: '되돌림: {{what}}',
    'journal_undo-failed': '되돌리지 못함: {{what}}: {{error}}',
    'clat_tun-error': 'TUN 오류 (이 종류로는 처음, 이후는 개수만 셉니다): {{error}}',
    'clat_txqueuelen-failed': '{{tun}}의 txqueuelen을 {{length}}(으)로 설정하지 못했습니다: {{error}}',
    'clat_little-headroom': '{{tun}}: 헤드룸이 {{bytes}}바이트뿐이라 IPv4 -> IPv6 변환 때 패킷을 복사합니다',
    'inbound_allow-without-nft':
      '인바운드: 허용 (--inbound allow); {{nft}}가 설치되어 있지 않아 네트워크에서 CLAT을 거쳐 들어오는 DNS 질의를 막지 못합니다',
    inbound_deny:
      '인바운드: 거부: 이 호스트가 시작한 흐름의 응답(과 그에 대한 ICMP 오류)만 {{tun}}으로 들어옵니다; 나머지는 세고 버립니다 (nftables 테이블 {{table}} ({{tun}}에서 inbound deny), 커널 연결 추적)',
    inbound_allow:
      '인바운드: 허용 (--inbound allow): IPv6 네트워크의 누구나 {{tun}}을 거쳐 이 호스트의 IPv4 서비스에 접속할 수 있습니다; 그쪽에서 스텁으로 오는 DNS 질의는 여전히 버립니다 (nftables 테이블 {{table}} ({{tun}}에서 inbound allow))',
    journal_recovered: '복구: 이전 실행이 남긴 변경 {{total}}개 중 {{undone}}개를 되돌렸습니다',
    clat_uplink:
      '업링크 {{uplink}}: {{subnet}} 안의 {{address}}, IPv6 기본 경로 {{gateway}} 경유, MTU {{mtu}}',
    'clat_mtu-capped': '--mtu {{mtu}}가 {{uplink}}의 MTU {{linkMtu}}보다 커서 {{using}}을 씁니다',
    clat_prefix: 'NAT64 프리픽스 {{prefix}}, {{from, message}}',
    'prefix-from_configured': '설정값 (--prefix)',
    'prefix-from_pref64': '{{router}}의 라우터 광고 PREF64에서 받음 (RFC 8781), 수명 {{lifetime}}초',
    'prefix-from_pref64-unknown-router': '라우터 광고 PREF64에서 받음 (RFC 8781), 수명 {{lifetime}}초',
    'prefix-from_rfc7050': '{{servers}}가 합성한 ipv4only.arpa에서 알아냄 (RFC 7050)',
    'prefix-from_rfc7050-unknown-servers': '네트워크 리졸버가 합성한 ipv4only.arpa에서 알아냄 (RFC 7050)',
    'clat_dad-duplicate': 'DAD: {{address}}는 {{uplink}}에서 이미 쓰이고 있어 다른 주소를 시도합니다',
    'clat_dad-free': 'DAD: {{address}}는 비어 있습니다',
    'clat_dad-off': '{{uplink}}에서 DAD가 꺼져 있어 {{address}}를 확인 없이 씁니다',
    clat_addresses: 'CLAT 주소: {{ipv4}} <-> {{ipv6}}',
    'clat_addresses-neutral':
      'CLAT 주소: {{ipv4}} <-> {{ipv6}} (체크섬 중립: 변환해도 TCP/UDP 체크섬이 바뀌지 않습니다)',
    'clat_tun-up': '{{tun}}: 올라옴, MTU {{mtu}}',
    'clat_tun-up-details': '{{tun}}: 올라옴, MTU {{mtu}}, {{details}}',
    firewall_warning: '방화벽 경고: {{where}}: {{problem}}',
    'firewall_to-allow': '  허용하려면: {{fix}}',
    'firewall_nothing-found': '방화벽: 변환된 트래픽을 버릴 규칙을 찾지 못했습니다',
    clat_up: 'CLAT 작동 시작: 이제 IPv4 앱이 NAT64를 거쳐 IPv4 인터넷에 연결됩니다',
    'clat_bring-up-failed': '시작 실패: {{error}}; 지금까지 한 변경을 되돌립니다',
    'resolvers_uplink-unreadable': '{{uplink}}의 리졸버를 읽지 못했습니다 ({{error}}); resolv.conf를 봅니다',
    discovery_looking:
      '--prefix 없음: {{uplink}}에서 NAT64 프리픽스를 찾습니다 (PREF64용 라우터 요청, RFC 8781; {{servers}}에 ipv4only.arpa AAAA 질의, RFC 7050)',
    'discovery_looking-no-resolvers':
      '--prefix 없음: {{uplink}}에서 NAT64 프리픽스를 찾습니다 (PREF64용 라우터 요청, RFC 8781; ipv4only.arpa를 물어볼 리졸버를 모름)',
    'clat_prefix-differs':
      '네트워크가 PREF64로 NAT64 프리픽스 {{prefix}}를 알립니다 (라우터 {{router}}); 지정한 대로 --prefix {{configured}}를 씁니다 (네트워크를 따르려면 --prefix를 빼세요)',
    'clat_prefix-gone':
      'NAT64 프리픽스: {{was}}가 사라졌고 대신할 것이 없습니다; 네트워크가 다시 프리픽스를 알릴 때까지 IPv4 패킷은 변환하지 않고 버립니다',
    'clat_prefix-none':
      'NAT64 프리픽스 없음: 네트워크가 프리픽스를 알릴 때까지 IPv4 패킷은 변환하지 않고 버립니다',
    'clat_prefix-fixed':
      '네트워크의 NAT64 프리픽스가 이제 {{prefix}}이지만, 이 데이터 경로는 실행 중에 프리픽스를 바꿀 수 없습니다; clatbar를 다시 시작하세요',
    'clat_prefix-changed':
      'NAT64 프리픽스 변경: {{was}} ({{wasSource}}) -> {{prefix}} ({{from, message}}); 변환기가 지금부터 이것을 씁니다',
    'clat_prefix-arrived':
      'NAT64 프리픽스 변경: 없음 -> {{prefix}} ({{from, message}}); 변환기가 지금부터 이것을 씁니다',
    'clat_prefix-not-neutral':
      '이제 패킷마다 체크섬을 조정합니다: 새 NAT64 프리픽스로는 CLAT 주소가 체크섬 중립이 아닙니다',
    'clat_prefix-switch-failed': 'NAT64 프리픽스를 바꾸는 중 오류: {{error}}',
    'clat_default-route-withdrawn':
      '{{tun}}을 거치는 IPv4 기본 경로를 뺐습니다; CLAT의 나머지는 준비된 채로 있습니다',
    'clat_default-route-restored':
      '{{tun}}을 거치는 IPv4 기본 경로를 되살렸습니다: IPv4 앱이 다시 NAT64를 거쳐 IPv4 인터넷에 연결됩니다',
    clat_stopping: '멈추는 중: CLAT을 내립니다',
    'clat_stop-step-failed': '멈추는 중 오류: {{error}}',
    'clat_stopped-incomplete': '멈췄지만 변경 {{failed}}개를 되돌리지 못했습니다 (위 참고)',
    clat_stopped: '멈췄습니다; 호스트는 원래 상태 그대로입니다',
    journal_recovering: '복구 중: pid {{pid}}(시작 {{startedAt}})가 남긴 변경 {{count}}개를 되돌립니다',
    uplink_gone:
      '{{uplink}}가 사라졌습니다: 돌아올 때까지 CLAT을 거치는 IPv4가 멈춥니다 (또는 clatbar를 멈추세요)',
    'uplink_new-device':
      '{{uplink}}가 새 장치로 돌아왔습니다: 장치 설정(forwarding, proxy_ndp, accept_ra)이 기본값으로 돌아갔으므로 CLAT을 거치는 IPv4를 쓰려면 clatbar run을 다시 시작해야 합니다',
    uplink_down: '{{uplink}}가 내려갔습니다: 다시 올라올 때까지 CLAT을 거치는 IPv4가 잠시 멈춥니다',
    'uplink_up-again': '{{uplink}}가 다시 올라왔습니다',
    'uplink_left-subnet':
      '{{uplink}}에 더 이상 {{subnet}} 주소가 없습니다: 돌아올 때까지 CLAT 주소 {{address}}는 링크 밖입니다 (다른 네트워크라면 clatbar run을 새로 해야 합니다)',
    'uplink_back-in-subnet': '{{uplink}}에 다시 {{subnet}} 주소가 생겼습니다',
    'uplink_proxy-nd-restored':
      '{{uplink}}: {{address}}의 proxy-ND 항목이 사라졌습니다 (링크가 내려가면 커널이 지웁니다); 다시 넣었습니다',
    'uplink_proxy-nd-restore-failed':
      '{{uplink}}: {{address}}의 proxy-ND 항목을 다시 넣지 못했습니다: {{error}}',
    'uplink_watch-failed':
      '{{uplink}}를 지켜볼 수 없습니다 (ip monitor: {{error}}); {{uplink}}가 내려갔다 올라와도 복구하지 않습니다',
    netwatch_failed: '네트워크 변화를 지켜볼 수 없습니다: {{error}}',
    'netwatch_monitor-failed': '네트워크 변화를 지켜볼 수 없습니다 ({{command}} monitor: {{error}})',
    'discovery_ra-unreadable':
      '{{uplink}}의 라우터 광고를 읽을 수 없습니다 ({{error}}); PREF64를 지켜보지 않습니다',
    'discovery_ra-read-error': '{{uplink}}의 라우터 광고를 읽는 중 오류: {{error}}',
    'discovery_rs-failed': '{{uplink}}에서 라우터 요청(RS)을 보내지 못했습니다: {{error}}',
    'discovery_rfc7050-silent': '{{servers}}에서 ipv4only.arpa 응답이 없습니다; {{prefix}}를 유지합니다',
    'discovery_rfc7050-rejected': 'ipv4only.arpa 응답을 쓰지 않음: {{reason}}',
    'discovery_rfc7050-several':
      'ipv4only.arpa가 프리픽스 {{count}}개를 줍니다 ({{prefixes}}); 첫 번째를 씁니다',
    'discovery_too-many-problems': '서로 다른 탐색 문제가 {{max}}개를 넘었습니다; 이후 문제는 개수만 셉니다',
    'discovery_pref64-ignored': '{{router}}의 PREF64 옵션 무시: {{detail}} ({{problem}})',
    'discovery_pref64-withdrawn':
      '라우터 {{router}}가 NAT64 프리픽스 {{prefix}}를 거둬들였습니다 (PREF64 수명 0)',
    'discovery_pref64-expired':
      '{{router}}의 NAT64 프리픽스 {{prefix}}가 만료되었습니다 (새 라우터 광고 없이 PREF64 수명 {{lifetime}}초가 지났습니다)',
    'dns64_probe-failed': 'DNS64 확인 실패: {{error}}',
    dns64_prefix: 'NAT64 프리픽스가 이제 {{prefix}}; 캐시를 비웠습니다',
    'dns64_no-prefix': 'NAT64 프리픽스 없음 (질의를 그대로 전달); 캐시를 비웠습니다',
    'dns64_upstreams-changed': '업스트림 리졸버가 이제 {{servers}}; 캐시를 비웠습니다',
    'dns64_no-fast-path': '캐시 적중을 JS에서 응답합니다: {{error}}',
    'dns64_probe-silent-passing':
      '업스트림이 DNS64를 하는지 물어볼 수 없었습니다 (응답 없음); 계속 그대로 전달합니다',
    'dns64_probe-silent-synthesizing':
      '업스트림이 DNS64를 하는지 물어볼 수 없었습니다 (응답 없음); 직접 합성합니다',
    'dns64_upstreams-do-dns64':
      '업스트림이 이미 DNS64를 합니다 (ipv4only.arpa = {{addresses}}): AAAA 질의를 그대로 전달합니다',
    dns64_synthesizing: '업스트림이 DNS64를 하지 않습니다: AAAA 레코드를 직접 합성합니다',
    'dns64_tcp-listener-error': 'TCP 리스너 {{address}}: {{error}}',
    'dns64_udp-listener-error': 'UDP 리스너 {{address}}: {{error}}',
    dns64_listening: '{{address}}에서 대기 중 (UDP와 TCP)',
    'dns64_udp-unbatched': 'UDP를 배치 없이 처리 (node:dgram): {{reason}}',
    'dns64_internal-error': '{{client}}의 질의를 처리하다 내부 오류: {{error}}',
    'dns64_internal-error-tcp': 'TCP 질의를 처리하다 내부 오류: {{error}}',
    'dns64_internal-error-answering': '{{name}}에 응답하다 내부 오류: {{error}}',
    'dns64_send-failed': '응답을 보내지 못했습니다: {{error}}',
    upstream_timeout:
      '업스트림 {{server}}가 {{ms}}ms 안에 응답하지 않았습니다 (시도할 다른 리졸버 {{others}}개)',
    'upstream_no-route':
      '업스트림 {{server}}에 닿을 수 없습니다: 이 호스트에 그쪽으로 가는 경로가 없습니다 ({{error}}); `ip route get`으로 확인하세요 (시도할 다른 리졸버 {{others}}개)',
    'upstream_no-address':
      '업스트림 {{server}}에 닿을 수 없습니다: 이 호스트에 그 주소 체계의 주소가 없습니다 ({{error}}) (시도할 다른 리졸버 {{others}}개)',
    upstream_firewall:
      '업스트림 {{server}}에 닿을 수 없습니다: 이 호스트의 방화벽 규칙이 질의를 막았습니다 ({{error}}) (시도할 다른 리졸버 {{others}}개)',
    upstream_unreachable:
      '업스트림 {{server}}에 닿을 수 없습니다: {{error}} (시도할 다른 리졸버 {{others}}개)',
    resolved_unwatched:
      'systemd-resolved: {{iface}} 설정의 변화를 지켜볼 수 없습니다 ({{error}}); 설정은 되어 있지만, 다른 프로그램이 초기화하면 clatbar를 다시 시작할 때까지 이름 질의가 합성 없이 업링크의 서버로 갑니다',
    resolved_hooked:
      'systemd-resolved: 이제 모든 DNS 이름이 {{iface}}(ifindex {{ifindex}})를 거쳐 {{address}}(DNS64 스텁)로 갑니다: 라우팅 도메인 ~., 기본 경로 yes, 그 링크에서 LLMNR, mDNS, DNSSEC, DNS-over-TLS 끔. 멈추면 되돌립니다 (RevertLink, 저널에 기록됨)',
    'resolved_hooked-uplink-kept':
      'systemd-resolved: 이제 모든 DNS 이름이 {{iface}}(ifindex {{ifindex}})를 거쳐 {{address}}(DNS64 스텁)로 갑니다: 라우팅 도메인 ~., 기본 경로 yes, 그 링크에서 LLMNR, mDNS, DNSSEC, DNS-over-TLS 끔; {{uplink}}는 바꾸지 않습니다. 멈추면 되돌립니다 (RevertLink, 저널에 기록됨)',
    'resolved_given-up':
      'systemd-resolved: {{iface}}의 설정이 1분 안에 {{times}}번 초기화되었습니다; 더 이상 되살리지 않습니다: 다른 프로그램이 {{iface}}의 DNS를 관리합니다 (NetworkManager라면 NetworkManager.conf에 unmanaged-devices=interface-name:{{iface}})',
    resolved_reapplied:
      'systemd-resolved: {{iface}}에 둔 설정이 사라졌습니다 ({{why}}); 다시 설정했습니다 (DNS {{address}}, ~.)',
    'resolved_check-failed': '{{error}} (그 링크의 설정이 빠져 있을 수 있습니다)',
    'resolved_uplink-claims-all':
      '참고: {{uplink}}도 systemd-resolved에 라우팅 도메인 ~.를 가지고 있어서 (도메인: {{domains}}), resolved가 그쪽 서버와 스텁에 동시에 묻습니다; IPv4 주소만 있는 이름은 합성된 AAAA를 못 받을 수 있지만, IPv4 앱은 CLAT을 거쳐 계속 동작합니다',
    resolvconf_hooked: '{{path}}가 이제 {{address}}만 네임서버로 씁니다 (이전 파일은 저널에 기록됨)',
    v6only_recovered: '복구: 이전 실행의 옵션 108 요청 {{total}}개 중 {{undone}}개를 되돌렸습니다',
    'v6only_read-failed': '옵션 108 때문에 NetworkManager에 {{uplink}}를 물어보지 못했습니다: {{error}}',
    v6only_error: '옵션 108: {{error}}',
    v6only_asking:
      '{{uplink}}에서 DHCPv4 옵션 108(IPv6 전용 선호, RFC 8925)을 요청합니다: NetworkManager {{version}}, 연결 {{connection}}',
    'v6only_ask-failed': '{{uplink}}에서 DHCPv4 옵션 108을 요청하지 못했습니다: {{error}}',
    v6only_released: '{{uplink}}({{connection}})에서 더 이상 DHCPv4 옵션 108을 요청하지 않습니다',
    'v6only_release-gone':
      '{{uplink}}({{connection}})의 옵션 108 요청은 되돌릴 필요가 없습니다: 장치나 NetworkManager가 사라지면서 적용된 연결도 함께 사라졌습니다',
    'v6only_release-other-activation':
      '{{uplink}}({{connection}})의 옵션 108 요청은 되돌릴 필요가 없습니다: 장치가 요청한 적 없는 다른 활성화로 동작 중입니다',
    'v6only_release-changed-by-someone-else':
      '{{uplink}}({{connection}})의 옵션 108 요청은 되돌릴 필요가 없습니다: 그 사이 다른 누군가가 설정을 바꿨습니다',
    'v6only_release-failed':
      '{{uplink}}에서 DHCPv4 옵션 108 요청을 거두지 못했습니다 ({{error}}); 저널로 되돌립니다',
    'policy_user-untrusted':
      '정책 파일 {{path}}를 쓰지 않습니다: {{reason}}; 기본값을 쓰고 선택은 저장하지 않습니다. root만 쓸 수 있는 디렉터리를 쓰거나(기본값 /var/lib/clatbar가 그렇습니다) 그렇게 만드세요: sudo chown root:root {{dir}} && sudo chmod 0700 {{dir}} (상위 디렉터리도 마찬가지)',
    'policy_user-untrusted-moved':
      '정책 파일 {{path}}를 믿을 수 없습니다 ({{detail}}); {{aside}}로 옮겨 두고 기본값을 씁니다',
    'policy_user-untrusted-kept':
      '정책 파일 {{path}}를 믿을 수 없고 ({{detail}}) 옮기지도 못했습니다 ({{error}}); 기본값을 씁니다',
    'policy_user-unreadable-moved':
      '정책 파일 {{path}}를 읽을 수 없습니다 ({{detail}}); {{aside}}로 옮겨 두고 기본값을 씁니다',
    'policy_user-unreadable-kept':
      '정책 파일 {{path}}를 읽을 수 없고 ({{detail}}) 옮기지도 못했습니다 ({{error}}); 기본값을 씁니다',
    'policy_user-invalid-moved':
      '정책 파일 {{path}}가 올바른 정책 파일이 아닙니다 ({{detail}}); {{aside}}로 옮겨 두고 기본값을 씁니다',
    'policy_user-invalid-kept':
      '정책 파일 {{path}}가 올바른 정책 파일이 아니고 ({{detail}}) 옮기지도 못했습니다 ({{error}}); 기본값을 씁니다',
    'policy_admin-untrusted':
      '관리자 정책 {{path}}를 무시합니다: {{reason}}; root 소유이고 그룹이나 다른 사용자가 쓸 수 없어야 하며, root만 쓸 수 있는 디렉터리 안에 있어야 합니다 (chown root: {{path}}; chmod 644 {{path}})',
    'policy_admin-unreadable': '관리자 정책 {{path}}를 무시합니다: {{error}}',
    'policy_admin-invalid':
      '관리자 정책 {{path}}를 무시합니다: 올바른 정책 파일이 아닙니다 ({{detail}}); 고친 뒤 SIGHUP을 보내세요 (systemctl reload clatbar-engine)',
    'control_refusals-not-logged':
      'control: 거부 {{count}}건을 더 로그에 남기지 않았습니다 (한꺼번에 너무 많음)',
    'control_no-credentials': 'control: 자격 증명을 읽을 수 없는 연결을 끊었습니다: {{error}}',
    'control_refused-full':
      'control: {{who}}의 연결을 거부했습니다: 엔진이 이미 연결 {{max}}개를 맡고 있습니다; 나중에 다시 시도하세요',
    'control_refused-reserved':
      'control: {{who}}의 연결을 거부했습니다: 연결이 너무 많습니다; 마지막 {{reserved}}개는 root와 {{group}} 그룹 몫입니다',
    'control_refused-per-uid':
      'control: {{who}}의 연결을 거부했습니다: uid {{uid}}가 이미 연결 {{max}}개를 쓰고 있습니다; 몇 개를 닫으세요 (트레이 앱이나 터미널마다 하나씩 씁니다)',
    'control_closed-oversize': 'control: {{who}} 연결을 닫았습니다: 요청이 {{bytes}}바이트를 넘습니다',
    'control_closed-stalled':
      'control: {{who}} 연결을 닫았습니다: 요청의 절반만 오고 {{ms}}ms 안에 나머지가 오지 않았습니다',
    'control_refused-method':
      'control: {{who}}의 "{{method}}"를 거부했습니다: root도 아니고 {{group}} 그룹도 아닙니다',
    'control_change-with-params': 'control: {{who}}가 {{method}} {{params}}를 요청했습니다',
    control_change: 'control: {{who}}가 {{method}}를 요청했습니다',
    'control_dropped-slow-reader':
      'control: {{who}} 연결을 끊었습니다: 응답을 읽지 않습니다 ({{bytes}}바이트 넘게 쌓임)',
    'daemon_no-system-bus':
      '시스템 버스 없음 ({{error}}); 네트워크 ID는 업링크, 라우터, /64의 해시로 만듭니다',
    daemon_reload: 'SIGHUP: 정책 파일을 다시 읽습니다',
    'daemon_evaluate-failed': '네트워크를 살펴보는 중 오류: {{error}}',
    daemon_uplink: '업링크: {{why, message}}',
    'daemon_no-uplink': '업링크 없음: {{why, message}}',
    daemon_network: '네트워크: {{name}} (ID {{id}})',
    'policy_save-failed': '네트워크 기록을 저장하지 못했습니다: {{error}}',
    'identity_networkmanager-failed': 'NetworkManager에 네트워크의 연결을 물어보지 못했습니다: {{error}}',
    'daemon_prefix-changed': '{{uplink}}의 NAT64 프리픽스: {{was}} -> {{prefix}} ({{source}})',
    'daemon_prefix-found': '{{uplink}}의 NAT64 프리픽스: 없음 -> {{prefix}} ({{source}})',
    'daemon_prefix-lost': '{{uplink}}의 NAT64 프리픽스: {{was}} -> 없음',
    'daemon_prepare-failed': '{{uplink}}에서 CLAT 주소를 미리 준비하지 못했습니다: {{error}}',
    'daemon_withdraw-failed': '{{error}}; 대신 CLAT을 멈춥니다',
    daemon_kept:
      '기본 IPv4가 생겼습니다: 다시 없어질 때를 대비해 CLAT은 {{seconds}}초 동안 IPv4 기본 경로 없이 준비된 채로 있습니다',
    'daemon_restore-failed': 'CLAT의 IPv4 기본 경로를 되살리지 못했습니다: {{error}}',
    'dns64_not-started': 'DNS64 스텁을 시작하지 않았습니다: {{error}}',
    'dns64_stop-failed': 'DNS64 스텁을 멈추는 중 오류: {{error}}',
    'daemon_clat-stopping': 'CLAT을 멈춥니다: {{why, message}}',
    teardown_incomplete: '변경 {{failed}}개를 되돌리지 못했습니다 (위 참고)',
    'daemon_why-grace-over': '기본 IPv4가 생긴 뒤의 유예 시간이 끝났습니다',
    'daemon_why-instance-changed': '업링크, 네트워크 또는 설정이 바뀌었습니다',
    'daemon_why-kept-changed': '업링크, 네트워크, 프리픽스 또는 설정이 바뀌었습니다',
    'daemon_why-restore-failed': '기본 경로를 되살리지 못했습니다',
    'daemon_why-engine-stops': '엔진이 멈춥니다',
    'daemon_override-enable-ends-network': '수동 켜기가 끝납니다: 노트북이 이제 다른 네트워크에 있습니다',
    'daemon_override-disable-ends-network': '수동 끄기가 끝납니다: 노트북이 이제 다른 네트워크에 있습니다',
    'daemon_override-enable-ends-offline':
      '수동 켜기가 끝납니다: {{seconds}}초 넘게 IPv6 기본 경로가 없습니다',
    'daemon_override-disable-ends-offline':
      '수동 끄기가 끝납니다: {{seconds}}초 넘게 IPv6 기본 경로가 없습니다',
    // {{state, state}}: the state's words in Korean (i18n.ts); the English line keeps the code.
    daemon_state: '상태 {{state, state}}: {{reason, message}} [계기: {{why, message}}]',
    'daemon_state-fix':
      '상태 {{state, state}}: {{reason, message}} (해결: {{fix, message}}) [계기: {{why, message}}]',
    daemon_asked: '{{what, message}} (uid {{uid}}, pid {{pid}}의 요청)',
    why_start: '시작',
    why_stop: '멈춤',
    why_reload: '정책 파일 다시 읽음',
    'why_prefix-changed': 'NAT64 프리픽스 변경',
    why_netlink: 'netlink 이벤트: {{event}}',
    'why_clock-jump': '벽시계가 {{seconds}}초 건너뜀 (절전 후 깨어남?)',
    'why_monitor-ended': 'ip monitor 종료',
    'why_grace-over': '유예 시간 끝남',
    'why_override-expired': '수동 설정 만료',
    'why_override-cleared': '수동 설정 해제',
    'why_clatbar-enable': 'clatbar enable (수동 켜기)',
    'why_clatbar-disable': 'clatbar disable (수동 끄기)',
    'change_manual-enable': '네트워크 {{network}}에서 수동으로 켬',
    'change_manual-disable': '네트워크 {{network}}에서 수동으로 끔',
    'change_override-cleared': '수동 설정 해제',
    change_policy: '네트워크 {{network}}의 정책을 {{policy}}(으)로 설정',
    'change_default-policy': '기본 정책을 {{policy}}(으)로 설정',
    'change_dns64-mode': 'DNS64 모드를 {{mode}}(으)로 설정',
    'change_network-option': '네트워크 {{network}}의 {{option}}을(를) {{value}}(으)로 설정',
    change_forget: '네트워크 {{network}}를 잊음',
    'clat_not-needed':
      '필요 없음: 이 호스트에 기본 IPv4가 있습니다 (기본 경로 {{via}} 경유); 기본 IPv4가 CLAT보다 항상 낫습니다. 그래도 실행하려면 --force를 쓰세요 (그때 우리 경로는 기본 경로에 밀립니다).',
    'clat_aborted-discovery': 'NAT64 프리픽스를 찾다가 멈췄습니다; 바뀐 것은 없습니다',
    'run_nothing-to-clean': '{{dir}}에 정리할 것이 없습니다',
    run_signal: '{{signal}} 받음',
    'run_status-hint': '상태 보기: clatbar status, 또는 {{socket}}에서 JSON-RPC "status"',
    'run_control-unavailable': '제어 소켓 {{socket}}를 쓸 수 없습니다: {{error}}',
    'memory_release-failed': '메모리를 돌려주지 못했습니다: {{error}}',
    memory_released: '안정됨: 메모리를 돌려줌, RSS {{before}} -> {{after}} MB ({{ms}}ms)',
    daemon_starting: 'clatbar 엔진(데몬) 시작: pid {{pid}}, 상태는 {{stateDir}}, 선택은 {{dataDir}}에 저장',
    daemon_stopped: '멈췄습니다; 호스트는 원래 상태 그대로입니다',
    'daemon_stopped-incomplete': '멈췄지만 되돌리지 못한 변경이 있습니다 (위 참고)',
  },
} as const satisfies Catalog;
