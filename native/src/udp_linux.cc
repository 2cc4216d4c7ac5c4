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

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
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


// ---------------------------------------------------------------------------------------------
// Cache hits answered below JavaScript.
//
// At a fixed, moderate query rate every query is its own event-loop wake-up, and most of its cost
// was the trip into JS (MakeCallback, the microtask checkpoint, the handler, the allocations that
// bring scavenges). A DNS server's cache hit needs none of that: it is the stored bytes with the
// client's ID, RD bit, question spelling and OPT, and aged TTLs. So the JS answer cache
// (src-main/engine/dns64/cache.ts) mirrors every entry into an AnswerTable here (insert, delete,
// eviction, clear), and sockets given the table answer hits during the poll callback and hand
// only the rest to JS. Everything below reproduces server.ts (handle() up to the cache lookup,
// then respond()) byte for byte; any query whose shape is not certain goes to JS, which answers
// it the long way (and the tests compare both ways byte for byte).
constexpr uint16_t kTypeOpt = 41, kTypeIxfr = 251, kTypeAxfr = 252;
// Replies longer than this go through JS (clients rarely allow them; it bounds the reply arena).
constexpr uint32_t kFastMaxReply = 4096;

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void PutBe16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

struct AnswerEntry {
  std::string key;
  std::vector<uint8_t> wire;  // response without OPT; TTL fields rewritten when the age changes
  std::vector<uint32_t> ttlOffs, ttls;
  uint8_t extRcode = 0;
  double storedAt = 0, expiresAt = 0;  // ms since the epoch, Date.now()'s clock
  int64_t agedSec = INT64_MIN;
};

