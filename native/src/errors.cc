#include "errors.h"

#include <cerrno>
#include <cstring>

namespace clatbar {

std::string ErrnoName(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV) E(ENOTDIR) E(EINVAL) E(ENFILE) E(EMFILE)
    E(ENOTTY) E(ENOSPC) E(EPIPE) E(ERANGE) E(ENOSYS) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE)
    E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE)
    E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENOBUFS) E(ENOTCONN) E(ETIMEDOUT)
    E(ECONNREFUSED) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS)
#ifdef EBADFD
    E(EBADFD)
#endif
#undef E
    default:
      return "E" + std::to_string(err);
  }
}

static std::string DefaultHint(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return "needs root or CAP_NET_ADMIN (run the engine as root, or grant the capability)";
    case EMFILE:
    case ENFILE:
      return "too many open files: close unused devices or raise the file descriptor limit";
    case ENODEV:
    case ENXIO:
      return "the interface does not exist (was it deleted or moved to another network namespace?)";
    case ENOMEM:
    case ENOBUFS:
      return "the kernel is out of memory for network buffers; retry later";
    case EBADF:
    case EBADFD:
      return "the device was closed or detached; open it again";
    default:
      return "";
  }
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what,
                       const std::string& hint) {
  std::string code = ErrnoName(err);
  std::string msg = what + ": " + syscall + " failed with " + code + " (" + std::strerror(err) + ")";
  std::string h = hint.empty() ? DefaultHint(err) : hint;
  if (!h.empty()) msg += ": " + h;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

}  // namespace clatbar
