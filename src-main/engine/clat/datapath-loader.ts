// Loads the data path lazily, so `clatbar run --cleanup` and `--help` work even where the
// native addon is not built; bring-up then fails with the addon loader's own fix.
import type { DataPathFactory } from './datapath-types.js';

export async function loadDataPath(): Promise<DataPathFactory> {
  const { translatingDataPath } = await import('./datapath.js');
  return translatingDataPath;
}

/**
 * The data path for the daemon, loaded at its first bring-up rather than at start: a daemon that
 * never needs the CLAT (a dual-stack network all day) never holds the translator. `prefetch`
 * starts loading it without waiting (the supervisor calls it once a NAT64 prefix is seen, so the
 * import runs beside the network re-read, not between the router advertisement and the TUN).
 */
export function lazyDataPath(): { factory: DataPathFactory; prefetch: () => void } {
  let loading: Promise<DataPathFactory> | null = null;
  const load = (): Promise<DataPathFactory> => {
    loading ??= loadDataPath().catch((err: unknown) => {
      loading = null; // the next bring-up tries again and reports the loader's error
      throw err;
    });
    return loading;
  };
  return {
    factory: async (p) => (await load())(p),
    prefetch: () => void load().catch(() => {}),
  };
}
