// The translating data path: native TUN <-> SIIT translator. Filled in when the TUN binding and
// the translator land.
import type { DataPathFactory } from './datapath-types.js';

export const translatingDataPath: DataPathFactory = async () => {
  throw new Error(
    'the translating data path is not built yet; CLATBAR_DATAPATH=stub runs without translation',
  );
};
