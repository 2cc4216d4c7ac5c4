// Picks the data path: the native TUN with the SIIT translator when the addon is built, else
// says why and stops (a CLAT that does not translate would only blackhole IPv4).
import type { DataPathFactory } from './datapath-types.js';
import { stubDataPath } from './stub-datapath.js';

export async function loadDataPath(log: (l: string) => void): Promise<DataPathFactory> {
  // Bring-up tests that need no translation may ask for the stand-in explicitly.
  if (process.env.CLATBAR_DATAPATH === 'stub') {
    log('data path: stand-in without translation (CLATBAR_DATAPATH=stub)');
    return stubDataPath;
  }
  const { translatingDataPath } = await import('./datapath.js');
  return translatingDataPath;
}
