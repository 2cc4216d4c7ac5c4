// virtio-net header helpers, RA/PREF64 parsing and addon loading: no root, no devices.
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
} from '../../../src-main/engine/tun/vnet.js';
import { formatIPv6, parseRouterAdvertisement } from '../../../src-main/engine/tun/ra-socket.js';

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

test('formatIPv6 gives the RFC 5952 form (checked against the WHATWG URL parser)', () => {
  const cases = [
    '64:ff9b::',
    '2001:db8::1',
    '2001:db8:0:1:1:1:1:1',
    '2001:0:0:1::1',
    '::',
    '::1',
    'fe80::1:0:0:0',
    '2001:db8:64::',
  ];
  for (const c of cases) {
    const bytes = new Uint8Array(16);
    const canon = new URL(`http://[${c}]/`).hostname.slice(1, -1);
    const [head, tail = ''] = canon.split('::');
    const groups = canon.includes('::')
      ? [
          ...(head ? head.split(':') : []),
          ...Array(8 - (head ? head.split(':').length : 0) - (tail ? tail.split(':').length : 0)).fill('0'),
          ...(tail ? tail.split(':') : []),
        ]
      : canon.split(':');
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      bytes[2 * i] = v >> 8;
      bytes[2 * i + 1] = v & 255;
    });
    assert.equal(formatIPv6(bytes), canon);
  }
});

function ra(options: number[]): Uint8Array {
  return Uint8Array.from([134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, ...options]);
}

test('parseRouterAdvertisement: PREF64 options of every prefix length code (RFC 8781 §4)', () => {
  const lengths = [96, 64, 56, 48, 40, 32];
  const opts: number[] = [];
  lengths.forEach((_, plc) => {
    const v = (10 << 3) | plc; // 80 s
    opts.push(38, 2, v >> 8, v & 255, 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8);
  });
  opts.push(38, 2, 0, 6, ...new Array(12).fill(0)); // PLC 6: unknown, ignored
  opts.push(1, 1, 2, 0, 0, 0, 0, 0); // source link-layer address option, skipped
  const r = parseRouterAdvertisement(ra(opts))!;
  assert.equal(r.routerLifetime, 0x708);
  assert.deepEqual(
    r.pref64.map((p) => [p.prefix, p.length, p.lifetime]),
    [
      ['2001:db8:102:304:506:708::/96', 96, 80],
      ['2001:db8:102:304::/64', 64, 80],
      ['2001:db8:102:300::/56', 56, 80],
      ['2001:db8:102::/48', 48, 80],
      ['2001:db8:100::/40', 40, 80],
      ['2001:db8::/32', 32, 80],
    ],
  );
});

test('parseRouterAdvertisement rejects what RFC 4861 §6.1.2 says to discard', () => {
  assert.equal(parseRouterAdvertisement(ra([]).subarray(0, 15)), undefined, 'shorter than 16 bytes');
  const badCode = ra([]);
  badCode[1] = 1;
  assert.equal(parseRouterAdvertisement(badCode), undefined, 'code not 0');
  assert.equal(parseRouterAdvertisement(ra([1, 0, 0, 0, 0, 0, 0, 0])), undefined, 'zero-length option');
  assert.equal(parseRouterAdvertisement(ra([38, 2, 0, 0])), undefined, 'option past the end');
  assert.deepEqual(parseRouterAdvertisement(ra([])), { routerLifetime: 0x708, pref64: [] });
});

test('a missing native build says to run npm install', () => {
  const url = new URL('../../../src-main/engine/tun/tun.js', import.meta.url).href;
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
