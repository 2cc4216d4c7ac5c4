// Calls from libuv callbacks into JS, shared by the addon's event-loop objects (Tun, RaSocket).
#pragma once
#include <napi.h>

#include <initializer_list>

namespace clatbar {

// Whether JS can run in `env` now. A terminated worker's libuv loop can still run a poll callback
// after its JS has stopped; N-API calls that need JS then fail, and where node-addon-api builds an
// Error for such a failure (the callbacks' error reports do: ErrnoError), building it needs JS
// too: a fatal abort. Every libuv callback that may reach JS asks this first and does nothing when
// the answer is no: the environment is going away with everything in it. (A termination *during*
// a call into JS is CallJs's case, below.) napi_coerce_to_bool runs N-API's preamble, which checks
// exactly that, and nothing else on a boolean.
inline bool CanRunJs(napi_env env) {
  napi_value t, r;
  if (napi_get_boolean(env, true, &t) != napi_ok) return false;
  return napi_coerce_to_bool(env, t, &r) == napi_ok;
}

// Runs `fn` with `recv` as `this` in `ctx`. There is no JS caller to throw to, so an exception
// becomes an uncaught exception of the process (what a throwing 'data' listener on a socket does),
// never silently dropped. Raw N-API rather than node-addon-api's MakeCallback: when the worker
// this runs in is terminated from another thread during the call, what is pending afterwards is
// V8's termination, and node-addon-api would wrap that in a Napi::Error whose construction needs
// JS: the process aborted (Error::Error napi_define_properties). A termination ends quietly here.
inline void CallJs(Napi::Env env, Napi::Object recv, Napi::FunctionReference& fn,
                   std::initializer_list<napi_value> args, Napi::AsyncContext& ctx) {
  if (fn.IsEmpty()) return;
  napi_value f = nullptr, result;
  if (napi_get_reference_value(env, fn, &f) != napi_ok || f == nullptr) return;
  if (napi_make_callback(env, ctx, recv, f, args.size(), args.begin(), &result) == napi_ok) return;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
  napi_value exc;
  if (napi_get_and_clear_last_exception(env, &exc) != napi_ok) return;
  if (CanRunJs(env)) napi_fatal_exception(env, exc);
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
