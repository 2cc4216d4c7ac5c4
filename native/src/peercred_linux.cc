// SO_PEERCRED: who is on the other end of a Unix socket. The engine's control socket uses it to
// decide whether a local user may change state; Node exposes no way to ask.
#include <napi.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "bindings.h"
#include "errors.h"

namespace clatbar {
namespace {

// getPeerCred(fd) -> { pid, uid, gid } as the kernel recorded them at connect()/socketpair().
Napi::Value GetPeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "getPeerCred(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    int e = errno;
    throw ErrnoError(env, e, "getsockopt(SO_PEERCRED)", "read peer credentials of fd " + std::to_string(fd),
                     e == ENOTSOCK || e == ENOPROTOOPT || e == EOPNOTSUPP
                         ? "the fd is not a connected Unix-domain socket"
                         : e == EBADF ? "the fd is not open (was the socket already closed?)" : "");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", cred.pid);
  o.Set("uid", cred.uid);
  o.Set("gid", cred.gid);
  return o;
}

// getPeerGroups(fd) -> number[]: the peer's supplementary groups as the kernel recorded them at
// connect() (SO_PEERGROUPS, Linux 4.13+), from the same credentials as SO_PEERCRED. Unlike
// /proc/PID/status it cannot be raced: the process may exit or its pid be reused meanwhile.
// Throws with code ENOPROTOOPT on older kernels (the caller falls back to /proc).
Napi::Value GetPeerGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "getPeerGroups(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; attempt++) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      size_t n = len / sizeof(gid_t);
      Napi::Array out = Napi::Array::New(env, n);
      for (size_t i = 0; i < n; i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, groups[i]));
      return out;
    }
    int e = errno;
    // ERANGE: the kernel wrote the size it needs into len; grow to it (NGROUPS_MAX bounds it).
    if (e == ERANGE && len > groups.size() * sizeof(gid_t) && len <= 65536 * sizeof(gid_t)) {
      groups.resize(len / sizeof(gid_t));
      continue;
    }
    throw ErrnoError(env, e, "getsockopt(SO_PEERGROUPS)", "read peer groups of fd " + std::to_string(fd),
                     e == ENOPROTOOPT ? "the kernel is older than 4.13" : "");
  }
  throw ErrnoError(env, ERANGE, "getsockopt(SO_PEERGROUPS)", "read peer groups of fd " + std::to_string(fd),
                   "the group list kept growing");
#else
  throw ErrnoError(env, ENOPROTOOPT, "getsockopt(SO_PEERGROUPS)", "read peer groups of fd " + std::to_string(fd),
                   "built without SO_PEERGROUPS");
#endif
}

}  // namespace

void InitPeerCred(Napi::Env env, Napi::Object exports) {
  exports.Set("getPeerCred", Napi::Function::New(env, GetPeerCred, "getPeerCred"));
  exports.Set("getPeerGroups", Napi::Function::New(env, GetPeerGroups, "getPeerGroups"));
}

}  // namespace clatbar
