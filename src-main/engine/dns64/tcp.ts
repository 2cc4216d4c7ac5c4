// DNS over TCP for the DNS64 (RFC 7766): length-prefixed frames, pipelined queries answered as
// they complete, bounded in what a client can make us hold.
import type net from 'node:net';
import { say, type Say } from '../../shared/say.js';

/** Queries one connection may have in flight before we stop reading from it. */
export const MAX_TCP_PIPELINE = 64;

export interface TcpConn {
  sock: net.Socket;
  inflight: number;
  closed: boolean;
}

export interface TcpHandlers {
  /** One query frame (without its length prefix). */
  frame: (frame: Buffer, conn: TcpConn) => void;
  /** A frame too short to be a query: the connection is closed. */
  tooShort: () => void;
  warn: Say;
  closed: (conn: TcpConn) => void;
}

/** Reads frames from an accepted connection until it closes or idles for idleMs. */
export function serveTcp(sock: net.Socket, idleMs: number, h: TcpHandlers): TcpConn {
  const conn: TcpConn = { sock, inflight: 0, closed: false };
  sock.setNoDelay(true);
  // Idle means nothing owed either way: a connection whose queries are still being resolved is
  // kept (closing it would throw their answers away; RFC 7766 §6.2.4 has the client retry them
  // then), and looked at again idleMs later. A listener of our own: setTimeout's callback is
  // called once only.
  sock.on('timeout', () => {
    if (conn.inflight === 0) sock.destroy();
    else sock.setTimeout(idleMs);
  });
  sock.setTimeout(idleMs);
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      // RFC 7766 §8: a frame too short to hold a header cannot be answered; the stream is
      // unusable after it, so the connection goes.
      if (len < 12) {
        h.tooShort();
        sock.destroy();
        return;
      }
      if (buf.length < 2 + len) break;
      const frame = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      try {
        h.frame(frame, conn);
      } catch (err) {
        h.warn(say('dns64.internal-error-tcp', { error: (err as Error).message }));
        sock.destroy();
        return;
      }
      if (conn.inflight >= MAX_TCP_PIPELINE) sock.pause();
    }
  });
  const close = (): void => {
    conn.closed = true;
    h.closed(conn);
  };
  sock.on('error', close);
  sock.on('close', close);
  return conn;
}

/** One framed reply; a client that stops reading is not allowed to make us buffer without end. */
export function sendTcp(out: Buffer, conn: TcpConn): void {
  if (conn.closed || conn.sock.destroyed) return;
  if (conn.sock.writableLength > 1 << 20) {
    conn.sock.destroy();
    return;
  }
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(out.length);
  conn.sock.cork();
  conn.sock.write(len);
  conn.sock.write(out);
  conn.sock.uncork();
}
