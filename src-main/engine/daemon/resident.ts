// Memory settings for an engine that stays resident (the daemon, and the foreground engine).
//
// V8 grows the young generation (new space) with the allocation rate, up to 2 x 16 MiB
// semi-spaces plus their copy space, and gives it back only when its memory reducer decides to:
// a daemon that brings a CLAT up and down then sits anywhere between ~70 and ~90 MB, moving by
// 15-20 MB from one network change to the next (measured: test/netns/daemon.test.ts item 7).
// Loading the engine's modules alone (zod and its schemas above all) grows it from 1 to 8 MiB
// (Node 20: RSS 66.5 MB after the imports of `clatbar run`, 62.0 MB with the factor set before
// them), so `clatbar run` sets it before its modules load (cli/main.ts).
// The engine allocates little per packet (the data path nothing, DNS64 a few small objects per
// query), so a young generation that stays at its initial 1 MiB semi-spaces costs a few more
// scavenges and saves that memory for good.
//
// `--max-semi-space-size` only counts when given on node's command line (the heap is configured
// when the isolate is created), which the systemd unit, pkexec from the app, the lab and the
// tests would each have to repeat; the growth factor is read each time new space would grow, so
// setting it here, before the engine allocates anything, holds for every way it is started.
import { setFlagsFromString } from 'node:v8';
import type { EngineStateName } from '../../shared/status.js';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Quiet time after the engine last looked at the network before it gives memory back. */
export const RELEASE_AFTER_MS = 5000;

export interface SettledRelease {
  /** The engine finished looking at the network and is in `state`: the wait starts again. */
  settled(state: EngineStateName): void;
  stop(): void;
}

/**
 * Gives memory back once each time the daemon settles out of the CLAT's way (standby, off,
 * attention), `afterMs` after the last evaluation: a network change leaves 5-15 MB of garbage
 * (old space, freed pages V8 keeps, malloc'd chunks) that V8's memory reducer collects when it
 * sees fit, 80 s to more than 180 s later or not at all (docs/daemon.md). One timer per settle
 * and none at rest, so the idle engine is never woken for it. Not while active: the collection
 * stops the event loop, and so the data path, for ~100 ms.
 */
export function releaseWhenSettled(o: { afterMs?: number; release: () => void }): SettledRelease {
  let timer: NodeJS.Timeout | null = null;
  const cancel = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return {
    settled(state) {
      cancel();
      if (state === 'active' || state === 'stopping') return;
      timer = setTimeout(() => {
        timer = null;
        o.release();
      }, o.afterMs ?? RELEASE_AFTER_MS);
      timer.unref();
    },
    stop: cancel,
  };
}
