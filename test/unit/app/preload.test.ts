// The compiled preload (build/src-main/app/preload.cjs) as Electron's sandbox runs it: CommonJS
// with a `require` that gives only `electron`. What it exposes to the page is exactly one
// function per IPC call, each invoking its own channel with the page's arguments, plus onState
// and onLog; no generic invoke or send. Electron cannot run here: contextBridge and ipcRenderer
// are stand-ins that record what the preload hands them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IPC_CALLS, IPC_EVENTS, ipcChannel, type IpcCall } from '../../../src-main/shared/ipc.js';

const PRELOAD = fileURLToPath(new URL('../../../src-main/app/preload.cjs', import.meta.url));

function runPreload() {
  const exposed: Record<string, unknown> = {};
  const invoked: Array<[string, unknown[]]> = [];
  const listening = new Map<string, (event: unknown, value: unknown) => void>();
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api) },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => {
        invoked.push([channel, args]);
        return Promise.resolve(`answer of ${channel}`);
      },
      on: (channel: string, fn: (event: unknown, value: unknown) => void) => void listening.set(channel, fn),
      off: (channel: string) => void listening.delete(channel),
    },
  };
  const module = { exports: {} };
  const load = new Function('require', 'module', 'exports', readFileSync(PRELOAD, 'utf8')) as (
    require: (id: string) => unknown,
    module: { exports: object },
    exports: object,
  ) => void;
  load(
    (id) => {
      required.push(id);
      if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
      return electron;
    },
    module,
    module.exports,
  );
  return { exposed, invoked, listening, required };
}

test('the preload exposes one function per IPC call on its own channel, and nothing generic', async () => {
  const { exposed, invoked, listening, required } = runPreload();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual(Object.keys(exposed), ['clatbar']);
  const api = exposed.clatbar as Record<string, (...a: unknown[]) => unknown>;
  const calls = Object.keys(IPC_CALLS) as IpcCall[];
  assert.deepEqual(Object.keys(api).sort(), [...calls, 'onState', 'onLog'].sort());
  for (const name of Object.keys(api)) assert.equal(typeof api[name], 'function', name);

  // Each call goes to its own channel with exactly the page's arguments, and hands back the answer.
  for (const [i, call] of calls.entries()) {
    const answer = await api[call]('x', i);
    assert.equal(answer, `answer of ${ipcChannel(call)}`);
    assert.deepEqual(invoked.at(-1), [ipcChannel(call), ['x', i]]);
  }
  assert.equal(new Set(invoked.map(([c]) => c)).size, calls.length, 'no two calls share a channel');

  // Pushes: the listener gets the value only (never the IPC event, which carries the sender),
  // and the returned function stops it.
  const got: unknown[] = [];
  const off = (api.onState as (l: (v: unknown) => void) => () => void)((v) => got.push(v));
  listening.get(IPC_EVENTS.state)?.({ sender: 'main' }, { state: 'active' });
  assert.deepEqual(got, [{ state: 'active' }]);
  off();
  assert.equal(listening.has(IPC_EVENTS.state), false);
  const lines: unknown[] = [];
  (api.onLog as (l: (v: unknown) => void) => () => void)((v) => lines.push(v));
  listening.get(IPC_EVENTS.log)?.({ sender: 'main' }, { seq: 1 });
  assert.deepEqual(lines, [{ seq: 1 }]);
});
