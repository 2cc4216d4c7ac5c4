// A raw ICMPv6 socket bound to one interface that receives Router Advertisements, so the engine
// can read PREF64 options (RFC 8781) itself: the kernel consumes RAs but does not expose PREF64
// to userspace on every distribution's kernel, and Node has no raw sockets.
#include <arpa/inet.h>
#include <net/if.h>
#include <napi.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "bindings.h"
#include "errors.h"
#include "js_call.h"
#include "netns_linux.h"
#include "poll_handle.h"

namespace clatbar {
namespace {

class RaSocket : public Napi::ObjectWrap<RaSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RaSocket",
                       {
                           InstanceMethod("info", &RaSocket::Info),
                           InstanceMethod("start", &RaSocket::Start),
                           InstanceMethod("solicit", &RaSocket::Solicit),
                           InstanceMethod("close", &RaSocket::Close),
                       });
  }

  // new RaSocket({ ifname, netns?, onMessage(payload, source, hopLimit, ifindex), onError(err) })
  explicit RaSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RaSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "RaSocket: options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value v = o.Get("ifname");
    if (!v.IsString()) throw Napi::TypeError::New(env, "RaSocket: ifname (string) required");
    ifname_ = v.As<Napi::String>().Utf8Value();
    if (ifname_.empty() || ifname_.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "RaSocket: bad interface name");
    v = o.Get("netns");
    std::string netns = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    // Options are read (getters are JS) before the socket exists and before the thread enters
    // the namespace, so a throwing getter leaks nothing and no JS runs in another namespace.
    v = o.Get("onMessage");
    if (v.IsFunction()) onMessage_ = Napi::Persistent(v.As<Napi::Function>());
    v = o.Get("onError");
    if (v.IsFunction()) onError_ = Napi::Persistent(v.As<Napi::Function>());
    actx_ = std::make_unique<Napi::AsyncContext>(env, "clatbar.RaSocket");
    if (napi_get_uv_event_loop(env, &loop_) != napi_ok) throw Napi::Error::New(env, "RaSocket: no libuv event loop");
    std::string what = "router advertisement socket on " + ifname_;
    {
      NetnsGuard ns(netns);
      if (ns.error) throw ErrnoError(env, ns.error, ns.failedCall, what + " in " + netns, NetnsHint(ns.error));
      ifindex_ = if_nametoindex(ifname_.c_str());
      if (ifindex_ == 0) throw ErrnoError(env, errno, "if_nametoindex", what, "no such interface");
      fd_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
      if (fd_ < 0) {
        int e = errno;
        throw ErrnoError(env, e, "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", what,
                         e == EPERM || e == EACCES ? "needs root or CAP_NET_RAW" : "");
      }
    }
    // Only RAs reach us; everything else ICMPv6 stays in the kernel (RFC 3542 §3.2).
    struct icmp6_filter filt;
    ICMP6_FILTER_SETBLOCKALL(&filt);
    ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &filt);
    int one = 1, hops = 255, loop = 0;
    unsigned idx = ifindex_;
    struct {
      int level, name;
      const void* val;
      socklen_t len;
      const char* call;
    } opts[] = {
        {IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof filt, "setsockopt(ICMP6_FILTER)"},
        {SOL_SOCKET, SO_BINDTODEVICE, ifname_.c_str(), static_cast<socklen_t>(ifname_.size() + 1),
         "setsockopt(SO_BINDTODEVICE)"},
        {IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one, "setsockopt(IPV6_RECVPKTINFO)"},
        {IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one, "setsockopt(IPV6_RECVHOPLIMIT)"},
        // RFC 4861 §6.1.1/§4.1: ND messages are sent with hop limit 255 so receivers can tell
        // they were not forwarded.
        {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops, "setsockopt(IPV6_MULTICAST_HOPS)"},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops, "setsockopt(IPV6_UNICAST_HOPS)"},
        {IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx, "setsockopt(IPV6_MULTICAST_IF)"},
        {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop, "setsockopt(IPV6_MULTICAST_LOOP)"},
    };
    for (auto& s : opts) {
      if (setsockopt(fd_, s.level, s.name, s.val, s.len) != 0) {
        int e = errno;
        ::close(fd_);
        fd_ = -1;
        throw ErrnoError(env, e, s.call, what);
      }
    }
    Ref();
  }

  ~RaSocket() override {
    StopPoll();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("ifname", ifname_);
    o.Set("ifindex", ifindex_);
    o.Set("fd", fd_);
    return o;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "start", "router advertisement socket", "it is closed");
    if (onMessage_.IsEmpty()) throw Napi::TypeError::New(env, "RaSocket.start: no onMessage callback");
    if (poll_) return env.Undefined();
    int r = PollHandle::Open(env, loop_, fd_, true, this, &poll_);
    if (r != 0) throw ErrnoError(env, -r, "uv_poll_init", "router advertisement socket on " + ifname_);
    poll_->Start(UV_READABLE, OnPoll);
    return env.Undefined();
  }

  // Sends a Router Solicitation (RFC 4861 §4.1) to all-routers so a router answers now instead of
  // at its next periodic RA (up to 600 s later by default).
  Napi::Value Solicit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "sendto", "router solicitation", "the socket is closed");
    uint8_t rs[8] = {ND_ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0};  // checksum filled in by the kernel
    struct sockaddr_in6 dst {};
    dst.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "ff02::2", &dst.sin6_addr);
    dst.sin6_scope_id = ifindex_;
    if (sendto(fd_, rs, sizeof rs, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) {
      int e = errno;
      throw ErrnoError(env, e, "sendto", "router solicitation on " + ifname_,
                       e == EADDRNOTAVAIL || e == ENETDOWN ? "the interface is down or has no link-local address yet"
                                                           : "");
    }
    return env.Undefined();
  }

  void StopPoll() {
    if (poll_) poll_->Close();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) {
      StopPoll();
      ::close(fd_);
      fd_ = -1;
      onMessage_.Reset();
      onError_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  void Call(Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
    CallJs(Env(), Value(), fn, args, *actx_);
  }
  void ReportError(const Napi::Error& err) { clatbar::ReportError(Env(), Value(), onError_, err, *actx_); }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    RaSocket* self = static_cast<RaSocket*>(h->data);
    if (!self || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    if (!CanRunJs(env)) return;  // a worker being terminated (js_call.h)
    Napi::HandleScope scope(env);
    self->Ref();
    if (status < 0) {
      self->StopPoll();
      self->ReportError(ErrnoError(env, -status, "poll", "router advertisement socket on " + self->ifname_));
    } else {
      // RAs are rare and small; drain what is there, one callback each.
      for (int i = 0; i < 64 && self->fd_ >= 0; i++) {
        uint8_t buf[65536];
        alignas(struct cmsghdr) uint8_t cbuf[256];
        struct sockaddr_in6 src {};
        struct iovec iov = {buf, sizeof buf};
        struct msghdr msg {};
        msg.msg_name = &src;
        msg.msg_namelen = sizeof src;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        ssize_t n = recvmsg(self->fd_, &msg, 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          int e = errno;
          if (e != EAGAIN) self->ReportError(ErrnoError(env, e, "recvmsg", "router advertisement socket on " + self->ifname_));
          break;
        }
        int hopLimit = -1;
        unsigned ifindex = 0;
        for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != IPPROTO_IPV6) continue;
          if (c->cmsg_type == IPV6_HOPLIMIT) std::memcpy(&hopLimit, CMSG_DATA(c), sizeof hopLimit);
          if (c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = pi.ipi6_ifindex;
          }
        }
        char addr[INET6_ADDRSTRLEN] = "";
        inet_ntop(AF_INET6, &src.sin6_addr, addr, sizeof addr);
        self->Call(self->onMessage_, {Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(n)),
                                      Napi::String::New(env, addr), Napi::Number::New(env, hopLimit),
                                      Napi::Number::New(env, ifindex)});
      }
    }
    self->Unref();
  }

  int fd_ = -1;
  std::string ifname_;
  unsigned ifindex_ = 0;
  uv_loop_t* loop_ = nullptr;
  PollHandle* poll_ = nullptr;
  Napi::FunctionReference onMessage_, onError_;
  std::unique_ptr<Napi::AsyncContext> actx_;
};

}  // namespace

void InitRaSocket(Napi::Env env, Napi::Object exports) { exports.Set("RaSocket", RaSocket::Define(env)); }

}  // namespace clatbar
