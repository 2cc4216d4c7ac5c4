// How long a click on the diagnostics window's on/off switch (or a policy chosen in Settings for the
// network the laptop is on) takes to change the engine, and how
// much of that is the app's path (page -> development bridge -> control socket) rather than the
// engine's own work. In the CLAT lab, with `clatbar run` in daemon mode (what the installed service
// runs) and the renderer in Debian's Chromium through the development bridge (the same EngineClient
// and AppService as Electron main, in a process of its own as main is), alternating rounds of:
//   app:       a click on the switch -> the CLAT's IPv4 default route appears / goes; the policy
//              "Never" / "Default" chosen in Settings -> the route goes / comes back
//   reference: the same change as one call straight on the control socket (`enable`, `disable`,
//              `setPolicy`: what `clatbar enable` does) -> the same route
// Times come from one clock: the page stamps the click (Date.now() in a capture listener), the
// engine stamps its log lines (the audit line "manual enable ..." says when the call reached the
// engine), and `ip -tshort monitor route` in the laptop's namespace stamps the route's change as
// the kernel reports it (no polling that would load the machine it measures).
// Run as root: `npm run bench -- app-click` (or node build/bench/app-click.js [--tries N]).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildClatLab, nsh, startClatbarDaemon, waitFor, PREFIX } from '../test/helpers/clat-lab.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { callControl } from '../src-main/engine/control/client.js';
import { CHANGE_TIMEOUT_MS } from '../src-main/shared/control.js';
import type { LogLine } from '../src-main/shared/status.js';
import { figure, save, startRun } from './data/write.js';
import { median } from './data/stats.js';

function option(flag: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
if (process.argv.includes('--help')) {
  console.log(`usage: node build/bench/app-click.js [--tries N] [--settle MS]   (as root)
  --tries N    rounds of each change, app and reference alternating (default 8)
  --settle MS  quiet time after each change before the next (default 1500)`);
  process.exit(0);
}
const TRIES = option('--tries', 8);
/** Quiet time between changes, so one round's tail (a state push, a log line) is not the next's. */
const SETTLE_MS = option('--settle', 1500);

/** The laptop's link and route changes as the kernel reports them: [when (ms since epoch), line]. */
function watchRoutes(proc: ChildProcess): { since(t0: number, added: boolean): Promise<number> } {
  const seen: Array<[number, string]> = [];
  let buf = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      // [2026-12-04T10:20:00.123456] default dev clat0 ...  (local time, microseconds)
      const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\]\s*(.*)$/.exec(line);
      if (m) seen.push([new Date(m[1]).getTime(), m[2]]);
    }
  });
  return {
    /** When the CLAT's IPv4 default route was added (or deleted) at or after t0. */
    async since(t0: number, added: boolean): Promise<number> {
      // Gone: deleted itself, or with the device (the kernel does not report the routes a deleted
      // link takes with it).
      const want = (l: string) =>
        added ? /^default .*dev clat0/.test(l) : /^Deleted (default .*dev clat0|\d+: clat0[:@])/.test(l);
      // Polled, but the time is the kernel's stamp: how often we look does not change it.
      for (let i = 0; i < 300; i++) {
        const hit = seen.find(([t, l]) => t >= t0 - 1 && want(l));
        if (hit) return hit[0];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `the route was never ${added ? 'added' : 'deleted'} after ${new Date(t0).toISOString()}`,
      );
    },
  };
}

/** What instrument() records in a page, each [Date.now(), words]. */
interface Stamps {
  /** Clicks on the switch and policies chosen: the user's act. */
  clicks: Array<[number, string]>;
  /** The state banner's class as drawn. */
  states: Array<[number, string]>;
  /** State pushes as they reached the page (before it drew them). */
  pushed: Array<[number, string]>;
  /** Answers to the page's calls as they reached it: [when, the call's name]. */
  answers: Array<[number, string]>;
}

/**
 * Before the page's scripts: the WebSocket the bridge's preload opens stamps when each call's
 * answer arrives (the preload's own handler sees the same message right after).
 */
async function stampAnswers(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = globalThis as unknown as Stamps & { WebSocket: typeof WebSocket };
    const Native = w.WebSocket;
    w.answers = [];
    w.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
        super(url, protocols);
        const calls = new Map<number, string>();
        const send = this.send.bind(this);
        this.send = (data: string) => {
          const m = JSON.parse(data) as { id?: number; call?: string };
          if (m.id !== undefined && m.call) calls.set(m.id, m.call);
          send(data);
        };
        this.addEventListener('message', (e: MessageEvent) => {
          const m = JSON.parse(String(e.data)) as { id?: number };
          if (m.id !== undefined && calls.has(m.id)) {
            w.answers.push([Date.now(), calls.get(m.id)!]);
            calls.delete(m.id);
          }
        });
      }
    };
  });
}

