// A stand-in data path: a persistent TUN made with iproute2 that moves no packets. Used for
// bring-up/teardown tests that do not need translation, and when the native addon is missing.
import { execOut } from '../system/exec.js';
import type { DataPathFactory } from './datapath-types.js';

export const stubDataPath: DataPathFactory = async (p) => {
  execOut(['ip', 'tuntap', 'add', 'dev', p.tun, 'mode', 'tun']);
  execOut(['ip', 'link', 'set', p.tun, 'mtu', String(p.ipv6Mtu), 'up']);
  return {
    describe: () => 'no translator (stand-in data path)',
    start() {},
    async stop() {
      try {
        execOut(['ip', 'link', 'del', p.tun]);
      } catch {
        // Already gone: the journal's entry for the TUN covers it either way.
      }
    },
    counters: () => ({}),
  };
};
