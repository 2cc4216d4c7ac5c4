// Module entry. Node-API only (no V8 or libuv ABI beyond uv_poll via napi_get_uv_event_loop),
// so the same .node loads in Node and in Electron.
#include <napi.h>

#include "bindings.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
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
