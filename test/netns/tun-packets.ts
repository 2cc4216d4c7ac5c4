// Packet building and checking for the TUN tests: just enough IPv4/IPv6/TCP/UDP/ICMP to answer a
// ping, echo UDP, craft GSO super-packets and verify what the kernel segments them into. Written
// from the RFCs (791, 8200, 793, 768, 792, 1071), independent of the translator under test.
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';

/** RFC 1071 sum of `b[start..end)` plus `init`, folded to 16 bits, not complemented. */
export function sum16(b: Uint8Array, start: number, end: number, init = 0): number {
  let s = init;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function get16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}
export function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}
export function get32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
function put32(b: Uint8Array, i: number, v: number): void {
  put16(b, i, v >>> 16);
  put16(b, i + 2, v & 0xffff);
}

export interface L4 {
  version: 4 | 6;
  proto: number;
  /** Offset of the L4 header within the packet. */
  l4: number;
  l4Len: number;
}

/** IP version, protocol and L4 location; no extension headers (the tests send none). */
export function parseIp(p: Uint8Array): L4 {
  const version = p[0] >> 4;
  if (version === 4) {
    const ihl = (p[0] & 15) * 4;
    return { version: 4, proto: p[9], l4: ihl, l4Len: get16(p, 2) - ihl };
  }
  if (version === 6) return { version: 6, proto: p[6], l4: 40, l4Len: get16(p, 4) };
  throw new Error(`not an IP packet (version ${version})`);
}

/** Pseudo-header sum (RFC 793 §3.1, RFC 8200 §8.1) for the given L4 length. */
export function pseudoSum(p: Uint8Array, ip: L4, l4Len: number): number {
  if (ip.version === 4) return sum16(p, 12, 20, ip.proto + l4Len);
  return sum16(p, 8, 40, ip.proto + (l4Len >>> 16) + (l4Len & 0xffff));
}

/** True when the L4 checksum (TCP, UDP, ICMP, ICMPv6) verifies. */
export function l4ChecksumOk(p: Uint8Array): boolean {
  const ip = parseIp(p);
  const init = ip.version === 4 && ip.proto === 1 ? 0 : pseudoSum(p, ip, ip.l4Len);
  return sum16(p, ip.l4, ip.l4 + ip.l4Len, init) === 0xffff;
}

export function ipv4HeaderOk(p: Uint8Array): boolean {
  return sum16(p, 0, (p[0] & 15) * 4) === 0xffff;
}

/** Swaps source and destination addresses (and ports for TCP/UDP); checksums stay valid. */
export function swapInPlace(p: Uint8Array): void {
  const ip = parseIp(p);
  const [a, n] = ip.version === 4 ? [12, 4] : [8, 16];
  for (let i = 0; i < n; i++) [p[a + i], p[a + n + i]] = [p[a + n + i], p[a + i]];
  if (ip.proto === 6 || ip.proto === 17)
    for (let i = 0; i < 2; i++) [p[ip.l4 + i], p[ip.l4 + 2 + i]] = [p[ip.l4 + 2 + i], p[ip.l4 + i]];
}

/** Turns an ICMP echo request into its reply in place; false if it is not an echo request. */
export function icmpEchoReplyInPlace(p: Uint8Array): boolean {
  const ip = parseIp(p);
  if (ip.version !== 4 || ip.proto !== 1 || p[ip.l4] !== 8) return false;
  swapInPlace(p);
  p[ip.l4] = 0;
  put16(p, ip.l4 + 2, 0);
  put16(p, ip.l4 + 2, ~sum16(p, ip.l4, ip.l4 + ip.l4Len) & 0xffff);
  return true;
}

function addrBytes(a: string): number[] {
  if (a.includes('.')) return a.split('.').map(Number);
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 255];
  });
}

export interface SuperPacket {
  packet: Uint8Array;
  /** 10-byte virtio_net_hdr, little-endian. */
  vnet: Uint8Array;
  payload: Uint8Array;
  headerLen: number;
}

/**
 * A TCP or UDP GSO super-packet from `src` to `dst` carrying `payload`, cut by the kernel into
 * `gsoSize`-byte segments. As a virtio device would hand it over: checksum left partial
 * (NEEDS_CSUM, the pseudo-header sum over the whole L4 length in the checksum field).
 */
export function superPacket(
  proto: 'tcp' | 'udp',
  src: string,
  dst: string,
  payload: Uint8Array,
  gsoSize: number,
  seq = 1000,
): SuperPacket {
  const v6 = src.includes(':');
  const ipLen = v6 ? 40 : 20;
  const l4Hdr = proto === 'tcp' ? 20 : 8;
  const headerLen = ipLen + l4Hdr;
  const p = new Uint8Array(headerLen + payload.length);
  const l4Len = l4Hdr + payload.length;
  const protoNum = proto === 'tcp' ? 6 : 17;
  if (v6) {
    p[0] = 0x60;
    put16(p, 4, l4Len);
    p[6] = protoNum;
    p[7] = 64;
    p.set(addrBytes(src), 8);
    p.set(addrBytes(dst), 24);
  } else {
    p[0] = 0x45;
    put16(p, 2, p.length);
    put16(p, 4, 0x1234);
    p[6] = 0x40; // DF, as TCP sets it
    p[8] = 64;
    p[9] = protoNum;
    p.set(addrBytes(src), 12);
    p.set(addrBytes(dst), 16);
    put16(p, 10, ~sum16(p, 0, 20) & 0xffff);
  }
  put16(p, ipLen, 40000);
  put16(p, ipLen + 2, 5201);
  if (proto === 'tcp') {
    put32(p, ipLen + 4, seq);
    put32(p, ipLen + 8, 1);
    p[ipLen + 12] = 5 << 4;
    p[ipLen + 13] = 0x18; // PSH|ACK
    put16(p, ipLen + 14, 65535);
  } else {
    put16(p, ipLen + 4, l4Len);
  }
  p.set(payload, headerLen);
  const ip = parseIp(p);
  const csumOffset = proto === 'tcp' ? 16 : 6;
  put16(p, ipLen + csumOffset, pseudoSum(p, ip, l4Len));
  const vnet = new Uint8Array(10);
  const gsoType = proto === 'udp' ? 5 : v6 ? 4 : 1;
  vnet[0] = 1; // NEEDS_CSUM
  vnet[1] = gsoType;
  vnet[2] = headerLen & 255;
  vnet[3] = headerLen >> 8;
  vnet[4] = gsoSize & 255;
  vnet[5] = gsoSize >> 8;
  vnet[6] = ipLen;
  vnet[8] = csumOffset;
  return { packet: p, vnet, payload, headerLen };
}

/** Runs a command in a namespace without blocking the event loop (the TUN is served from it). */
export function runAsync(
  lab: Lab,
  ns: string,
  cmd: string,
  args: string[],
  opts: { input?: string } = {},
): { child: ChildProcess; done: Promise<string> } {
  const child = lab.spawn(ns, cmd, args);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, sig) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? sig}: ${err}${out}`)),
    );
  });
  return { child, done };
}

/** Runs a CommonJS Node script inside a namespace (stdin carries the script). */
export function nodeIn(lab: Lab, ns: string, script: string): { child: ChildProcess; done: Promise<string> } {
  return runAsync(lab, ns, process.execPath, ['--input-type=commonjs', '-'], { input: script });
}
