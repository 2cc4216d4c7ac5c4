// The DNS64's UDP listeners: the native batched sockets (recvmmsg/sendmmsg, native/batch-socket.ts)
// or node:dgram where those are not available. Opening them is here; what a datagram does is
// server.ts.
import dgram from 'node:dgram';
import net from 'node:net';
import { BatchUdpSocket } from '../native/batch-socket.js';
import { literalLookup } from '../dns/upstream.js';
import type { ListenAddress } from './options.js';
import { say, type Say } from '../../shared/say.js';

/** A batched UDP listener; the caller attaches onBatch. */
export function openBatchListener(l: ListenAddress, batch: number, warn: Say): BatchUdpSocket {
  const sock = BatchUdpSocket.open({
    address: l.address,
    port: l.port,
    ipv6Only: net.isIPv6(l.address),
    batch,
    // Queries are small; a bigger one (there is no reason for it) is dropped, as dgram would
    // never have dropped it, but no client sends queries that long.
    slotSize: 4096,
    rcvbuf: 4 << 20,
    sndbuf: 4 << 20,
  });
  sock.onError((err) => warn(say('dns64.udp-listener-error', { address: l.address, error: err.message })));
  return sock;
}

/** A node:dgram listener, bound; the caller attaches 'message'. */
export async function openDgramListener(
  l: ListenAddress,
  family: 'udp4' | 'udp6',
  warn: Say,
): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: family, ipv6Only: family === 'udp6', lookup: literalLookup });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(l.port, l.address, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  try {
    sock.setRecvBufferSize(4 << 20);
    sock.setSendBufferSize(4 << 20);
  } catch {
    // Bigger buffers only absorb bursts; the kernel's limits are fine without them.
  }
  sock.on('error', (err) =>
    warn(say('dns64.udp-listener-error', { address: l.address, error: err.message })),
  );
  return sock;
}
