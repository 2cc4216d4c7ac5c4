// Batched UDP sockets: recvmmsg/sendmmsg below JavaScript, for servers whose cost is per datagram
// (the DNS64 stub: profiling showed ~30% of its CPU in node:dgram's per-datagram machinery and
// ~50% in one sendmsg system call per reply).
//
// Design, the same as the TUN back end's (tun_linux.cc):
// - The socket is non-blocking and watched with uv_poll on the Node event loop: no threads, no
//   blocked system call, so close() is immediate and safe at any time, even inside a callback.
// - Datagrams are received into fixed slots of one ArrayBuffer that JS sees directly; the batch
//   descriptor (offsets, lengths, source addresses as 16 packed bytes each, ports, IPv6 scope ids)
//   lives in further shared ArrayBuffers, so a batch costs JS one call and no allocation. The
//   slots are reused by the next batch: JS copies what it keeps beyond the callback.
// - Replies go out with one sendmmsg per call, straight from the caller's buffer. On EAGAIN the
//   rest is copied into a bounded queue flushed when the socket becomes writable; beyond the
//   bound datagrams are dropped and counted (UDP may lose datagrams; unbounded memory may not).
//
// Addresses in the descriptor and in send calls: 16 bytes per entry. An IPv4 socket uses the
// first 4 (network order); an IPv6 socket the whole 16 (IPv4 clients of a dual-stack socket
// appear as ::ffff:a.b.c.d, RFC 4291 §2.5.5.2). Ports are host order.
#include <arpa/inet.h>
#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"
#include "js_call.h"
#include "netns_linux.h"
#include "poll_handle.h"

