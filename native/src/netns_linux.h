// Enter a network namespace for the duration of a scope, on the calling thread only.
// Used so a device or socket can be created inside a namespace (tests, benches, a future
// per-namespace engine) while the process stays where it is: a TUN device and a socket belong to
// the namespace they were created in, whatever the thread does afterwards.
#pragma once
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace clatbar {

class NetnsGuard {
 public:
  // Empty path: no-op. Otherwise `error` is set to an errno on failure and `failedCall` names it.
  explicit NetnsGuard(const std::string& path) {
    if (path.empty()) return;
    orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig_ < 0) {
      error = errno;
      failedCall = "open(/proc/thread-self/ns/net)";
      return;
    }
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      error = errno;
      failedCall = "open(netns)";
      return;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      error = errno;
      failedCall = "setns";
    } else {
      entered_ = true;
    }
    close(target);
  }
  ~NetnsGuard() {
    // Going back cannot fail for a namespace we were in a moment ago short of the kernel
    // running out of memory; if it did, carrying on in the wrong namespace would silently
    // misconfigure the host, so stop instead.
    if (entered_ && setns(orig_, CLONE_NEWNET) != 0) abort();
    if (orig_ >= 0) close(orig_);
  }
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

  int error = 0;
  const char* failedCall = "";

 private:
  int orig_ = -1;
  bool entered_ = false;
};

// What to do about a NetnsGuard failure, by its errno.
inline const char* NetnsHint(int err) {
  switch (err) {
    case ENOENT:
      return "no such network namespace (`ip netns list` shows the names)";
    case EINVAL:
      return "not a network namespace file (expected /run/netns/NAME or /proc/PID/ns/net)";
    case EPERM:
    case EACCES:
      return "entering a network namespace needs root or CAP_SYS_ADMIN";
    default:
      return "";
  }
}

}  // namespace clatbar
