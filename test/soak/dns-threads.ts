// Starts and stops the DNS stage's stub and hostile upstream in their worker threads
// (dns-thread.ts says why they have threads of their own).
import { Worker } from 'node:worker_threads';
import type { Dns64Stats } from '../../src-main/engine/dns64/server.js';
import type { DnsThreadData } from './dns-thread.js';

const ENTRY = new URL('./dns-thread.js', import.meta.url);

export interface DnsThread<Done> {
  port: number;
  /** Stops what runs there; its numbers (null: the thread had died). */
  stop(): Promise<Done | null>;
}

function start<Done>(data: DnsThreadData, onException: (e: string) => void): Promise<DnsThread<Done>> {
  const w = new Worker(ENTRY, { workerData: data });
  let done: (d: Done | null) => void = () => {};
  const finished = new Promise<Done | null>((r) => (done = r));
  w.on('exit', () => done(null));
  return new Promise((resolve, reject) => {
    w.on('message', (m: { port?: number; done?: Done; exception?: string }) => {
      if (m.exception) onException(m.exception);
      if (m.port) resolve({ port: m.port, stop: () => (w.postMessage({ stop: true }), finished) });
      if (m.done) done(m.done);
    });
    // Thrown at the top level (it could not start), or the thread died: an exception too.
    w.on('error', (err) => {
      onException(`${data.role} thread: ${err.stack ?? String(err)}`);
      reject(err);
    });
  });
}

export function startUpstreamThread(
  seed: number,
  onException: (e: string) => void,
): Promise<DnsThread<{ answered: number }>> {
  return start({ role: 'upstream', seed }, onException);
}

export function startStubThread(
  upstreamPort: number,
  onException: (e: string) => void,
): Promise<DnsThread<{ stats: Dns64Stats }>> {
  return start({ role: 'stub', upstreamPort }, onException);
}