/** The page's own clock for the user's act, the state pushes it receives and what it draws. */
async function instrument(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as Stamps & {
      document: {
        addEventListener(
          e: string,
          f: (e: { target: { dataset?: { testid?: string }; value?: string } }) => void,
          c: boolean,
        ): void;
        querySelector(s: string): { className: string } | null;
      };
      clatbar: { onState(l: (s: { status: { state: string } }) => void): void };
      MutationObserver: new (f: () => void) => { observe(n: unknown, o: object): void };
    };
    w.clicks = [];
    w.states = [];
    w.pushed = [];
    w.clatbar.onState((s) => w.pushed.push([Date.now(), s.status.state]));
    // Capture listeners: they run before the page's own handlers.
    w.document.addEventListener(
      'click',
      (e) => {
        if (e.target.dataset?.testid === 'toggle') w.clicks.push([Date.now(), 'toggle']);
      },
      true,
    );
    w.document.addEventListener(
      'change',
      (e) => {
        if (e.target.dataset?.testid?.startsWith('policy-'))
          w.clicks.push([Date.now(), e.target.value ?? '']);
      },
      true,
    );
    const note = () => {
      const s = w.document.querySelector('[data-testid=state]');
      if (s) w.states.push([Date.now(), s.className]);
    };
    new w.MutationObserver(note).observe(w.document, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['class'],
    });
  });
}

const BRIDGE = fileURLToPath(new URL('../src-main/app/dev-bridge.js', import.meta.url));

/**
 * The development bridge in a process of its own, as Electron main is: in this one it would share
 * an event loop with the measuring (Playwright, the route watch) and be slowed by it.
 */
async function startBridge(socket: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BRIDGE, '--socket', socket, '--lang', 'en'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the bridge', () => /diagnostics (\S+)/.test(out) || proc.exitCode !== null);
  const url = /diagnostics (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`the bridge did not start: ${out}`);
  return { url, proc };
}

interface Round {
  /** From the click (or the call) to the audit line: the call reached the engine. */
  toEngine: number;
  /** To the route's change in the kernel. */
  toRoute: number;
  /** To the page showing the engine's new state (app rounds only). */
  toPage?: number;
  /** To the engine's answer to the call reaching the page (or the reference's caller). */
  toAnswer: number;
}

