// SO_PEERCRED: who is on the other end of a Unix socket. The engine's control socket uses it to
// decide whether a local user may change state; Node exposes no way to ask.
#include <napi.h>
#include <sys/socket.h>

#include <cerrno>

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

}  // namespace

void InitPeerCred(Napi::Env env, Napi::Object exports) {
  exports.Set("getPeerCred", Napi::Function::New(env, GetPeerCred, "getPeerCred"));
}

}  // namespace clatbar