namespace clatbar {
namespace {

// The kernel caps one recvmmsg/sendmmsg call at UIO_MAXIOV (1024) messages.
constexpr uint32_t kMaxBatch = 1024;
constexpr uint32_t kDefaultBatch = 64;
constexpr uint32_t kDefaultSlot = 4096;
// Batches read per wakeup before going back to the loop, so timers and other sockets get a turn.
constexpr int kRoundsPerWakeup = 8;

struct Pending {
  std::vector<uint8_t> data;
  sockaddr_storage to;
  socklen_t toLen;
};

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {
                           InstanceMethod("info", &UdpSocket::Info),
                           InstanceMethod("start", &UdpSocket::Start),
                           InstanceMethod("pause", &UdpSocket::Pause),
                           InstanceMethod("sendBatch", &UdpSocket::SendBatch),
                           InstanceMethod("stats", &UdpSocket::Stats),
                           InstanceMethod("close", &UdpSocket::Close),
                       });
  }

  // new UdpSocket({ address, port, ipv6Only?, reuseAddr?, batch?, slotSize?, rcvbuf?, sndbuf?,
  //                 maxQueue?, maxQueueBytes?, netns?, onMessages(count), onError(err) })
  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "UdpSocket: options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    // Every option is read (getters are JS) before the socket exists: a throwing getter leaks
    // nothing, and no JS runs while the thread is inside another namespace.
    Napi::Value v = o.Get("address");
    if (!v.IsString()) throw Napi::TypeError::New(env, "UdpSocket: address (an IP literal) required");
    std::string address = v.As<Napi::String>().Utf8Value();
    int port = IntOpt(o, "port", 0, 0, 65535);
    bool v6only = o.Get("ipv6Only").ToBoolean().Value();
    bool reuse = o.Get("reuseAddr").ToBoolean().Value();
    batch_ = static_cast<uint32_t>(IntOpt(o, "batch", kDefaultBatch, 1, kMaxBatch));
    slot_ = static_cast<uint32_t>(IntOpt(o, "slotSize", kDefaultSlot, 512, 65536));
    int rcvbuf = IntOpt(o, "rcvbuf", 0, 0, 1 << 30);
    int sndbuf = IntOpt(o, "sndbuf", 0, 0, 1 << 30);
    maxQueue_ = static_cast<size_t>(IntOpt(o, "maxQueue", 4096, 0, 1 << 20));
    maxQueueBytes_ = static_cast<size_t>(IntOpt(o, "maxQueueBytes", 4 << 20, 0, 1 << 30));
    v = o.Get("netns");
    std::string netns = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    v = o.Get("onMessages");
    if (v.IsFunction()) onMessages_ = Napi::Persistent(v.As<Napi::Function>());
    v = o.Get("onError");
    if (v.IsFunction()) onError_ = Napi::Persistent(v.As<Napi::Function>());

    sockaddr_storage ss{};
    socklen_t sl;
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, address.c_str(), &s4->sin_addr) == 1) {
      family_ = AF_INET;
      s4->sin_family = AF_INET;
      s4->sin_port = htons(static_cast<uint16_t>(port));
      sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, address.c_str(), &s6->sin6_addr) == 1) {
      family_ = AF_INET6;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(static_cast<uint16_t>(port));
      sl = sizeof *s6;
    } else {
      throw Napi::TypeError::New(env, "UdpSocket: '" + address + "' is not an IPv4 or IPv6 address literal");
    }
    what_ = "UDP socket " + (family_ == AF_INET6 ? "[" + address + "]" : address) + ":" + std::to_string(port);

    actx_ = std::make_unique<Napi::AsyncContext>(env, "clatbar.UdpSocket");
    if (napi_get_uv_event_loop(env, &loop_) != napi_ok) throw Napi::Error::New(env, "UdpSocket: no libuv event loop");
    {
      NetnsGuard ns(netns);
      if (ns.error) throw ErrnoError(env, ns.error, ns.failedCall, what_ + " in " + netns, NetnsHint(ns.error));
      fd_ = socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
      if (fd_ < 0) throw ErrnoError(env, errno, "socket(SOCK_DGRAM)", what_);
    }
    int one = 1;
    if (reuse && setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) Fail(env, "setsockopt(SO_REUSEADDR)");
    if (family_ == AF_INET6) {
      int only = v6only ? 1 : 0;
      if (setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0) Fail(env, "setsockopt(IPV6_V6ONLY)");
    }
    // Bigger buffers only absorb bursts; the kernel clamps them to net.core.[rw]mem_max, which is
    // fine, so failures here are not errors.
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (sndbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&ss), sl) != 0) {
      int e = errno;
      Fail(env, "bind", e == EADDRINUSE  ? "the port is taken by another socket"
                        : e == EACCES     ? "ports below 1024 need root or CAP_NET_BIND_SERVICE"
                        : e == EADDRNOTAVAIL ? "no interface has this address"
                                             : "");
    }
    sockaddr_storage bound{};
    socklen_t bl = sizeof bound;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bl) != 0) Fail(env, "getsockname");
    port_ = ntohs(family_ == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                     : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);

    Napi::ArrayBuffer rx = Napi::ArrayBuffer::New(env, static_cast<size_t>(batch_) * slot_);
    Napi::ArrayBuffer desc = Napi::ArrayBuffer::New(env, static_cast<size_t>(batch_) * kDescEntry);
    rxRef_ = Napi::Persistent(rx);
    descRef_ = Napi::Persistent(desc);
    rx_ = static_cast<uint8_t*>(rx.Data());
    uint8_t* d = static_cast<uint8_t*>(desc.Data());
    // Layout of desc: offsets u32[batch], lengths u32[batch], scopes u32[batch], ports u16[batch],
    // (pad to 4), addrs u8[16 * batch]. All views are aligned for their element size.
    offs_ = reinterpret_cast<uint32_t*>(d);
    lens_ = offs_ + batch_;
    scopes_ = lens_ + batch_;
    ports_ = reinterpret_cast<uint16_t*>(scopes_ + batch_);
    addrs_ = reinterpret_cast<uint8_t*>(ports_) + PortsBytes();
    names_.resize(batch_);
    iovs_.resize(batch_);
    hdrs_.resize(batch_);
    for (uint32_t i = 0; i < batch_; i++) {
      iovs_[i] = {rx_ + static_cast<size_t>(i) * slot_, slot_};
      hdrs_[i].msg_hdr.msg_iov = &iovs_[i];
      hdrs_[i].msg_hdr.msg_iovlen = 1;
      hdrs_[i].msg_hdr.msg_name = &names_[i];
    }
    Ref();  // alive while open, whether or not JS keeps the object
  }

  ~UdpSocket() override {
    if (poll_) poll_->Close();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  // Bytes per batch entry in desc: 3 u32 + 1 u16 (+ its share of padding) + 16 address bytes.
  static constexpr size_t kDescEntry = 12 + 4 + 16;
  size_t PortsBytes() const { return (static_cast<size_t>(batch_) * 2 + 3) / 4 * 4; }

  static int IntOpt(Napi::Object o, const char* name, int dflt, int lo, int hi) {
    Napi::Value v = o.Get(name);
    if (v.IsUndefined() || v.IsNull()) return dflt;
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("UdpSocket: ") + name + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= lo && d <= hi) || d != static_cast<int>(d))
      throw Napi::RangeError::New(o.Env(), std::string("UdpSocket: ") + name + " must be a whole number from " +
                                               std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(d);
  }

  [[noreturn]] void Fail(Napi::Env env, const char* call, const std::string& hint = "") {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw ErrnoError(env, e, call, what_, hint);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("fd", fd_);
    o.Set("family", family_ == AF_INET6 ? 6 : 4);
    o.Set("port", port_);
    o.Set("batch", batch_);
    o.Set("slotSize", slot_);
    o.Set("rx", rxRef_.Value());
    o.Set("desc", descRef_.Value());
    o.Set("portsOffset", static_cast<double>(batch_) * 12);
    o.Set("addrsOffset", static_cast<double>(batch_) * 12 + PortsBytes());
    return o;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "start", what_, "it is closed");
    if (onMessages_.IsEmpty()) throw Napi::TypeError::New(env, "UdpSocket.start: no onMessages callback");
    reading_ = true;
    UpdatePoll(env);
    return env.Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    reading_ = false;
    if (fd_ >= 0) UpdatePoll(info.Env());
    return info.Env().Undefined();
  }

  // Polls for readable while reading, for writable while the send queue holds datagrams.
  void UpdatePoll(Napi::Env env) {
    int want = (reading_ ? UV_READABLE : 0) | (queue_.empty() ? 0 : UV_WRITABLE);
    if (want == polled_) return;
    if (!poll_) {
      int r = PollHandle::Open(env, loop_, fd_, true, this, &poll_);
      if (r != 0) {
        ReportError(ErrnoError(env, -r, "uv_poll_init", what_));
        return;
      }
    }
    polled_ = want;
    if (want)
      poll_->Start(want, OnPoll);
    else
      poll_->Stop();
  }

  // sendBatch(buf, offsets, lengths, count, addrs, ports, scopes | null, dest | null) -> number
  // Sends datagram i (buf[offsets[i], +lengths[i]]) to entry dest[i] (i itself when dest is null)
  // of the address table (addrs: 16 bytes per entry, ports, scopes). Returns how many were sent
  // or queued; the rest were dropped (queue full) or refused by the kernel (counted in stats,
  // the first refusal also goes to onError).
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "sendmmsg", what_, "it is closed");
    if (info.Length() < 8 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
        !info[3].IsNumber() || !info[4].IsTypedArray() || !info[5].IsTypedArray())
      throw Napi::TypeError::New(env, "sendBatch(buf, offsets, lengths, count, addrs, ports, scopes, dest) expected");
    auto buf = info[0].As<Napi::Uint8Array>();
    auto offs = info[1].As<Napi::Uint32Array>();
    auto lens = info[2].As<Napi::Uint32Array>();
    auto addrs = info[4].As<Napi::Uint8Array>();
    auto ports = info[5].As<Napi::Uint16Array>();
    if (buf.TypedArrayType() != napi_uint8_array || offs.TypedArrayType() != napi_uint32_array ||
        lens.TypedArrayType() != napi_uint32_array || addrs.TypedArrayType() != napi_uint8_array ||
        ports.TypedArrayType() != napi_uint16_array)
      throw Napi::TypeError::New(env, "sendBatch: buf/addrs Uint8Array, offsets/lengths Uint32Array, ports Uint16Array");
    const uint32_t* scopes = nullptr;
    size_t nScopes = 0;
    if (info[6].IsTypedArray()) {
      auto s = info[6].As<Napi::Uint32Array>();
      if (s.TypedArrayType() != napi_uint32_array) throw Napi::TypeError::New(env, "sendBatch: scopes Uint32Array");
      scopes = s.Data();
      nScopes = s.ElementLength();
    }
    const uint32_t* dest = nullptr;
    size_t nDest = 0;
    if (info[7].IsTypedArray()) {
      auto d = info[7].As<Napi::Uint32Array>();
      if (d.TypedArrayType() != napi_uint32_array) throw Napi::TypeError::New(env, "sendBatch: dest Uint32Array");
      dest = d.Data();
      nDest = d.ElementLength();
    }
    double c = info[3].As<Napi::Number>().DoubleValue();
    size_t nEntries = std::min(ports.ElementLength(), addrs.ElementLength() / 16);
    if (!(c >= 0) || c > offs.ElementLength() || c > lens.ElementLength() || (dest && c > nDest))
      throw Napi::RangeError::New(env, "sendBatch: count exceeds the arrays");
    uint32_t count = static_cast<uint32_t>(c);
    const uint8_t* base = buf.Data();
    size_t blen = buf.ByteLength();
    // Validate everything before sending anything, so a bad call has no half effect.
    for (uint32_t i = 0; i < count; i++) {
      uint32_t k = dest ? dest[i] : i;
      if (static_cast<uint64_t>(offs[i]) + lens[i] > blen) throw Napi::RangeError::New(env, "sendBatch: datagram past the buffer's end");
      if (k >= nEntries) throw Napi::RangeError::New(env, "sendBatch: destination index past the address table");
    }

    tx_.resize(std::max<size_t>(tx_.size(), std::min<uint32_t>(count, kMaxBatch)));
    txIov_.resize(tx_.size());
    txNames_.resize(tx_.size());
    uint32_t accepted = 0;
    int firstErr = 0;
    // Datagrams queued earlier go first; while some remain, new ones queue behind them.
    if (!queue_.empty()) Flush(&firstErr);
    for (uint32_t start = 0; start < count;) {
      uint32_t n = std::min(count - start, kMaxBatch);
      for (uint32_t j = 0; j < n; j++) {
        uint32_t i = start + j;
        uint32_t k = dest ? dest[i] : i;
        txIov_[j] = {const_cast<uint8_t*>(base + offs[i]), lens[i]};
        msghdr& m = tx_[j].msg_hdr;
        m = msghdr{};
        m.msg_iov = &txIov_[j];
        m.msg_iovlen = 1;
        m.msg_name = &txNames_[j];
        m.msg_namelen = MakeAddr(&txNames_[j], addrs.Data() + 16 * k, ports[k], scopes && k < nScopes ? scopes[k] : 0);
      }
      uint32_t refused = 0;
      uint32_t sent = queue_.empty() ? SendChunk(n, &firstErr, &refused) : 0;
      accepted += sent - refused;
      start += sent;
      if (sent < n) {
        // The socket's buffer is full: the rest waits for writable, as far as the bound allows.
        for (uint32_t j = sent; j < n; j++, start++) {
          if (Enqueue(base + offs[start], lens[start], txNames_[j], tx_[j].msg_hdr.msg_namelen)) accepted++;
        }
      }
    }
    if (fd_ >= 0) UpdatePoll(env);
    if (firstErr) ReportError(ErrnoError(env, firstErr, "sendmmsg", what_));
    return Napi::Number::New(env, accepted);
  }

  socklen_t MakeAddr(sockaddr_storage* ss, const uint8_t* a, uint16_t port, uint32_t scope) const {
    if (family_ == AF_INET) {
      auto* s = reinterpret_cast<sockaddr_in*>(ss);
      *s = sockaddr_in{};
      s->sin_family = AF_INET;
      s->sin_port = htons(port);
      std::memcpy(&s->sin_addr, a, 4);
      return sizeof *s;
    }
    auto* s = reinterpret_cast<sockaddr_in6*>(ss);
    *s = sockaddr_in6{};
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    s->sin6_scope_id = scope;
    std::memcpy(&s->sin6_addr, a, 16);
    return sizeof *s;
  }

  // Sends tx_[0..n) with as few sendmmsg calls as the kernel allows. Returns how many datagrams
  // are done (sent, or refused: those are added to *refused); stops early only on EAGAIN.
  uint32_t SendChunk(uint32_t n, int* firstErr, uint32_t* refused = nullptr) {
    uint32_t done = 0;
    while (done < n) {
      int r = sendmmsg(fd_, tx_.data() + done, n - done, 0);
      if (r > 0) {
        txCalls_++;
        for (int j = 0; j < r; j++) txBytes_ += tx_[done + j].msg_len;
        txPackets_ += r;
        done += r;
        continue;
      }
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) {
        txEagain_++;
        break;
      }
      // The datagram at `done` was refused (EINVAL for port 0, EACCES for a broadcast address,
      // ENOBUFS under memory pressure, ...): it is skipped, the rest still go.
      CountError(e, firstErr);
      if (refused) ++*refused;
      done++;
    }
    return done;
  }

  void CountError(int e, int* firstErr) {
    // ENOBUFS/ENOMEM mean the kernel dropped it for want of memory: a loss, not a caller bug.
    if (e == ENOBUFS || e == ENOMEM) {
      txDropped_++;
      return;
    }
    txErrors_++;
    lastError_ = e;
    if (!*firstErr) *firstErr = e;
  }

  bool Enqueue(const uint8_t* p, uint32_t len, const sockaddr_storage& to, socklen_t toLen) {
    if (queue_.size() >= maxQueue_ || queueBytes_ + len > maxQueueBytes_) {
      txDropped_++;
      return false;
    }
    queue_.push_back(Pending{std::vector<uint8_t>(p, p + len), to, toLen});
    queueBytes_ += len;
    txQueued_++;
    return true;
  }

  // Sends what the queue holds, in order, until it is empty or the socket is full again.
  void Flush(int* firstErr) {
    while (!queue_.empty() && fd_ >= 0) {
      uint32_t n = static_cast<uint32_t>(std::min<size_t>(queue_.size(), kMaxBatch));
      tx_.resize(std::max<size_t>(tx_.size(), n));
      txIov_.resize(tx_.size());
      txNames_.resize(tx_.size());
      for (uint32_t j = 0; j < n; j++) {
        Pending& q = queue_[j];
        txIov_[j] = {q.data.data(), q.data.size()};
        msghdr& m = tx_[j].msg_hdr;
        m = msghdr{};
        m.msg_iov = &txIov_[j];
        m.msg_iovlen = 1;
        m.msg_name = &q.to;
        m.msg_namelen = q.toLen;
      }
      uint32_t done = SendChunk(n, firstErr);
      for (uint32_t j = 0; j < done; j++) {
        queueBytes_ -= queue_.front().data.size();
        queue_.pop_front();
      }
      if (done < n) break;
    }
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rxPackets", static_cast<double>(rxPackets_));
    o.Set("rxBytes", static_cast<double>(rxBytes_));
    o.Set("rxBatches", static_cast<double>(rxBatches_));
    o.Set("rxTruncated", static_cast<double>(rxTruncated_));
    o.Set("rxMaxBatch", static_cast<double>(rxMaxBatch_));
    o.Set("txPackets", static_cast<double>(txPackets_));
    o.Set("txBytes", static_cast<double>(txBytes_));
    o.Set("txCalls", static_cast<double>(txCalls_));
    o.Set("txQueued", static_cast<double>(txQueued_));
    o.Set("txEagain", static_cast<double>(txEagain_));
    o.Set("txDropped", static_cast<double>(txDropped_));
    o.Set("txErrors", static_cast<double>(txErrors_));
    o.Set("lastError", lastError_ ? Napi::String::New(env, ErrnoName(lastError_)) : env.Null());
    o.Set("queuePackets", static_cast<double>(queue_.size()));
    o.Set("queueBytes", static_cast<double>(queueBytes_));
    return o;
  }

  // Returns how many queued datagrams were dropped by closing.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    size_t dropped = queue_.size();
    DoClose();
    return Napi::Number::New(info.Env(), static_cast<double>(dropped));
  }

  void DoClose() {
    if (fd_ < 0) return;
    if (poll_) poll_->Close();  // out of epoll before the fd number can be reused
    ::close(fd_);
    fd_ = -1;
    reading_ = false;
    txDropped_ += queue_.size();
    queue_.clear();
    queueBytes_ = 0;
    onMessages_.Reset();
    onError_.Reset();
    Unref();
  }

  void Call(Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
    CallJs(Env(), Value(), fn, args, *actx_);
  }

  void ReportError(const Napi::Error& err) { clatbar::ReportError(Env(), Value(), onError_, err, *actx_); }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    UdpSocket* self = static_cast<UdpSocket*>(h->data);
    if (!self || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->Ref();  // a callback may drop JS's last reference and close
    if (status < 0) {
      self->reading_ = false;
      self->queue_.clear();
      self->queueBytes_ = 0;
      self->UpdatePoll(env);
      self->ReportError(ErrnoError(env, -status, "poll", self->what_));
    } else {
      if (events & UV_WRITABLE) {
        int firstErr = 0;
        self->Flush(&firstErr);
        if (firstErr) self->ReportError(ErrnoError(env, firstErr, "sendmmsg", self->what_));
      }
      if (self->fd_ >= 0 && self->reading_ && (events & UV_READABLE)) self->Receive(env);
      if (self->fd_ >= 0) self->UpdatePoll(env);
    }
    self->Unref();
  }

  void Receive(Napi::Env env) {
    // JS can detach the shared buffers (postMessage with a transfer list, ArrayBuffer.transfer);
    // their memory is then someone else's and must not be written again.
    if (rxRef_.Value().IsDetached() || descRef_.Value().IsDetached()) {
      reading_ = false;
      ReportError(ErrnoError(env, EFAULT, "recvmmsg", what_,
                             "its receive buffers were transferred or detached, so reading stopped; close and reopen it"));
      return;
    }
    for (int round = 0; round < kRoundsPerWakeup && fd_ >= 0 && reading_; round++) {
      for (uint32_t i = 0; i < batch_; i++) {
        hdrs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        hdrs_[i].msg_hdr.msg_flags = 0;
      }
      int r = recvmmsg(fd_, hdrs_.data(), batch_, MSG_DONTWAIT, nullptr);
      if (r < 0) {
        int e = errno;
        if (e == EINTR) continue;
        // ECONNREFUSED and friends are ICMP errors about earlier sends (with IP_RECVERR off
        // only for connected sockets, but cheap to tolerate); they say nothing about reading.
        if (e != EAGAIN && e != EWOULDBLOCK && e != ECONNREFUSED && e != EHOSTUNREACH && e != ENETUNREACH)
          ReportError(ErrnoError(env, e, "recvmmsg", what_));
        return;
      }
      uint32_t n = 0;
      for (int i = 0; i < r; i++) {
        const msghdr& m = hdrs_[i].msg_hdr;
        if (m.msg_flags & MSG_TRUNC) {
          rxTruncated_++;  // longer than a slot: dropped rather than delivered cut short
          continue;
        }
        offs_[n] = static_cast<uint32_t>(i) * slot_;
        lens_[n] = hdrs_[i].msg_len;
        uint8_t* a = addrs_ + 16 * static_cast<size_t>(n);
        if (family_ == AF_INET) {
          const auto* s = reinterpret_cast<const sockaddr_in*>(&names_[i]);
          std::memset(a, 0, 16);
          std::memcpy(a, &s->sin_addr, 4);
          ports_[n] = ntohs(s->sin_port);
          scopes_[n] = 0;
        } else {
          const auto* s = reinterpret_cast<const sockaddr_in6*>(&names_[i]);
          std::memcpy(a, &s->sin6_addr, 16);
          ports_[n] = ntohs(s->sin6_port);
          scopes_[n] = s->sin6_scope_id;
        }
        rxBytes_ += lens_[n];
        n++;
      }
      rxPackets_ += n;
      if (n > 0) {
        rxBatches_++;
        if (n > rxMaxBatch_) rxMaxBatch_ = n;
        Call(onMessages_, {Napi::Number::New(env, n)});
      }
      if (static_cast<uint32_t>(r) < batch_) return;  // drained
    }
  }

  int fd_ = -1;
  int family_ = AF_INET;
  int port_ = 0;
  std::string what_;
  uint32_t batch_ = kDefaultBatch;
  uint32_t slot_ = kDefaultSlot;
  bool reading_ = false;
  int polled_ = 0;
  uv_loop_t* loop_ = nullptr;
  PollHandle* poll_ = nullptr;
  Napi::FunctionReference onMessages_, onError_;
  std::unique_ptr<Napi::AsyncContext> actx_;

  Napi::Reference<Napi::ArrayBuffer> rxRef_, descRef_;
  uint8_t* rx_ = nullptr;
  uint32_t* offs_ = nullptr;
  uint32_t* lens_ = nullptr;
  uint32_t* scopes_ = nullptr;
  uint16_t* ports_ = nullptr;
  uint8_t* addrs_ = nullptr;
  std::vector<sockaddr_storage> names_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> hdrs_;

  std::vector<mmsghdr> tx_;
  std::vector<iovec> txIov_;
  std::vector<sockaddr_storage> txNames_;
  std::deque<Pending> queue_;
  size_t queueBytes_ = 0;
  size_t maxQueue_ = 4096;
  size_t maxQueueBytes_ = 4 << 20;

  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxBatches_ = 0, rxTruncated_ = 0, rxMaxBatch_ = 0;
  uint64_t txPackets_ = 0, txBytes_ = 0, txCalls_ = 0, txQueued_ = 0, txEagain_ = 0, txDropped_ = 0, txErrors_ = 0;
  int lastError_ = 0;
};

}  // namespace

void InitUdp(Napi::Env env, Napi::Object exports) { exports.Set("UdpSocket", UdpSocket::Define(env)); }

}  // namespace clatbar
