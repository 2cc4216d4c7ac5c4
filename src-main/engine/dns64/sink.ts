// Where a DNS64 reply goes: the datagram socket and client address, the batched socket's
// address table entry, or the TCP connection a query came on.
import type dgram from 'node:dgram';
import type { BatchUdpSocket } from '../native/batch-socket.js';
import type { TcpConn } from './tcp.js';

/** A reply address; null in its place means the datagram being handled in a batch. */
export type Sink =
  | { kind: 'dgram'; sock: dgram.Socket; port: number; address: string }
  | { kind: 'batch'; sock: BatchUdpSocket; addr: Buffer; port: number; scope: number }
  | { kind: 'tcp'; conn: TcpConn };

/** The reply address of a query as the server gets it; null for the datagram being handled in a batch. */
export function replyTo(
  sock: dgram.Socket | null,
  rinfo: dgram.RemoteInfo | null,
  conn: TcpConn | null,
): Sink | null {
  if (conn) return { kind: 'tcp', conn };
  if (sock && rinfo) return { kind: 'dgram', sock, port: rinfo.port, address: rinfo.address };
  return null;
}

/**
 * A reply address that outlives the batch (the batch's address table is reused): for the
 * datagram at index i of batch socket cur, a copy of its address.
 */
export function durableReplyTo(
  sock: dgram.Socket | null,
  rinfo: dgram.RemoteInfo | null,
  conn: TcpConn | null,
  cur: BatchUdpSocket | null,
  i: number,
): Sink {
  const h = replyTo(sock, rinfo, conn);
  if (h) return h;
  const b = cur as BatchUdpSocket;
  return {
    kind: 'batch',
    sock: b,
    addr: Buffer.from(b.addrs.subarray(i * 16, i * 16 + 16)),
    port: b.ports[i],
    scope: b.scopes[i],
  };
}
