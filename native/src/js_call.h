// Calls from libuv callbacks into JS, shared by the addon's event-loop objects (Tun, RaSocket).
#pragma once
#include <napi.h>

#include <initializer_list>

namespace clatbar {

// Runs `fn` with `recv` as `this` in `ctx`. There is no JS caller to throw to, so an exception
// becomes an uncaught exception of the process (what a throwing 'data' listener on a socket does),
// never silently dropped.
inline void CallJs(Napi::Env env, Napi::Object recv, Napi::FunctionReference& fn,
                   std::initializer_list<napi_value> args, Napi::AsyncContext& ctx) {
  if (fn.IsEmpty()) return;
  try {
    fn.MakeCallback(recv, args, ctx);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

// Hands `err` to `onError`, or makes it an uncaught exception when nobody listens.
inline void ReportError(Napi::Env env, Napi::Object recv, Napi::FunctionReference& onError, const Napi::Error& err,
                        Napi::AsyncContext& ctx) {
  if (onError.IsEmpty())
    napi_fatal_exception(env, err.Value());
  else
    CallJs(env, recv, onError, {err.Value()}, ctx);
}

}  // namespace clatbar
