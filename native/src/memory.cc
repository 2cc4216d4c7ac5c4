// releaseMemory(): gives the memory a resident engine no longer uses back to the system, now,
// rather than when V8's memory reducer gets to it (docs/daemon.md, "Memory and time of a resident
// engine"). The daemon calls it once when it has settled into standby (engine/daemon/resident.ts).
//
// The one call of this addon into V8's own API: Node-API has no way to ask for a collection. Only
// the engine calls it, and the engine runs on Node (its own runtime in the package), never on
// Electron; the symbols are V8's public API, resolved lazily by the dynamic loader, so the addon
// still loads where nothing calls this.
#include <napi.h>
#include <v8.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bindings.h"

namespace clatbar {
namespace {

// V8: LowMemoryNotification is a full collection repeated until nothing more is freed, with
// compaction and the memory-reducing flags (new space shrunk, empty pages unmapped, the
// compilation cache dropped). It is what V8's memory reducer does after a quiet while, without
// the wait; a full collection as `gc()` runs it frees the objects but keeps their pages (measured:
// old space committed 15.25 MB before and after). It blocks the thread for its length (~50-150 ms).
//
// glibc: free() keeps freed chunks in its arenas; malloc_trim(0) hands every whole free page back
// (madvise) in every arena, the main heap's top included. V8's collection frees malloc'd memory of
// its own (the compilation cache, external strings), so the trim comes after it.
Napi::Value ReleaseMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) throw Napi::Error::New(env, "releaseMemory: no V8 isolate on this thread");
  isolate->LowMemoryNotification();
  bool trimmed = false;
#if defined(__GLIBC__)
  trimmed = malloc_trim(0) == 1;
#endif
  return Napi::Boolean::New(env, trimmed);
}

}  // namespace

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("releaseMemory", Napi::Function::New(env, ReleaseMemory, "releaseMemory"));
}

}  // namespace clatbar
