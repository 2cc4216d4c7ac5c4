// The development bridge (app/dev-bridge.ts) without an engine: 127.0.0.1 only, the page and the
// WebSocket refused without this run's token or from another origin, files outside the bundle
// refused; with the token, the page in Chromium gets window.clatbar and shows that no engine runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../helpers/chromium.js';
import { WebSocket } from 'ws';
import { requires } from '../helpers/env.js';
import { startDevBridge } from '../../src-main/app/dev-bridge.js';

function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOpens(url: string, origin: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { origin });
    ws.on('open', () => (ws.close(), resolve(true)));
    ws.on('error', () => resolve(false));
    ws.on('unexpected-response', () => resolve(false));
  });
}

test('the development bridge wants its token, its host and its origin', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bridge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bridge = await startDevBridge({
    socketPath: join(dir, 'nothing.sock'),
    configHome: join(dir, 'config'),
  });
  t.after(() => bridge.close());
  assert.match(bridge.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  const { port, token } = bridge;
  assert.equal(await get(port, `/?token=${token}`), 200);
  assert.equal(await get(port, '/'), 403);
  assert.equal(await get(port, `/?token=${token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}`), 403);
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
  assert.equal(await get(port, `/?token=${token}`, `evil.example:${port}`), 403);
  assert.equal(await get(port, '/../../../etc/passwd'), 404);
  assert.equal(await get(port, '/%2e%2e/%2e%2e/package.json'), 404);
  const ws = `ws://127.0.0.1:${port}/bridge?token=${token}`;
  assert.equal(await wsOpens(ws, `http://127.0.0.1:${port}`), true);
  assert.equal(await wsOpens(`ws://127.0.0.1:${port}/bridge?token=x`, `http://127.0.0.1:${port}`), false);
  assert.equal(await wsOpens(ws, 'http://evil.example'), false);
});

test('without an engine the page says so, in words, through the bridge', async (t) => {
  if (!requires(t, { binaries: ['chromium'] })) return;
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-bridge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'nothing.sock');
  const bridge = await startDevBridge({ socketPath, configHome: join(dir, 'config') });
  t.after(() => bridge.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(bridge.url);
  await page.locator('[data-testid=state].disconnected').waitFor();
  const text = await page.getByTestId('state').innerText();
  assert.match(text, /Engine not reachable/);
  assert.match(text, new RegExp(`nothing answers on ${socketPath}`));
  assert.match(text, /systemctl start clatbar-engine/);
  assert.equal(await page.getByTestId('toggle').isDisabled(), true);
  assert.deepEqual(errors, []);
});