async function main(): Promise<void> {
  const run = startRun('app-click');
  const dir = mkdtempSync(join(tmpdir(), 'clatbar-app-click-'));
  const cl = await buildClatLab('ac', { ra: { pref64: [{ prefix: PREFIX, lifetime: 600 }] } });
  const cleanups: Array<() => unknown> = [];
  const tearDown = async () => {
    for (const c of cleanups.splice(0).reverse())
      try {
        await c();
      } catch {
        // Best effort: the lab's dispose kills what is left.
      }
    await cl.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  // Stopped by hand (Ctrl-C, kill): the namespaces, the daemon's changes and the files go too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void tearDown().finally(() => process.exit(130)));
  try {
    cl.lab.resolvConf(cl.laptop, 'nameserver 2001:db8:1::1\n');
    const monitor = cl.lab.spawn(cl.laptop, 'ip', ['-tshort', 'monitor', 'link', 'route']);
    cleanups.push(() => monitor.kill());
    const routes = watchRoutes(monitor);
    const daemon = await startClatbarDaemon(cl, dir, ['--dns64', 'off']);
    cleanups.push(() => daemon.proc.kill('SIGTERM'));
    const clatRoute = () => /dev clat0/.test(nsh(cl.lab, cl.laptop, 'ip -4 route show default'));
    await waitFor('the daemon to bring the CLAT up', clatRoute, 30000);

    const bridge = await startBridge(daemon.sock);
    cleanups.push(() => bridge.proc.kill('SIGTERM'));
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page: Page = await browser.newPage();
    await stampAnswers(page);
    await page.goto(bridge.url);
    await page.locator('[data-testid=state].active').waitFor();
    const settingsPage: Page = await browser.newPage();
    await stampAnswers(settingsPage);
    await settingsPage.goto(`${bridge.url}#settings`);
    const select = settingsPage.locator('select[data-testid^=policy-]');
    await select.waitFor();
    const network = (await select.getAttribute('data-testid'))!.slice('policy-'.length);
    await instrument(page);
    await instrument(settingsPage);
    const toggle = page.getByTestId('toggle');

    /** When the engine logged the audit line of a change (its text starts with `audit`) at or after t0. */
    const reachedEngine = async (t0: number, audit: string): Promise<number> => {
      const since = new Date(t0 - 5).toISOString();
      const { lines } = (await callControl(daemon.sock, 'logs', { sinceTime: since, limit: 200 })) as {
        lines: LogLine[];
      };
      const hit = lines.find((l) => l.text.startsWith(audit));
      if (!hit) throw new Error(`no "${audit}" line after ${since}`);
      return Date.parse(hit.time);
    };
    /** The first stamp in one of the page's lists (Stamps) at or after t0 whose words include `word`. */
    const stamped = async (p: Page, list: string, t0: number, word = ''): Promise<number> => {
      for (let i = 0; i < 300; i++) {
        const got = await p.evaluate((list) => (globalThis as unknown as Stamps)[list as keyof Stamps], list);
        const hit = got.find(([t, w]) => t >= t0 && (!word || w.split(/\s+/).includes(word)));
        if (hit) return hit[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the page never stamped ${list} ${word}`);
    };
    const settle = async (want: 'active' | 'off') => {
      await page.locator(`[data-testid=state].${want}`).waitFor({ timeout: 20000 });
      // The engine has answered the click: the switch is usable again and the words are gone.
      for (
        let i = 0;
        i < 1000 && ((await page.getByTestId('said').innerText()) !== '' || !(await toggle.isEnabled()));
        i++
      )
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    };

    type Action = 'on' | 'off' | 'never' | 'default';
    const ACTIONS: Record<
      Action,
      {
        up: boolean;
        audit: string;
        app(): Promise<unknown>;
        control: [string, unknown?];
        undo: [string, unknown?];
      }
    > = {
      off: {
        up: false,
        audit: 'manual disable for network',
        app: () => toggle.click(),
        control: ['disable'],
        undo: ['enable'],
      },
      on: {
        up: true,
        audit: 'manual enable for network',
        app: () => toggle.click(),
        control: ['enable'],
        undo: ['disable'],
      },
      never: {
        up: false,
        audit: `policy of network ${network} set to never`,
        app: () => select.selectOption('never'),
        control: ['setPolicy', { network, policy: 'never' }],
        undo: ['setPolicy', { network, policy: 'default' }],
      },
      default: {
        up: true,
        audit: `policy of network ${network} set to default`,
        app: () => select.selectOption('default'),
        control: ['setPolicy', { network, policy: 'default' }],
        undo: ['setPolicy', { network, policy: 'never' }],
      },
    };
    const app = { on: [], off: [], never: [], default: [] } as Record<Action, Round[]>;
    const ref = { on: [], off: [], never: [], default: [] } as Record<Action, Round[]>;
    const trace: string[] = [];
    const call = ([method, params]: [string, unknown?]) =>
      callControl(daemon.sock, method, params, { timeoutMs: CHANGE_TIMEOUT_MS });
    for (const pair of [
      ['off', 'on'],
      ['never', 'default'],
    ] as const) {
      // From the switch's rounds to the policy's: the last click's override ends, so a policy
      // round starts as a user choosing a policy usually does, with no click in force.
      await call(['clearOverride']);
      await settle('active');
      for (let i = 0; i < TRIES; i++) {
        for (const act of pair) {
          const a = ACTIONS[act];
          const state = a.up ? 'active' : 'off';
          // The app: a click on the switch, or a policy chosen in Settings.
          const p = act === 'on' || act === 'off' ? page : settingsPage;
          const from = Date.now();
          await a.app();
          const click = await stamped(p, 'clicks', from);
          const route = await routes.since(click, a.up);
          const shown = await stamped(page, 'states', click, state);
          const engine = await reachedEngine(click, a.audit);
          const answer = await stamped(p, 'answers', click, a.control[0]);
          app[act].push({
            toEngine: engine - click,
            toRoute: route - click,
            toPage: shown - click,
            toAnswer: answer - click,
          });
          if (i === 0) {
            const { lines } = (await callControl(daemon.sock, 'logs', {
              sinceTime: new Date(click - 5).toISOString(),
              limit: 200,
            })) as { lines: LogLine[] };
            const pushed = await stamped(page, 'pushed', click, state);
            trace.push(
              `${act}, click at 0 ms:`,
              ...lines.map((l) => `  +${Date.parse(l.time) - click} ms  ${l.text}`),
              `  +${route - click} ms  (kernel) route ${a.up ? 'added' : 'deleted'}`,
              `  +${pushed - click} ms  (page) the state push arrived`,
              `  +${shown - click} ms  (page) state ${state} drawn`,
              `  +${answer - click} ms  (page) the answer to ${a.control[0]} arrived`,
            );
          }
          await settle(state);
          // The reference: the same change straight on the control socket. Back, then again.
          await call(a.undo);
          await settle(a.up ? 'off' : 'active');
          const t0 = Date.now();
          await call(a.control);
          const answered = Date.now();
          const rRoute = await routes.since(t0, a.up);
          ref[act].push({
            toEngine: (await reachedEngine(t0, a.audit)) - t0,
            toRoute: rRoute - t0,
            toAnswer: answered - t0,
          });
          await settle(state);
        }
      }
    }

    const col = (rs: Round[], k: keyof Round) => rs.map((r) => r[k] ?? NaN);
    const show = (name: string, xs: number[]) =>
      console.log(
        `${name.padEnd(60)} median ${median(xs).toFixed(0).padStart(5)} ms   (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`,
      );
    const WHAT: Record<Action, string> = {
      on: 'switch on',
      off: 'switch off',
      never: 'policy never (Settings)',
      default: 'policy default (Settings)',
    };
    console.log(`app-click: ${TRIES} rounds, app and reference alternating`);
    for (const act of ['on', 'off', 'never', 'default'] as const) {
      const route = ACTIONS[act].up ? 'route added' : 'route gone';
      show(`${WHAT[act]}: click -> the call reached the engine`, col(app[act], 'toEngine'));
      show(`${WHAT[act]}: control call -> reached the engine (ref)`, col(ref[act], 'toEngine'));
      show(`${WHAT[act]}: click -> ${route}`, col(app[act], 'toRoute'));
      show(`${WHAT[act]}: control call -> ${route} (ref)`, col(ref[act], 'toRoute'));
      show(`${WHAT[act]}: click -> the page shows the engine's state`, col(app[act], 'toPage'));
      show(`${WHAT[act]}: click -> the engine's answer in the page`, col(app[act], 'toAnswer'));
      show(`${WHAT[act]}: control call -> its answer (ref)`, col(ref[act], 'toAnswer'));
    }
    console.log(`first round, as the engine logged it:\n${trace.join('\n')}`);
    const toRoute = (act: Action) =>
      figure({
        id: `${act}-route`,
        label: `${WHAT[act]}: click -> the CLAT's IPv4 default route ${ACTIONS[act].up ? 'added' : 'gone'}`,
        unit: 'ms',
        better: 'lower',
        rounds: col(app[act], 'toRoute'),
        refs: [
          {
            id: 'control',
            name: `the same change as one call on the control socket`,
            rounds: col(ref[act], 'toRoute'),
          },
        ],
        goals: [{ value: 1000, text: '<= 1 s' }],
      });
    const toAnswer = (act: Action) =>
      figure({
        id: `${act}-answer`,
        label: `${WHAT[act]}: click -> the engine's answer in the page (the engine has settled)`,
        unit: 'ms',
        better: 'lower',
        rounds: col(app[act], 'toAnswer'),
        refs: [
          { id: 'control', name: 'the same change as one control call', rounds: col(ref[act], 'toAnswer') },
        ],
      });
    const toEngine = (act: Action) =>
      figure({
        id: `${act}-engine`,
        label: `${WHAT[act]}: click -> the call reaches the engine (page, bridge, control socket)`,
        unit: 'ms',
        better: 'lower',
        rounds: col(app[act], 'toEngine'),
        refs: [
          { id: 'control', name: 'a call on a new control connection', rounds: col(ref[act], 'toEngine') },
        ],
        goals: [{ value: 100, text: '<= 100 ms' }],
      });
    await save(run, {
      title: 'The app: a click -> the engine acts on it',
      command: `npm run bench -- app-click (node build/bench/app-click.js --tries ${TRIES})`,
      settings: { tries: TRIES, settleMs: SETTLE_MS },
      figures: [
        ...(['on', 'off', 'never', 'default'] as const).map(toRoute),
        ...(['on', 'off', 'never', 'default'] as const).map(toAnswer),
        ...(['on', 'off', 'never', 'default'] as const).map(toEngine),
      ],
    });
  } finally {
    await tearDown();
  }
}

await main();