class AnswerTable : public Napi::ObjectWrap<AnswerTable> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AnswerTable",
                       {
                           InstanceMethod("set", &AnswerTable::Set),
                           InstanceMethod("delete", &AnswerTable::Delete),
                           InstanceMethod("clear", &AnswerTable::Clear),
                           InstanceMethod("stats", &AnswerTable::Stats),
                       });
  }

  // new AnswerTable({ ednsUdpSize }): the UDP size our OPT advertises (server.ts EDNS_UDP_SIZE).
  explicit AnswerTable(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AnswerTable>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "AnswerTable: options object expected");
    Napi::Value v = info[0].As<Napi::Object>().Get("ednsUdpSize");
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "AnswerTable: ednsUdpSize (a number) required");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 512 && d <= 65535) || d != static_cast<int>(d)) throw Napi::RangeError::New(env, "AnswerTable: ednsUdpSize 512..65535");
    ednsUdpSize_ = static_cast<uint16_t>(d);
    napi_type_tag_object(env, Value(), &kTag);
  }

  // Marks AnswerTable objects, so a socket can tell one from any other wrapped object.
  static constexpr napi_type_tag kTag = {0x636c617462617221ULL, 0x616e737765727331ULL};

  static double NowMs() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    // Date.now(): whole milliseconds of the realtime clock.
    return std::floor(static_cast<double>(ts.tv_sec) * 1000 + static_cast<double>(ts.tv_nsec) / 1e6);
  }

  // Writes the reply to query q (len bytes) into out (kFastMaxReply bytes) and returns its length,
  // or 0 when JS must handle the query (not a plain cacheable query, not cached, expired, or any
  // case the code below is not certain of).
  uint32_t Answer(const uint8_t* q, uint32_t len, uint8_t* out, double now) {
    if (map_.empty() || len < 12) return 0;
    uint16_t flags = Be16(q + 2);
    if (flags & 0x8000) return 0;               // a response: JS drops it
    if ((flags >> 11 & 0xf) != 0) return 0;     // opcode: JS answers NOTIMP
    if (Be16(q + 4) != 1) return 0;
    // wire.ts skipQuestionName: labels of at most 63 bytes, no pointers, 255 bytes in all.
    uint32_t off = 12, total = 0;
    for (;;) {
      if (off >= len) return 0;
      uint8_t l = q[off];
      if (l == 0) break;
      if (l > 63) return 0;
      total += l + 1;
      if (total > 255) return 0;
      off += l + 1;
    }
    uint32_t nameEnd = off + 1;
    uint32_t qEnd = nameEnd + 4;
    if (qEnd > len) return 0;
    uint16_t an = Be16(q + 6), ns = Be16(q + 8), ar = Be16(q + 10);
    bool edns = false, dnssecOk = false;
    uint32_t udpSize = 512;
    if (an == 0 && ns == 0 && ar == 0) {
      if (qEnd != len) return 0;
    } else if (an == 0 && ns == 0 && ar == 1 && qEnd + 11 <= len && q[qEnd] == 0 && Be16(q + qEnd + 1) == kTypeOpt &&
               qEnd + 11 + Be16(q + qEnd + 9) == len) {
      edns = true;
      udpSize = std::max<uint32_t>(512, Be16(q + qEnd + 3));
      if (q[qEnd + 6] != 0) return 0;  // EDNS version: JS answers BADVERS
      dnssecOk = (q[qEnd + 7] & 0x80) != 0;
    } else {
      return 0;  // other shapes take the full parse in JS
    }
    uint16_t qtype = Be16(q + nameEnd);
    if (qtype == kTypeOpt || qtype == kTypeAxfr || qtype == kTypeIxfr) return 0;
    bool cd = (flags & 0x0010) != 0;
    // The key exactly as server.ts builds it: name lowercased (A-Z only, RFC 4343), type and
    // class as sent, one byte of CD/DO bits.
    // skipQuestionName allows 255 bytes of labels plus the root byte: up to 256 + 5 key bytes.
    char kb[256 + 5];
    uint32_t nameLen = nameEnd - 12;
    for (uint32_t i = 0; i < nameLen; i++) {
      uint8_t c = q[12 + i];
      kb[i] = static_cast<char>(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    std::memcpy(kb + nameLen, q + nameEnd, 4);
    kb[nameLen + 4] = static_cast<char>((cd ? 1 : 0) | (dnssecOk ? 2 : 0) | 0x30);
    auto it = map_.find(std::string_view(kb, nameLen + 5));
    if (it == map_.end()) return 0;
    AnswerEntry& e = *it->second;
    if (now >= e.expiresAt) return 0;  // JS's lookup drops it (and so our copy)
    size_t wlen = e.wire.size();
    if (wlen < qEnd) return 0;         // cannot happen for a stored answer to this question
    uint32_t optLen = edns ? 11 : 0;
    size_t rlen = wlen + optLen;
    uint32_t limit = edns ? udpSize : 512;
    if (rlen <= limit) {
      if (rlen > kFastMaxReply) return 0;
      if (edns && Be16(e.wire.data() + 10) == 0xffff) return 0;
      // cache.ts get(): TTLs aged by whole seconds since storing (|0 truncates toward zero).
      int64_t age = static_cast<int64_t>((now - e.storedAt) / 1000);
      if (age != e.agedSec) {
        for (size_t i = 0; i < e.ttlOffs.size(); i++) {
          int64_t t = static_cast<int64_t>(e.ttls[i]) - age;
          if (t > 0xffffffffLL) return 0;
          uint32_t v = t > 0 ? static_cast<uint32_t>(t) : 0;
          uint8_t* p = e.wire.data() + e.ttlOffs[i];
          p[0] = static_cast<uint8_t>(v >> 24);
          p[1] = static_cast<uint8_t>(v >> 16);
          p[2] = static_cast<uint8_t>(v >> 8);
          p[3] = static_cast<uint8_t>(v);
        }
        e.agedSec = age;
      }
      std::memcpy(out, e.wire.data(), wlen);
      out[0] = q[0];
      out[1] = q[1];
      out[2] = static_cast<uint8_t>((out[2] & 0xfe) | (flags >> 8 & 1));
      std::memcpy(out + 12, q + 12, qEnd - 12);  // the client's spelling of the question
      if (edns) {
        WriteOpt(out + wlen, dnssecOk, e.extRcode);
        PutBe16(out + 10, Be16(out + 10) + 1);
      }
    } else {
      // Too big for the client: header, question and OPT only, with TC (RFC 1035 §4.2.1,
      // RFC 6891 §7), as respond() does.
      rlen = qEnd + optLen;
      if (rlen > kFastMaxReply) return 0;
      std::memset(out, 0, rlen);
      std::memcpy(out, e.wire.data(), 4);
      out[0] = q[0];
      out[1] = q[1];
      out[2] = static_cast<uint8_t>((out[2] & 0xfe) | (flags >> 8 & 1) | 0x02);
      PutBe16(out + 4, 1);
      std::memcpy(out + 12, q + 12, qEnd - 12);
      if (edns) {
        WriteOpt(out + qEnd, dnssecOk, e.extRcode);
        PutBe16(out + 10, 1);
      }
      truncated_++;
    }
    hits_++;
    return static_cast<uint32_t>(rlen);
  }

 private:
  // wire.ts writeOpt: root owner, OPT, our UDP size, extended RCODE, version 0, DO, no options.
  void WriteOpt(uint8_t* p, bool dnssecOk, uint8_t extRcode) const {
    p[0] = 0;
    PutBe16(p + 1, kTypeOpt);
    PutBe16(p + 3, ednsUdpSize_);
    p[5] = extRcode;
    p[6] = 0;
    PutBe16(p + 7, dnssecOk ? 0x8000 : 0);
    PutBe16(p + 9, 0);
  }

  static std::string_view KeyOf(const Napi::Value& v) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(v.Env(), "AnswerTable: key must be a Uint8Array");
    auto a = v.As<Napi::Uint8Array>();
    return std::string_view(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  }

  // set(key, wire, ttlOffs, ttls, extRcode, storedAt, expiresAt)
  Napi::Value Set(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 7 || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray() ||
        !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsNumber())
      throw Napi::TypeError::New(env, "AnswerTable.set(key, wire, ttlOffs, ttls, extRcode, storedAt, expiresAt) expected");
    std::string_view key = KeyOf(info[0]);
    auto wire = info[1].As<Napi::Uint8Array>();
    auto offs = info[2].As<Napi::Uint32Array>();
    auto ttls = info[3].As<Napi::Uint32Array>();
    if (wire.TypedArrayType() != napi_uint8_array || offs.TypedArrayType() != napi_uint32_array ||
        ttls.TypedArrayType() != napi_uint32_array || offs.ElementLength() != ttls.ElementLength())
      throw Napi::TypeError::New(env, "AnswerTable.set: wire Uint8Array, ttlOffs/ttls Uint32Array of one length");
    if (wire.ByteLength() < 12) throw Napi::RangeError::New(env, "AnswerTable.set: wire shorter than a header");
    for (size_t i = 0; i < offs.ElementLength(); i++)
      if (static_cast<size_t>(offs[i]) + 4 > wire.ByteLength())
        throw Napi::RangeError::New(env, "AnswerTable.set: TTL offset past the end");
    auto e = std::make_unique<AnswerEntry>();
    e->key.assign(key);
    e->wire.assign(wire.Data(), wire.Data() + wire.ByteLength());
    e->ttlOffs.assign(offs.Data(), offs.Data() + offs.ElementLength());
    e->ttls.assign(ttls.Data(), ttls.Data() + ttls.ElementLength());
    e->extRcode = static_cast<uint8_t>(info[4].As<Napi::Number>().Uint32Value());
    e->storedAt = info[5].As<Napi::Number>().DoubleValue();
    e->expiresAt = info[6].As<Napi::Number>().DoubleValue();
    auto old = map_.find(key);
    if (old != map_.end()) map_.erase(old);
    std::string_view k(e->key);
    map_.emplace(k, std::move(e));
    return env.Undefined();
  }

  Napi::Value Delete(const Napi::CallbackInfo& info) {
    if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "AnswerTable.delete(key) expected");
    auto it = map_.find(KeyOf(info[0]));
    if (it != map_.end()) map_.erase(it);
    return info.Env().Undefined();
  }

  Napi::Value Clear(const Napi::CallbackInfo& info) {
    map_.clear();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("entries", static_cast<double>(map_.size()));
    o.Set("hits", static_cast<double>(hits_));
    o.Set("truncated", static_cast<double>(truncated_));
    return o;
  }

  // Keys are views of their entry's own key string (unique_ptr: stable while in the map), so a
  // lookup with a key on the stack allocates nothing.
  std::unordered_map<std::string_view, std::unique_ptr<AnswerEntry>> map_;
  uint16_t ednsUdpSize_ = 1232;
  uint64_t hits_ = 0, truncated_ = 0;
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
                           InstanceMethod("setAnswerTable", &UdpSocket::SetAnswerTable),
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

  // setAnswerTable(table | null): cache hits found in table are answered here, without JS.
  Napi::Value SetAnswerTable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
      answers_ = nullptr;
      answersRef_.Reset();
      return env.Undefined();
    }
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "setAnswerTable(AnswerTable | null) expected");
    Napi::Object o = info[0].As<Napi::Object>();
    bool tagged = false;
    if (napi_check_object_type_tag(env, o, &AnswerTable::kTag, &tagged) != napi_ok || !tagged)
      throw Napi::TypeError::New(env, "setAnswerTable: not an AnswerTable");
    AnswerTable* t = AnswerTable::Unwrap(o);
    answersRef_ = Napi::Persistent(o);
    answers_ = t;
    if (fastBuf_.empty()) {
      fastBuf_.resize(static_cast<size_t>(batch_) * kFastMaxReply);
      fastIdx_.resize(batch_);
      fastLen_.resize(batch_);
    }
    return env.Undefined();
  }

  // Sends the replies the answer table produced this round (fastBuf_ slot j to the source of
  // datagram fastIdx_[j]); what the socket buffer cannot take waits in the queue as for sendBatch.
  void SendFast(Napi::Env env, uint32_t nf) {
    tx_.resize(std::max<size_t>(tx_.size(), nf));
    txIov_.resize(tx_.size());
    txNames_.resize(tx_.size());
    for (uint32_t j = 0; j < nf; j++) {
      txIov_[j] = {fastBuf_.data() + static_cast<size_t>(j) * kFastMaxReply, fastLen_[j]};
      msghdr& m = tx_[j].msg_hdr;
      m = msghdr{};
      m.msg_iov = &txIov_[j];
      m.msg_iovlen = 1;
      m.msg_name = &names_[fastIdx_[j]];
      m.msg_namelen = hdrs_[fastIdx_[j]].msg_hdr.msg_namelen;
    }
    int firstErr = 0;
    if (!queue_.empty()) Flush(&firstErr);
    uint32_t sent = queue_.empty() ? SendChunk(nf, &firstErr) : 0;
    for (uint32_t j = sent; j < nf; j++)
      Enqueue(fastBuf_.data() + static_cast<size_t>(j) * kFastMaxReply, fastLen_[j], names_[fastIdx_[j]],
              tx_[j].msg_hdr.msg_namelen);
    if (firstErr) ReportError(ErrnoError(env, firstErr, "sendmmsg", what_));
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
    o.Set("rxAnswered", static_cast<double>(fastPackets_));
    o.Set("rxJsBatches", static_cast<double>(jsBatches_));
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
    answers_ = nullptr;
    answersRef_.Reset();
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
    if (!CanRunJs(env)) return;  // a worker being terminated (js_call.h)
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
      uint32_t n = 0, nf = 0;
      double now = answers_ ? AnswerTable::NowMs() : 0;
      for (int i = 0; i < r; i++) {
        const msghdr& m = hdrs_[i].msg_hdr;
        if (m.msg_flags & MSG_TRUNC) {
          rxTruncated_++;  // longer than a slot: dropped rather than delivered cut short
          continue;
        }
        rxBytes_ += hdrs_[i].msg_len;
        // Source port 0 cannot be answered: JS drops and counts it.
        if (answers_ && (family_ == AF_INET ? reinterpret_cast<const sockaddr_in*>(&names_[i])->sin_port
                                            : reinterpret_cast<const sockaddr_in6*>(&names_[i])->sin6_port) != 0) {
          uint32_t len = answers_->Answer(rx_ + static_cast<size_t>(i) * slot_, hdrs_[i].msg_len,
                                          fastBuf_.data() + static_cast<size_t>(nf) * kFastMaxReply, now);
          if (len) {
            fastIdx_[nf] = static_cast<uint32_t>(i);
            fastLen_[nf++] = len;
            continue;
          }
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
        n++;
      }
      rxPackets_ += n + nf;
      if (n + nf > 0) {
        rxBatches_++;
        if (n + nf > rxMaxBatch_) rxMaxBatch_ = n + nf;
      }
      // Hits leave first: they are ready now, and JS may take a while over the misses.
      if (nf > 0) {
        fastPackets_ += nf;
        SendFast(env, nf);
      }
      if (n > 0 && fd_ >= 0 && reading_) {
        jsBatches_++;
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

  AnswerTable* answers_ = nullptr;
  Napi::ObjectReference answersRef_;
  std::vector<uint8_t> fastBuf_;
  std::vector<uint32_t> fastIdx_, fastLen_;

  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxBatches_ = 0, rxTruncated_ = 0, rxMaxBatch_ = 0;
  uint64_t fastPackets_ = 0, jsBatches_ = 0;
  uint64_t txPackets_ = 0, txBytes_ = 0, txCalls_ = 0, txQueued_ = 0, txEagain_ = 0, txDropped_ = 0, txErrors_ = 0;
  int lastError_ = 0;
};

}  // namespace

void InitUdp(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpSocket", UdpSocket::Define(env));
  exports.Set("AnswerTable", AnswerTable::Define(env));
}

}  // namespace clatbar
