// The diagnostics window in Chromium against a real engine: `clatbar run` on the CLAT lab's
// laptop, and this process in Electron main's place, with the same EngineClient main.ts uses.
// window.clatbar is what the preload would expose: getStatus is an exposed function, and
// statuses are pushed into the page as main's webContents.send would.
//
// CLATBAR_SCREENSHOT=1 also writes docs/screenshot.png (1000x700), which the README shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { requires } from '../helpers/env.js';
import { serveDir } from '../helpers/static-server.js';
import { buildClatLab, nsh, waitFor, CLATBAR, PREFIX, SERVER_V4 } from '../helpers/clat-lab.js';
import type { EngineStatus } from '../../src-main/shared/ipc.js';

import { EngineClient } from '../../src-main/app/engine-client.js';

const rendererDir = fileURLToPath(new URL('../../renderer/', import.meta.url));
const screenshot = fileURLToPath(new URL('../../../docs/screenshot.png', import.meta.url));
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Defines window.clatbar in the page the way preload.cts does, backed by this process. */
const PRELOAD = `(() => {
  const listeners = new Set();
  window.__clatbarPush = (status) => { for (const l of listeners) l(status); };
  window.clatbar = {
    getStatus: () => window.__clatbarGetStatus(),
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setPolicy: async () => { throw new Error('per-network policy is not built into the engine yet'); },
  };
})();`;

async function number(page: Page, testId: string): Promise<number> {
  return Number((await page.getByTestId(testId).innerText()).replace(/,/g, ''));
}

/** Polls the page until probe() holds (the page updates on the client's next poll). */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the page never showed ${what}`);
}

test('the diagnostics window shows a real engine and its traffic', { timeout: 180_000 }, async (t) => {
  if (!requires(t, { root: true, tun: true, binaries: ['tayga', 'chromium'] })) return;
  assert.ok(
    existsSync(`${rendererDir}index.html`),
    `renderer not built in ${rendererDir}: run npm run build:renderer`,
  );

  const cl = await buildClatLab('ui');
  t.after(() => cl.dispose());
  const stateDir = mkdtempSync(join(tmpdir(), 'clatbar-ui-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const socketPath = join(stateDir, 'engine.sock');
  const run = cl.lab.spawn(cl.laptop, process.execPath, [
    CLATBAR,
    'run',
    '--uplink',
    cl.uplink,
    '--prefix',
    PREFIX,
    '--dns64',
    'off',
    '--state-dir',
    stateDir,
    '--control-socket',
    socketPath,
  ]);
  let log = '';
  run.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  run.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('the engine', () => log.includes('status: clatbar status') || run.exitCode !== null, 30000);
  assert.match(log, /CLAT is up/, log);
  const clatV6 = nsh(cl.lab, cl.laptop, 'ip -6 neigh show proxy').split(' ')[0];

  // Electron main's part.
  const client = new EngineClient({ socketPath, legacyPollMs: 500 });
  t.after(() => client.close());

  const site = await serveDir(rendererDir);
  t.after(() => site.close());
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 }, colorScheme: 'light' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.exposeFunction('__clatbarGetStatus', () => client.status);
  await page.addInitScript(PRELOAD);
  client.onStatus((s: EngineStatus) => {
    // The page may be gone while the client still reports; like send() to a closed window.
    page
      .evaluate(
        (status) => (globalThis as unknown as { __clatbarPush(s: unknown): void }).__clatbarPush(status),
        s,
      )
      .catch(() => {});
  });
  client.start();
  await page.goto(site.url);

  const state = page.getByTestId('state');
  await page.locator('[data-testid=state].active').waitFor();
  assert.match(await state.innerText(), /^Active/);
  assert.match(await state.innerText(), /NAT64 \(2001:db8:64::\/96\) via up0/);
  assert.equal(await state.getAttribute('aria-live'), 'polite');
  assert.equal(await page.getByTestId('prefix').innerText(), PREFIX);
  assert.match(await page.getByTestId('prefix-source').innerText(), /configured/);
  assert.equal(await page.getByTestId('clat-ipv4').innerText(), '192.0.0.4');
  assert.equal(await page.getByTestId('clat-ipv6').innerText(), clatV6);
  assert.match(await page.getByTestId('device').innerText(), /clat0, MTU 1500/);

  const out0 = await number(page, 'packets-4to6');
  const in0 = await number(page, 'packets-6to4');
  assert.match(nsh(cl.lab, cl.laptop, `timeout 20 ping -c 4 -W 5 ${SERVER_V4}`), /4 received/);
  // The page learns the new counters from the next poll.
  await until(
    'the pings in both counters',
    async () =>
      (await number(page, 'packets-4to6')) >= out0 + 4 && (await number(page, 'packets-6to4')) >= in0 + 4,
  );
  // A drop the user can read: TTL 1 expires in the translator (RFC 7915 §4.1).
  nsh(cl.lab, cl.laptop, `ping -c 1 -W 2 -t 1 ${SERVER_V4}`, true);
  await page.getByText('hop limit ran out (Time Exceeded sent back)').waitFor();

  if (process.env.CLATBAR_SCREENSHOT === '1') {
    // A few seconds of steady pings so the rates and sparklines show something alive.
    const pinger = cl.lab.spawn(cl.laptop, 'ping', ['-i', '0.05', '-s', '1000', '-c', '400', SERVER_V4]);
    pinger.stdout?.resume();
    const done = new Promise<void>((r) => pinger.once('exit', () => r()));
    await page.waitForTimeout(12000);
    await page.screenshot({ path: screenshot });
    await done;
  }

  // The engine goes away: the page says so, through the same client.
  const exited = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
  run.kill('SIGTERM');
  assert.equal(await exited, 0, log);
  await page.locator('[data-testid=state].disconnected').waitFor();
  assert.match(await state.innerText(), /Engine not reachable/);
  assert.deepEqual(errors, []);
});
