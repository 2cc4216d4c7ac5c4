// Loads the data path lazily, so `clatbar run --cleanup` and `--help` work even where the
// native addon is not built; bring-up then fails with the addon loader's own fix.
import type { DataPathFactory } from './datapath-types.js';

export async function loadDataPath(): Promise<DataPathFactory> {
  const { translatingDataPath } = await import('./datapath.js');
  return translatingDataPath;
}
