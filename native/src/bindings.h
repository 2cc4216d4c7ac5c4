#pragma once
#include <napi.h>

namespace clatbar {
// Each back end adds its classes and functions to the module's exports.
void InitTun(Napi::Env env, Napi::Object exports);
void InitPeerCred(Napi::Env env, Napi::Object exports);
void InitRaSocket(Napi::Env env, Napi::Object exports);
void InitUdp(Napi::Env env, Napi::Object exports);
// Every platform: releaseMemory() (V8 and the C library's allocator; memory.cc).
void InitMemory(Napi::Env env, Napi::Object exports);
}  // namespace clatbar
