// The diagnostics window in Debian's Chromium (playwright-core), as built by `vite build`.
// Outside Electron there is no window.clatbar, so the page must say the engine is not reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../helpers/chromium.js';
import { requires } from '../helpers/env.js';
import { serveDir } from '../helpers/static-server.js';

const rendererDir = fileURLToPath(new URL('../../renderer/', import.meta.url));

test('the diagnostics page renders the disconnected state without the app', async (t) => {
  if (!requires(t, { binaries: ['chromium'] })) return;
  assert.ok(
    existsSync(`${rendererDir}index.html`),
    `renderer not built in ${rendererDir}: run npm run build:renderer`,
  );
  const site = await serveDir(rendererDir);
  t.after(() => site.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(site.url);
  const state = tab.getByTestId('state');
  await state.waitFor();
  assert.match(await state.innerText(), /Engine not reachable/);
  // The page capitalises the reason's first letter.
  assert.match(await state.innerText(), /not running inside the clatbar app/i);
  assert.deepEqual(errors, []);
});
