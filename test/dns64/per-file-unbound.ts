// The setup the DNS64 test files share: one real unbound (helpers.ts startUnbound) for the whole
// file, started before its tests, and the Dns64Servers its tests start against it; all of them
// stopped after the file, also when a test fails. Its own file, not helpers.ts, because it
// registers node:test hooks and bench/dns64.ts imports helpers.ts.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Dns64Server, type Dns64Options } from '../../src-main/engine/dns64/server.js';
import { parsePref64 } from '../../src-main/engine/ip/rfc6052.js';
import { startUnbound, type Unbound, type UnboundOptions } from './helpers.js';

export interface PerFileUnbound {
  /** null until before() ran, and when unbound could not start (the tests' requires() says why). */
  readonly unbound: Unbound | null;
  /**
   * A started DNS64 server asking this unbound: on 127.0.0.1 with the prefix 2001:db8:64::/96
   * unless `o` says otherwise.
   */
  dns64(o?: Partial<Dns64Options>): Promise<Dns64Server>;
}

/** Call at the top of a test file; `opts` is evaluated in before(), so it may start things. */
export function unboundPerFile(
  opts: () => UnboundOptions | Promise<UnboundOptions> = () => ({}),
): PerFileUnbound {
  let unbound: Unbound | null = null;
  const servers: Dns64Server[] = [];
  before(async () => {
    unbound = await startUnbound(await opts()).catch(() => null);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await unbound?.stop();
  });
  return {
    get unbound() {
      return unbound;
    },
    async dns64(o = {}) {
      assert.ok(unbound, 'unbound started');
      const server = new Dns64Server({
        listen: [{ address: '127.0.0.1', port: 0 }],
        upstreams: [{ address: '127.0.0.1', port: unbound.port }],
        prefix: parsePref64('2001:db8:64::/96'),
        ...o,
      });
      servers.push(server);
      await server.start();
      return server;
    },
  };
}
