// The network id from NetworkManager over D-Bus, against a FAKE NetworkManager
// (test/helpers/fake-networkmanager.ts, built from NetworkManager's published D-Bus interface
// definitions) on a private dbus-daemon: the real NetworkManager cannot run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivateBus } from '../../helpers/private-bus.js';
import { startFakeNetworkManager } from '../../helpers/networkmanager.js';
import { ResolvedBus } from '../../../src-main/engine/dns64/resolved-dbus.js';
import { networkManagerIdentity, hashIdentity } from '../../../src-main/engine/daemon/identity.js';

test('NetworkManager connection UUID and name as the network id; unmanaged or no connection: null', async (t) => {
  const pb = await startPrivateBus();
  t.after(() => pb.stop());
  const connect = async () => {
    const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    process.env.DBUS_SYSTEM_BUS_ADDRESS = pb.address;
    try {
      return await ResolvedBus.connect(2000);
    } finally {
      if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
    }
  };
  const bus = await connect();
  t.after(() => bus.close());
  // NetworkManager not on the bus: no id from it.
  assert.equal(await networkManagerIdentity(bus, 'up0'), null);

  const nm = await startFakeNetworkManager(
    pb.env,
    { up0: { uuid: '7D3E2A1C-55AA-4F3B-9C1D-0123456789AB', id: 'Home Wi-Fi' }, up1: null },
    '1.42.4',
  );
  t.after(() => nm.stop());

  assert.deepEqual(await networkManagerIdentity(bus, 'up0'), {
    id: 'nm-7d3e2a1c-55aa-4f3b-9c1d-0123456789ab',
    name: 'Home Wi-Fi',
    idSource: 'networkmanager',
  });
  // Managed but not connected, and a device NetworkManager does not know: the hash applies.
  assert.equal(await networkManagerIdentity(bus, 'up1'), null);
  assert.equal(await networkManagerIdentity(bus, 'veth9'), null);
});

test('the hash id: stable for the same network, different for another router or /64', () => {
  const a = hashIdentity('up0', 'fe80::1', '2001:db8:1::/64');
  assert.deepEqual(hashIdentity('up0', 'fe80::1', '2001:db8:1::/64'), a);
  assert.match(a.id, /^net-[0-9a-f]{16}$/);
  assert.equal(a.name, 'up0 2001:db8:1::/64');
  assert.notEqual(hashIdentity('up0', 'fe80::2', '2001:db8:1::/64').id, a.id);
  assert.notEqual(hashIdentity('up0', 'fe80::1', '2001:db8:2::/64').id, a.id);
  assert.notEqual(hashIdentity('wlan0', 'fe80::1', '2001:db8:1::/64').id, a.id);
});
