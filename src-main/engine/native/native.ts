// Loads the Node-API addon built from native/ (node-gyp, at `npm install`). Node-API only, so the
// same file loads in plain Node (the engine) and in Electron. Everything platform-specific sits
// behind the shapes declared here; the wrappers next to this file are what the engine uses.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { overrideRefusal } from '../system/env-override.js';

/** An Error from a failed system call: `code` is the errno name ("EPERM"). */
export interface SysError extends Error {
  code: string;
  errno: number;
  syscall: string;
  /** writeBatch only: index of the packet the kernel rejected, and how many went out before it. */
  index?: number;
  written?: number;
}

export function isSysError(e: unknown): e is SysError {
  return e instanceof Error && typeof (e as Partial<SysError>).code === 'string';
}

export interface NativeTunInfo {
  name: string;
  ifindex: number;
  fd: number;
  vnetHdrLen: number;
  offloads: number;
  multiQueue: boolean;
  slots: number;
  slotSize: number;
  packetOffset: number;
  batch: number;
  /** Whether reads go through io_uring (asked for, and the kernel allowed it). */
  rxUring?: boolean;
  ring: ArrayBuffer;
  desc: ArrayBuffer;
}

export interface NativeTunOptions {
  name?: string;
  vnetHdr?: boolean;
  vnetHdrSize?: number;
  offloads?: number;
  multiQueue?: boolean;
  netns?: string;
  slots?: number;
  batch?: number;
  headroom?: number;
  maxPacket?: number;
  writeQueueBytes?: number;
  sndbuf?: number;
  rxCoalesceUs?: number;
  rxUring?: boolean;
  faultEagainEvery?: number;
  onPackets?: (count: number) => void;
  onDrain?: () => void;
  onError?: (err: SysError) => void;
}

export interface NativeTun {
  info(): NativeTunInfo;
  start(onPackets?: (count: number) => void): void;
  pause(): void;
  resume(): void;
  hold(): void;
  release(offsets: Uint32Array, count: number): void;
  writeBatch(
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    start: number,
    count: number,
  ): number;
  setMtu(mtu: number): void;
  getMtu(): number;
  setUp(up: boolean): void;
  isUp(): boolean;
  stats(): TunStats;
  close(): number;
}

export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  rxBatches: number;
  /** Packets longer than a slot holds (`maxPacket`), dropped rather than delivered cut short. */
  rxTruncated: number;
  txPackets: number;
  txBytes: number;
  /** Packets that met EAGAIN and were queued for later (all of them were, or were refused). */
  txQueued: number;
  /** writeBatch calls that met EAGAIN. */
  txEagain: number;
  txErrors: number;
  writeQueuePackets: number;
  writeQueueBytes: number;
  freeSlots: number;
  /** Times a read was left to the coalescing timer instead of the next packet's wake-up. */
  rxDeferred: number;
}

export interface NativeRaSocket {
  info(): { ifname: string; ifindex: number; fd: number };
  start(): void;
  solicit(): void;
  close(): void;
}

export interface NativeRaOptions {
  ifname: string;
  netns?: string;
  onMessage?: (payload: Buffer, source: string, hopLimit: number, ifindex: number) => void;
  onError?: (err: SysError) => void;
}

export interface NativeAddon {
  platform: 'linux' | 'unsupported';
  Tun?: new (opts: NativeTunOptions) => NativeTun;
  offloadFlags?: { csum: number; tso4: number; tso6: number; tsoEcn: number; uso4: number; uso6: number };
  getPeerCred?: (fd: number) => { pid: number; uid: number; gid: number };
  getPeerGroups?: (fd: number) => number[];
  RaSocket?: new (opts: NativeRaOptions) => NativeRaSocket;
  /** V8's low-memory collection, then malloc_trim(0); true when the C library gave pages back. */
  releaseMemory?: () => boolean;
}

// build/src-main/engine/native/native.js -> <repo>/native/build/Release/clatbar_native.node.
// CLATBAR_NATIVE_ADDON overrides it for packaged apps, where the addon sits outside the asar.
const defaultPath = fileURLToPath(
  new URL('../../../../native/build/Release/clatbar_native.node', import.meta.url),
);

let cached: NativeAddon | undefined;

export function addonPath(): string {
  const override = process.env.CLATBAR_NATIVE_ADDON;
  // As root, only a root-owned addon in root-only directories (system/env-override.ts). One
  // that does not exist is named, so the error says which file is missing; loadNative checks
  // again right before loading it.
  if (override && (!existsSync(override) || overrideRefusal('CLATBAR_NATIVE_ADDON', override) === null))
    return override;
  return defaultPath;
}

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) throw new Error(`native addon not built: run npm install (missing ${path})`);
  if (path !== defaultPath) {
    const why = overrideRefusal('CLATBAR_NATIVE_ADDON', path);
    if (why) throw new Error(`CLATBAR_NATIVE_ADDON=${path} is not loaded as root: ${why}`);
  }
  const require = createRequire(import.meta.url);
  cached = require(path) as NativeAddon;
  return cached;
}

/** The addon's member for this platform, or an error saying the platform lacks it. */
export function nativeFeature<K extends keyof NativeAddon>(key: K): NonNullable<NativeAddon[K]> {
  const addon = loadNative();
  const v = addon[key];
  if (v === undefined)
    throw new Error(`${String(key)} is not supported on ${process.platform} yet (docs/native.md)`);
  return v as NonNullable<NativeAddon[K]>;
}

/** `netns` may be a name from `ip netns` or a path to a namespace file (/proc/PID/ns/net). */
export function netnsPath(netns: string | undefined): string | undefined {
  if (!netns) return undefined;
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}
