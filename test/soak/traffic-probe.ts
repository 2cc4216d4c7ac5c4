// One round of the traffic stage, run inside the laptop namespace (`ip netns exec LAPTOP node
// traffic-probe.js SERVER SHA256`): downloads the lab server's blob.bin over HTTP and hashes it,
// uploads random bytes to its SHA-256 port and compares the hash it answers, and sends UDP
// datagrams of random bytes to its echo port, comparing every echo byte for byte. Prints one
// JSON line: what completed, what was corrupted, what was interrupted (a connection error or
// timeout: the daemon may be down for a moment on purpose).
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { emptyRound } from './traffic-round.js';

const [server, blobSha] = process.argv.slice(2);
const TIMEOUT = 8000;
const res = emptyRound();

function download(): Promise<void> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let n = 0;
    const req = http.get({ host: server, port: 80, path: '/blob.bin', timeout: TIMEOUT }, (r) => {
      r.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      r.on('end', () => {
        if (!r.complete) res.interrupted++;
        else if (h.digest('hex') !== blobSha) {
          res.corrupted++;
          res.notes.push(`download of ${n} bytes: sha256 differs`);
        } else {
          res.downloads++;
          res.downloadBytes += n;
        }
        resolve();
      });
      r.on('error', () => {
        res.interrupted++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      res.interrupted++;
      resolve();
    });
  });
}

function upload(): Promise<void> {
  return new Promise((resolve) => {
    const data = randomBytes(256 * 1024 + Math.floor(Math.random() * 1024 * 1024));
    const want = createHash('sha256').update(data).digest('hex');
    const s = net.connect({ host: server, port: 9000 });
    let answer = '';
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      s.destroy();
      resolve();
    };
    const timer = setTimeout(() => done(() => res.interrupted++), TIMEOUT);
    s.on('connect', () => s.end(data));
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('end', () =>
      done(() => {
        const got = answer.split(/\s/)[0];
        if (!got) res.interrupted++;
        else if (got !== want) {
          res.corrupted++;
          res.notes.push(`upload of ${data.length} bytes: the server hashed ${got}, sent ${want}`);
        } else {
          res.uploads++;
          res.uploadBytes += data.length;
        }
      }),
    );
    s.on('error', () => done(() => res.interrupted++));
  });
}

async function udpEcho(): Promise<void> {
  const sock = dgram.createSocket('udp4');
  const sent = new Map<string, Buffer>();
  sock.on('message', (m) => {
    const key = m.subarray(0, 8).toString('hex');
    const want = sent.get(key);
    if (!want) return;
    sent.delete(key);
    if (!want.equals(m)) {
      res.corrupted++;
      res.notes.push(`UDP echo of ${want.length} bytes differs`);
    } else {
      res.udpEchoed++;
      res.udpBytes += m.length;
    }
  });
  await new Promise<void>((r) => sock.bind(0, () => r()));
  for (let i = 0; i < 200; i++) {
    const m = randomBytes(8 + Math.floor(Math.random() * 1400));
    sent.set(m.subarray(0, 8).toString('hex'), m);
    sock.send(m, 7, server);
    res.udpSent++;
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 1500));
  sock.close();
}

await Promise.all([download(), upload(), udpEcho()]);
process.stdout.write(`${JSON.stringify(res)}\n`);
