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

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
