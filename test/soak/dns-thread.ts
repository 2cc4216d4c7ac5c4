// The DNS stage's other threads: the DNS64 stub, and the hostile upstream, each in a worker
// thread of its own, as they are processes of their own outside the soak. Sharing the stage's
// thread with its clients, whose CPU work (encoding, mutating, decoding a million messages) is
// far larger than theirs, the stub's answers waited on the clients' turn of the event loop, and
// the upstream's replies on the stub's 400 ms attempt timers: on the loaded machine nearly
// every upstream attempt timed out and answers took seconds. Messages: the worker posts
// { port } once it listens; { stop: true } makes it stop and post { done } with its numbers;
// exceptions anywhere in it are posted as { exception }.
import { parentPort, workerData } from 'node:worker_threads';
import { localStub } from '../dns64/helpers.js';
import { startHostileUpstream, type HostileUpstream } from './hostile-upstream.js';

export type DnsThreadData = { role: 'stub'; upstreamPort: number } | { role: 'upstream'; seed: number };

const port = parentPort!;
const data = workerData as DnsThreadData;
const onException = (err: unknown) =>
  port.postMessage({ exception: `${data.role}: ${(err as Error)?.stack ?? String(err)}` });
process.on('uncaughtException', onException);
process.on('unhandledRejection', onException);

if (data.role === 'stub') {
  // The stub as the stage has always configured it: short upstream timeouts so that silent
  // upstreams cost little, the default 4 s answer deadline.
  const server = localStub(data.upstreamPort, {
    timeoutMs: 400,
    attempts: 2,
    tcpIdleMs: 1000,
    cache: { maxEntries: 1000 },
    warn: () => {},
    log: () => {},
  });
  await server.start();
  port.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    const stats = server.stats;
    void server.stop().then(() => {
      port.postMessage({ done: { stats } });
      port.close();
    });
  });
  port.postMessage({ port: server.boundAddresses()[0].port });
} else {
  let upstream: HostileUpstream | null = null;
  for (let i = 0; i < 20 && !upstream; i++)
    upstream = await startHostileUpstream(data.seed).catch(() => null);
  if (!upstream)
    throw new Error('could not bind the hostile upstream to a port free for UDP and TCP on 127.0.0.1');
  const up = upstream;
  port.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    void up.stop().then(() => {
      port.postMessage({ done: { answered: up.answered } });
      port.close();
    });
  });
  port.postMessage({ port: up.port });
}
