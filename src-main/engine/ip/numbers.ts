// Numbers with meaning on the wire, defined once: IANA protocol numbers (the IPv4 Protocol and
// IPv6 Next Header fields share one registry) and the ICMPv4 / ICMPv6 types and codes the
// translator, the CLAT and discovery read or write. Plain `const` numbers, not enums or objects:
// V8 inlines them on the data path like the literals they replace.

// IANA "Assigned Internet Protocol Numbers".
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_DSTOPTS = 60;

// ICMPv4 types (RFC 792) and the codes used here.
export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_DEST_UNREACH = 3;
export const ICMP4_SOURCE_QUENCH = 4;
export const ICMP4_REDIRECT = 5;
export const ICMP4_ECHO = 8;
export const ICMP4_TIME_EXCEEDED = 11;
export const ICMP4_PARAM_PROBLEM = 12;
/** Destination Unreachable codes (RFC 792, RFC 1812 §5.2.7.1). */
export const ICMP4_PROTOCOL_UNREACH = 2;
export const ICMP4_PORT_UNREACH = 3;
export const ICMP4_FRAG_NEEDED = 4;
export const ICMP4_SOURCE_ROUTE_FAILED = 5;
export const ICMP4_ADMIN_PROHIBITED = 13;
/** Time Exceeded code 0: TTL exceeded in transit. */
export const ICMP4_TTL_EXCEEDED = 0;

// ICMPv6 types (RFC 4443, RFC 4861) and the codes used here.
export const ICMP6_DEST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROBLEM = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ICMP6_ROUTER_ADVERT = 134;
/** Destination Unreachable code 1: communication administratively prohibited. */
export const ICMP6_ADMIN_PROHIBITED = 1;
/** Time Exceeded code 0: hop limit exceeded in transit. */
export const ICMP6_HOP_LIMIT_EXCEEDED = 0;
/** Parameter Problem code 0: erroneous header field (the pointer says which). */
export const ICMP6_ERRONEOUS_HEADER = 0;
/** RFC 4443 §2.1: types below 128 are errors. */
export const ICMP6_INFO_MIN = 128;
