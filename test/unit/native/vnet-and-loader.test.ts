// virtio-net header helpers and loading the native addon: no root, no devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  GsoType,
  VNET_HDR_LEN,
  VnetFlag,
  clearVnet,
  readVnet,
  relocateVnet,
  vnetGsoSize,
  vnetGsoType,
  writeVnet,
} from '../../../src-main/engine/native/vnet.js';

test('vnet header: little-endian fields in the 10 bytes in front of the packet', () => {
  const buf = new Uint8Array(64).fill(0xee);
  const at = 30;
  const h = {
    flags: VnetFlag.NEEDS_CSUM,
    gsoType: GsoType.TCPV4 | GsoType.ECN,
    hdrLen: 52,
    gsoSize: 1448,
    csumStart: 20,
    csumOffset: 16,
  };
  writeVnet(buf, at, h);
  // struct virtio_net_hdr byte for byte (include/uapi/linux/virtio_net.h)
  assert.deepEqual([...buf.subarray(at - VNET_HDR_LEN, at)], [1, 0x81, 52, 0, 0xa8, 0x05, 20, 0, 16, 0]);
  assert.equal(buf[at - VNET_HDR_LEN - 1], 0xee, 'nothing written before the header');
  assert.equal(buf[at], 0xee, 'nothing written into the packet');
  assert.deepEqual(readVnet(buf, at), h);
  assert.equal(vnetGsoType(buf, at), GsoType.TCPV4, 'ECN bit masked off');
  assert.equal(vnetGsoSize(buf, at), 1448);
  const reused = readVnet(buf, at);
  assert.equal(readVnet(buf, at, reused), reused, 'out parameter is filled and returned');
  clearVnet(buf, at);
  assert.deepEqual(readVnet(buf, at), {
    flags: 0,
    gsoType: 0,
    hdrLen: 0,
    gsoSize: 0,
    csumStart: 0,
    csumOffset: 0,
  });
});

test('relocateVnet moves the header with the packet start and shifts csum_start and hdr_len', () => {
  const buf = new Uint8Array(128);
  writeVnet(buf, 80, {
    flags: VnetFlag.NEEDS_CSUM,
    gsoType: GsoType.TCPV4,
    hdrLen: 40,
    gsoSize: 1400,
    csumStart: 20,
    csumOffset: 16,
  });
  // IPv4 (20) -> IPv6 (40): the packet now starts 20 bytes earlier.
  relocateVnet(buf, 80, 60, 20);
  assert.deepEqual(readVnet(buf, 60), {
    flags: 1,
    gsoType: 1,
    hdrLen: 60,
    gsoSize: 1400,
    csumStart: 40,
    csumOffset: 16,
  });
  // Without NEEDS_CSUM csum_start means nothing and stays; hdr_len 0 (unknown) stays 0.
  writeVnet(buf, 80, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
  relocateVnet(buf, 80, 52, 28);
  assert.deepEqual(readVnet(buf, 52), {
    flags: 0,
    gsoType: 0,
    hdrLen: 0,
    gsoSize: 0,
    csumStart: 0,
    csumOffset: 0,
  });
});

test('a missing native build says to run npm install', () => {
  const url = new URL('../../../src-main/engine/native/tun.js', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import('${url}').then(({ TunDevice }) => TunDevice.open()).catch((e) => { console.log(e.message); })`,
    ],
    { env: { ...process.env, CLATBAR_NATIVE_ADDON: '/nonexistent/clatbar_native.node' }, encoding: 'utf8' },
  );
  assert.match(r.stdout, /^native addon not built: run npm install/);
});
