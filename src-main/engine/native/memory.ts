// Gives the memory the process no longer uses back to the system now (native/src/memory.cc):
// V8 collects everything it can, compacts and unmaps its empty pages, then the C library hands
// its free pages back. Blocks the event loop for the collection (~50-150 ms on a settled engine).
import { nativeFeature } from './native.js';

/** true when the C library gave pages back (always false where it is not glibc). */
export function releaseMemory(): boolean {
  return nativeFeature('releaseMemory')();
}
