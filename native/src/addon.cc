// Module entry. Node-API only (no V8 or libuv ABI beyond uv_poll via napi_get_uv_event_loop),
// so the same .node loads in Node and in Electron; the one exception is releaseMemory()
// (memory.cc), which calls V8's public API and is called only by the engine, on Node.
#include <napi.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bindings.h"

namespace {

// glibc raises its mmap threshold to the size of every large block freed (up to 32 MiB), so
// after the first TUN ring (8 MiB) is freed, the next one comes from the brk heap: calloc then
// zeroes it there, touching every page, and freed it stays resident in the middle of the heap.
// A daemon that opens a device per network change grew by a ring every few changes that way
// (test/netns/daemon.test.ts, item 7). A fixed threshold keeps large blocks in their own
// mappings: untouched pages cost nothing and free gives them back to the system at once.
void FixMmapThreshold() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  FixMmapThreshold();
  clatbar::InitMemory(env, exports);
#if defined(__linux__)
  exports.Set("platform", Napi::String::New(env, "linux"));
  clatbar::InitTun(env, exports);
  clatbar::InitPeerCred(env, exports);
  clatbar::InitRaSocket(env, exports);
  clatbar::InitUdp(env, exports);
#else
  // macOS utun and Windows Wintun back ends slot in here (docs/native.md); until then the
  // wrapper reports "not supported on this platform" from the missing classes.
  exports.Set("platform", Napi::String::New(env, "unsupported"));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(clatbar_native, Init)
