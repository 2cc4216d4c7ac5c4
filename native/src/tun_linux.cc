// Linux TUN back end: /dev/net/tun with IFF_TUN | IFF_NO_PI, optional IFF_VNET_HDR with
// TUNSETOFFLOAD (so the kernel hands us 64 KiB GSO super-packets), optional IFF_MULTI_QUEUE.
//
// Data path design (docs/native.md has the full picture):
// - The fd is non-blocking and watched with uv_poll on the Node event loop, so there are no
//   threads to stop and closing while "reads are pending" cannot hang: there is never a blocked
//   read().
// - Packets are read into a ring of fixed slots inside one ArrayBuffer that JS sees directly.
//   Each slot is [headroom][vnet hdr][packet], the packet at a fixed offset, so the translator can
//   grow a packet forwards into the headroom (IPv4 -> IPv6 is +20, +8 for a fragment header) and
//   move the 10-byte vnet header along without copying the payload.
// - One JS call per batch: the batch descriptor (offsets, lengths) is a second ArrayBuffer, also
//   shared, so steady state allocates nothing per packet or per batch.
// - Backpressure: a batch's slots go back to the free list when the callback returns, unless JS
//   holds the batch. With no free slot, we stop polling for readable; the kernel queue then fills
//   and the kernel drops, instead of our memory growing.
// - Writes go out immediately with write(); on EAGAIN the rest is copied into a bounded queue that
//   is flushed when the fd becomes writable, and the caller is told how many packets were taken.
// - Read coalescing (rxCoalesceUs, off by default), the NIC's interrupt moderation done in user
//   space: the TUN wakes its reader once per packet, so under a flood of small packets each
//   wake-up found one packet, and a batch of one can be neither read nor written (as one GSO
//   super-packet) more cheaply. When a wake-up comes less than rxCoalesceUs after the previous
//   one and drains the queue, readable polling stops and a timerfd wakes us rxCoalesceUs later to
//   read whatever queued meanwhile. The first timer tick that finds nothing goes back to plain
//   polling, so sparse traffic (a ping, DNS) is never delayed and an idle device costs nothing.
//   Batches with TCP in them are never held back (AfterRead).
// - io_uring reads (rxUring, off by default): a wake-up's packets are read with one
//   io_uring_enter instead of one read() each (uring_reads_linux.h); where io_uring is not
//   available, or fails, read() as before.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <napi.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
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
#include "uring_reads_linux.h"

// Newer than the headers of older distributions; values are kernel ABI (include/uapi/linux/if_tun.h).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace clatbar {
namespace {

constexpr uint32_t kMaxVnetHdr = 12;
constexpr uint32_t kDefaultMaxPacket = 65600;  // 64 KiB GSO super-packet + IPv6 header, rounded
constexpr size_t kDefaultWriteQueueBytes = 8u << 20;

uint32_t RoundUp(uint32_t v, uint32_t to) { return (v + to - 1) / to * to; }

const char* kPermHint = "needs root or CAP_NET_ADMIN";

class Tun : public Napi::ObjectWrap<Tun> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tun",
                       {
                           InstanceMethod("info", &Tun::Info),
                           InstanceMethod("start", &Tun::Start),
                           InstanceMethod("pause", &Tun::Pause),
                           InstanceMethod("resume", &Tun::Resume),
                           InstanceMethod("hold", &Tun::Hold),
                           InstanceMethod("release", &Tun::Release),
                           InstanceMethod("writeBatch", &Tun::WriteBatch),
                           InstanceMethod("setMtu", &Tun::SetMtu),
                           InstanceMethod("getMtu", &Tun::GetMtu),
                           InstanceMethod("setUp", &Tun::SetUp),
                           InstanceMethod("isUp", &Tun::IsUp),
                           InstanceMethod("stats", &Tun::Stats),
                           InstanceMethod("close", &Tun::Close),
                       });
  }

  // new Tun({ name, vnetHdr, vnetHdrSize, offloads, multiQueue, netns, slots, batch, headroom,
  //           maxPacket, writeQueueBytes, sndbuf, rxCoalesceUs, faultEagainEvery, onPackets, onDrain,
  //           onError })
  explicit Tun(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tun>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "Tun: options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    auto str = [&](const char* k) -> std::string {
      Napi::Value v = o.Get(k);
      return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    };
    auto num = [&](const char* k, uint32_t dflt) -> uint32_t {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
    };
    auto flag = [&](const char* k) -> bool {
      Napi::Value v = o.Get(k);
      return v.IsBoolean() && v.As<Napi::Boolean>().Value();
    };

    std::string name = str("name");
    if (name.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "Tun: interface name longer than 15 bytes");
    bool vnet = flag("vnetHdr");
    uint32_t vnetSize = num("vnetHdrSize", 10);
    if (vnet && vnetSize != 10 && vnetSize != 12)
      throw Napi::RangeError::New(env, "Tun: vnetHdrSize must be 10 (virtio_net_hdr) or 12 (with num_buffers)");
    uint32_t wantOffloads = num("offloads", 0);
    if (wantOffloads && !vnet) throw Napi::TypeError::New(env, "Tun: offloads need vnetHdr: true");
    mq_ = flag("multiQueue");
    slots_ = num("slots", 128);
    batch_ = num("batch", 64);
    uint32_t headroom = num("headroom", 64);
    uint32_t maxPacket = num("maxPacket", kDefaultMaxPacket);
    wqLimit_ = num("writeQueueBytes", kDefaultWriteQueueBytes);
    faultEagain_ = num("faultEagainEvery", 0);
    uint32_t sndbuf = num("sndbuf", 0);
    uint32_t coalesceUs = num("rxCoalesceUs", 0);
    bool wantUring = flag("rxUring");
    if (coalesceUs > 100000) throw Napi::RangeError::New(env, "Tun: rxCoalesceUs 0..100000");
    coalesceNs_ = static_cast<uint64_t>(coalesceUs) * 1000;
    if (slots_ < 1 || slots_ > 65536 || batch_ < 1 || batch_ > 4096 || headroom > 4096 || maxPacket < 1280 ||
        maxPacket > 262144)
      throw Napi::RangeError::New(env, "Tun: slots 1..65536, batch 1..4096, headroom <= 4096, maxPacket 1280..262144");
    if (batch_ > slots_) batch_ = slots_;
    std::string netns = str("netns");

    // The packet starts at the same 16-byte aligned offset in every slot whatever the vnet header
    // size, with the header immediately in front of it, so write() can send [hdr][packet] from
    // where they sit. One byte more than maxPacket: a read that fills the slot to the last byte
    // may have been cut short (the TUN driver truncates to the buffer and says nothing), so such a
    // packet is dropped, and every packet up to maxPacket still fits.
    packetOffset_ = RoundUp(headroom + kMaxVnetHdr, 16);
    slotSize_ = RoundUp(packetOffset_ + maxPacket + 1, 64);
    // Offsets handed to JS are uint32.
    if (static_cast<uint64_t>(slots_) * slotSize_ > (1ull << 31))
      throw Napi::RangeError::New(env, "Tun: slots * slot size must stay under 2 GiB");

    // Everything that reads the options object (a getter is JS, and JS must never run while this
    // thread is in another namespace) or can fail without a system call comes before the device
    // exists, so a failure here leaves no fd behind.
    Napi::Value cb = o.Get("onPackets");
    if (cb.IsFunction()) onPackets_ = Napi::Persistent(cb.As<Napi::Function>());
    cb = o.Get("onDrain");
    if (cb.IsFunction()) onDrain_ = Napi::Persistent(cb.As<Napi::Function>());
    cb = o.Get("onError");
    if (cb.IsFunction()) onError_ = Napi::Persistent(cb.As<Napi::Function>());
    // V8-owned memory (not an external buffer): Electron's memory cage forbids externals.
    Napi::ArrayBuffer ring = Napi::ArrayBuffer::New(env, static_cast<size_t>(slots_) * slotSize_);
    ring_ = static_cast<uint8_t*>(ring.Data());
    ringRef_ = Napi::Persistent(ring);
    Napi::ArrayBuffer desc = Napi::ArrayBuffer::New(env, static_cast<size_t>(batch_) * 8);
    desc_ = static_cast<uint32_t*>(desc.Data());
    descRef_ = Napi::Persistent(desc);
    free_.reserve(slots_);
    for (uint32_t i = slots_; i-- > 0;) free_.push_back(i);  // slot 0 on top: LIFO keeps it cache-warm
    inUse_.assign(slots_, 0);
    cur_.assign(batch_, 0);
    actx_ = std::make_unique<Napi::AsyncContext>(env, "clatbar.TunDevice");
    if (napi_get_uv_event_loop(env, &loop_) != napi_ok) throw Napi::Error::New(env, "Tun: no libuv event loop");

    OpenDevice(env, name, netns, vnet ? vnetSize : 0, wantOffloads, sndbuf);
    // Not an error when refused: read() does the same job at more system calls per packet.
    if (wantUring && uring_.Open(batch_)) {
      uringBufs_.assign(uring_.entries(), nullptr);
      uringSlots_.assign(uring_.entries(), 0);
      uringRes_.assign(uring_.entries(), 0);
    }
    if (coalesceNs_) {
      timerFd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (timerFd_ < 0) {
        int e = errno;
        Fail();
        throw ErrnoError(env, e, "timerfd_create", "TUN device " + name_ + " read coalescing");
      }
    }
    // An open device is like an open socket: it stays alive until closed, even if JS drops it.
    Ref();
  }

  ~Tun() override {
    // Only reached for a device never closed, at environment teardown.
    StopPoll();
    if (fd_ >= 0) ::close(fd_);
    if (ctl_ >= 0) ::close(ctl_);
    if (timerFd_ >= 0) ::close(timerFd_);
    uring_.Close();
  }

 private:
  void Fail() {
    if (fd_ >= 0) ::close(fd_);
    if (ctl_ >= 0) ::close(ctl_);
    fd_ = ctl_ = -1;
  }

  // Creates or attaches the device (inside `netns` when given) and its control socket; on any
  // failure closes what it opened and throws.
  void OpenDevice(Napi::Env env, const std::string& name, const std::string& netns, uint32_t vnetSize,
                  unsigned wantOffloads, uint32_t sndbuf) {
    std::string what = "open TUN device" + (name.empty() ? std::string() : " " + name);
    NetnsGuard ns(netns);
    if (ns.error) throw ErrnoError(env, ns.error, ns.failedCall, what + " in " + netns, NetnsHint(ns.error));
    // Saves errno, closes what is open, and throws; `hint` empty means the errno's usual advice.
    auto fail = [&](const char* call, const char* hint = "") {
      int e = errno;
      Fail();
      throw ErrnoError(env, e, call, what, hint);
    };
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      int e = errno;
      fail("open(/dev/net/tun)",
           e == ENOENT ? "the tun module is not loaded (modprobe tun) or /dev/net/tun is missing "
                         "(a container needs the device passed in)"
           : e == ENXIO || e == ENODEV
               ? "the kernel has no TUN driver: modprobe tun, or use a kernel built with CONFIG_TUN"
           // EACCES: the node's file mode refuses this user (Debian creates it 0600, root only);
           // CAP_NET_ADMIN does not override file permissions, so that advice would not help.
           : e == EACCES
               ? "/dev/net/tun's file mode does not let this user open it (0600 allows root only): "
                 "run the engine as root, or give the node mode 0666 as most distributions do "
                 "(chmod 0666 /dev/net/tun; creating a device still needs CAP_NET_ADMIN)"
           // EPERM on open: a device cgroup (container, systemd DeviceAllow=) forbids the node.
           : e == EPERM
               ? "the device cgroup does not allow /dev/net/tun: in a container pass the device in "
                 "(docker run --device /dev/net/tun --cap-add NET_ADMIN), under systemd add "
                 "DeviceAllow=/dev/net/tun rw to the unit"
               : "");
    }
    struct ifreq ifr = Ifr(name);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnetSize ? IFF_VNET_HDR : 0) | (mq_ ? IFF_MULTI_QUEUE : 0);
    if (ioctl(fd_, TUNSETIFF, &ifr) != 0) {
      int e = errno;
      fail("ioctl(TUNSETIFF)",
           e == EPERM    ? kPermHint
           : e == EBUSY  ? "the device exists and is in use or was created with other flags "
                           "(multi-queue must match, and a single-queue device takes one opener)"
           : e == EINVAL ? "a device with this name exists but is not a TUN device with matching "
                           "flags (vnet_hdr, multi_queue), or the name is invalid"
           : e == ENOTTY ? "/dev/net/tun is not the TUN driver's device node"
                         : "");
    }
    name_ = ifr.ifr_name;
    what = "TUN device " + name_;
    // Attaching a later queue of a multi-queue device keeps the flags of the first queue,
    // whatever this open asked for; with another vnet header setting every packet would be
    // misread by 10 bytes, so ask the device what it really does.
    if (mq_) {
      struct ifreq got = Ifr(name_);
      if (ioctl(fd_, TUNGETIFF, &got) != 0) fail("ioctl(TUNGETIFF)");
      if ((got.ifr_flags & IFF_VNET_HDR) != (ifr.ifr_flags & IFF_VNET_HDR)) {
        errno = EINVAL;
        fail("ioctl(TUNSETIFF)", got.ifr_flags & IFF_VNET_HDR
                                     ? "other queues of this multi-queue device use a vnet header: open every "
                                       "queue with the same vnetHdr/offloads"
                                     : "other queues of this multi-queue device use no vnet header: open every "
                                       "queue with the same vnetHdr/offloads");
      }
    }
    // The kernel's budget for written packets not yet consumed by the stack; writes past it
    // fail with EAGAIN. Default INT_MAX (effectively never); smaller values bound memory.
    if (sndbuf) {
      int v = static_cast<int>(sndbuf);
      if (ioctl(fd_, TUNSETSNDBUF, &v) != 0) fail("ioctl(TUNSETSNDBUF)");
    }
    if (vnetSize) {
      int sz = static_cast<int>(vnetSize);
      if (ioctl(fd_, TUNSETVNETHDRSZ, &sz) != 0) fail("ioctl(TUNSETVNETHDRSZ)");
      // Little-endian vnet header fields on every host, so the TS parser needs no byte-order
      // switch. Already the case on little-endian hosts, where a failure does not matter; on a
      // big-endian one it would mean misread headers, so it is an error there.
      int le = 1;
      if (ioctl(fd_, TUNSETVNETLE, &le) != 0 && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        fail("ioctl(TUNSETVNETLE)", "this big-endian host's kernel cannot give little-endian virtio-net headers");
      vnetLen_ = vnetSize;
      if (wantOffloads) offloads_ = ProbeOffloads(wantOffloads);
    }
    // The control socket is made in the same namespace as the device: SIOCSIFMTU and friends
    // look the name up in the socket's namespace.
    ctl_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl_ < 0) ctl_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl_ < 0) fail("socket");
    ifr = Ifr(name_);
    if (ioctl(ctl_, SIOCGIFINDEX, &ifr) != 0) fail("ioctl(SIOCGIFINDEX)");
    ifindex_ = ifr.ifr_ifindex;
  }

  static struct ifreq Ifr(const std::string& name) {
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    return ifr;
  }

  // The device's ifreq for a control ioctl, named by looking up our ifindex: after a rename the
  // device is still ours, and after it was deleted a new interface that took the name must not
  // be reconfigured in its place (ENODEV instead).
  struct ifreq CtlIfr(Napi::Env env, const std::string& what) {
    struct ifreq ifr = Ifr("");
    ifr.ifr_ifindex = ifindex_;
    CtlIoctl(env, SIOCGIFNAME, ifr, "ioctl(SIOCGIFNAME)", what);
    name_ = ifr.ifr_name;
    return ifr;
  }

  // An interface ioctl on the control socket; on failure throws the errno with the hint given
  // for it in `hints`, else the errno's usual advice.
  struct Hint {
    int err;
    const char* text;
  };
  void CtlIoctl(Napi::Env env, unsigned long req, struct ifreq& ifr, const char* call, const std::string& what,
                std::initializer_list<Hint> hints = {}) {
    if (ioctl(ctl_, req, &ifr) == 0) return;
    int e = errno;
    std::string hint;
    for (const Hint& h : hints)
      if (h.err == e) hint = h.text;
    throw ErrnoError(env, e, call, what, hint);
  }

  // TUNSETOFFLOAD replaces the whole set and rejects any bit it does not know, so offloads are
  // added one group at a time, keeping each that the kernel accepts. CSUM comes first because
  // the kernel ignores everything else without it; USO4 and USO6 only go together (the kernel
  // accepts the pair, not either alone: drivers/net/tun.c set_offload).
  unsigned ProbeOffloads(unsigned want) {
    if (want & ~TUN_F_CSUM) want |= TUN_F_CSUM;  // every other offload is useless without it
    unsigned cur = 0;
    const unsigned groups[] = {TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_USO4 | TUN_F_USO6};
    for (unsigned g : groups) {
      if (!(want & g)) continue;
      if (g != TUN_F_CSUM && !(cur & TUN_F_CSUM)) break;
      if (ioctl(fd_, TUNSETOFFLOAD, static_cast<unsigned long>(cur | g)) == 0) cur |= g;
    }
    (void)ioctl(fd_, TUNSETOFFLOAD, static_cast<unsigned long>(cur));
    return cur;
  }

  Napi::Error Closed(Napi::Env env, const char* call) {
    return ErrnoError(env, EBADF, call, "TUN device " + name_ + " is closed", "open it again");
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", name_);
    o.Set("ifindex", ifindex_);
    o.Set("fd", fd_);
    o.Set("vnetHdrLen", vnetLen_);
    o.Set("offloads", offloads_);
    o.Set("multiQueue", mq_);
    o.Set("slots", slots_);
    o.Set("slotSize", slotSize_);
    o.Set("packetOffset", packetOffset_);
    o.Set("batch", batch_);
    o.Set("rxCoalesceUs", static_cast<double>(coalesceNs_ / 1000));
    o.Set("rxUring", uring_.open());
    if (!ringRef_.IsEmpty()) o.Set("ring", ringRef_.Value());
    if (!descRef_.IsEmpty()) o.Set("desc", descRef_.Value());
    return o;
  }

  void UpdatePoll() {
    if (closed_) return;
    int ev = 0;
    if (reading_ && !paused_ && !free_.empty() && !deferred_) ev |= UV_READABLE;
    if (!wq_.empty()) ev |= UV_WRITABLE;
    if (ev == events_) return;
    if (!poll_) {
      int r = PollHandle::Open(Env(), loop_, fd_, false, this, &poll_);
      if (r != 0) throw ErrnoError(Env(), -r, "uv_poll_init", "TUN device " + name_);
    }
    if (ev == 0)
      poll_->Stop();
    else
      poll_->Start(ev, OnPoll);
    events_ = ev;
  }

  // Safe to close the fd right after (poll_handle.h).
  void StopPoll() {
    if (poll_) poll_->Close();
    if (timer_) timer_->Close();
    events_ = 0;
    deferred_ = false;
  }

  // After a read that drained the queue: under a flood (this wake-up soon after the previous
  // one), read next from the timer instead of the next packet's wake-up; after a timer tick that
  // found nothing, back to polling. A read that stopped short (batch full, no free slot) leaves
  // polling to bring the rest at once. A batch with TCP in it is never held back: TCP comes in
  // GSO super-packets already, and delaying its segments and ACKs slows the sender's ACK clock
  // (bench/clat.ts measured 10-20% less TCP throughput with them deferred).
  void AfterRead(uint32_t n, bool drained, bool sawTcp, bool fromTimer) {
    if (!coalesceNs_ || closed_) return;
    uint64_t now = uv_hrtime();
    bool flood = n > 0 && !sawTcp && (fromTimer || now - lastReadNs_ < coalesceNs_);
    lastReadNs_ = now;
    if (!flood || !drained || !reading_ || paused_) return;
    struct itimerspec its;
    std::memset(&its, 0, sizeof its);
    its.it_value.tv_sec = static_cast<time_t>(coalesceNs_ / 1000000000);
    its.it_value.tv_nsec = static_cast<long>(coalesceNs_ % 1000000000);
    if (timerfd_settime(timerFd_, 0, &its, nullptr) != 0) return;  // plain polling goes on
    // Watched only while armed: an idle device must not keep the event loop alive.
    if (!timer_ && PollHandle::Open(Env(), loop_, timerFd_, false, this, &timer_) != 0) return;
    if (timer_->Start(UV_READABLE, OnTimer) != 0) return;
    deferred_ = true;
    rxDeferred_++;
  }

  static void OnTimer(uv_poll_t* h, int status, int) {
    Tun* self = static_cast<Tun*>(h->data);
    if (!self || self->closed_) return;
    (void)status;  // a timerfd has no error condition to report
    uint64_t ticks;
    if (read(self->timerFd_, &ticks, sizeof ticks) != sizeof ticks) return;  // not expired yet
    if (self->timer_) self->timer_->Stop();
    if (!self->deferred_) return;
    Napi::Env env = self->Env();
    if (!CanRunJs(env)) return;  // a worker being terminated (js_call.h)
    Napi::HandleScope scope(env);
    self->Ref();
    self->deferred_ = false;
    if (self->reading_ && !self->paused_) {
      bool drained = false, sawTcp = false;
      uint32_t n = self->ReadBatch(&drained, &sawTcp);
      self->AfterRead(n, drained, sawTcp, true);
    }
    if (!self->closed_) self->UpdatePoll();
    self->Unref();
  }

  void CallJs(Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
    clatbar::CallJs(Env(), Value(), fn, args, *actx_);
  }
  void ReportError(const Napi::Error& err) { clatbar::ReportError(Env(), Value(), onError_, err, *actx_); }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    Tun* self = static_cast<Tun*>(h->data);
    if (!self || self->closed_) return;
    Napi::Env env = self->Env();
    if (!CanRunJs(env)) return;  // a worker being terminated (js_call.h)
    Napi::HandleScope scope(env);
    // JS may close and drop the device from inside a callback; keep the object alive until here.
    self->Ref();
    if (status < 0) {
      // POLLERR: the device was deleted or this queue detached. Stop, or libuv would spin.
      // libuv says only EBADF; a zero-length read gets the driver's own answer (EBADFD when
      // the device is gone), which is what callers match on.
      int e = -status;
      char none[1];
      if (read(self->fd_, none, 0) < 0 && errno != EAGAIN) e = errno;
      self->reading_ = false;
      self->StopPoll();
      self->ReportError(ErrnoError(env, e, "poll", "TUN device " + self->name_,
                                   "the interface was deleted or detached; close and open it again"));
    } else {
      if (events & UV_WRITABLE) self->Flush();
      if (!self->closed_ && (events & UV_READABLE)) {
        bool drained = false, sawTcp = false;
        uint32_t n = self->ReadBatch(&drained, &sawTcp);
        self->AfterRead(n, drained, sawTcp, false);
      }
      if (!self->closed_) self->UpdatePoll();
    }
    self->Unref();
  }

  // Reads up to a batch and hands it to JS; returns how many packets, and in *drained whether the
  // queue ran empty (EAGAIN) rather than the batch or the free slots running out.
  uint32_t ReadBatch(bool* drained, bool* sawTcp) {
    Napi::Env env = Env();
    // JS can detach the ring (structuredClone or postMessage with a transfer list, or
    // ArrayBuffer.prototype.transfer); its memory then belongs to someone else or is freed, and
    // ring_ must not be written through again.
    if (ringRef_.Value().IsDetached() || descRef_.Value().IsDetached()) {
      reading_ = false;
      ReportError(ErrnoError(env, EFAULT, "read", "TUN device " + name_,
                             "its packet ring (device.buffer) was transferred or detached, so reading stopped; "
                             "close the device and open it again"));
      return 0;
    }
    uint32_t n = 0;
    int err = 0;
    if (uring_.open())
      err = ReadUring(&n, drained, sawTcp);
    else
      err = ReadEach(&n, drained, sawTcp);
    if (n > 0) {
      rxPackets_ += n;
      rxBatches_++;
      held_ = false;
      delivering_ = true;
      CallJs(onPackets_, {Napi::Number::New(env, n)});
      delivering_ = false;
      if (closed_) {
        if (!held_)
          for (uint32_t i = 0; i < n; i++) FreeSlot(cur_[i]);
        DropBuffersIfUnheld();
        return n;
      }
      if (!held_)
        for (uint32_t i = 0; i < n; i++) FreeSlot(cur_[i]);
    }
    if (err) {
      reading_ = false;
      ReportError(ErrnoError(env, err, "read", "TUN device " + name_,
                             err == EBADFD ? "the interface was deleted or detached; close and open it again" : ""));
    }
    return n;
  }

  // Where a packet of `r` bytes (vnet header included) was read into `slot`: counts it and puts
  // it into the batch descriptor at n, or drops it (too short, or cut short: see slotSize_).
  bool Accept(uint32_t slot, ssize_t r, uint32_t n, bool* sawTcp) {
    const uint32_t cap = slotSize_ - packetOffset_ + vnetLen_;
    if (static_cast<uint32_t>(r) <= vnetLen_) return false;
    if (static_cast<uint32_t>(r) >= cap) {
      rxTruncated_++;  // filled the slot to the last byte: cut short (see slotSize_)
      return false;
    }
    // IPv4 protocol (byte 9) or IPv6 next header (byte 6): see AfterRead for why TCP matters.
    const uint8_t* ip = SlotPacket(slot) + vnetLen_;
    if ((ip[0] >> 4 == 4 ? ip[9] : ip[0] >> 4 == 6 ? ip[6] : 0) == IPPROTO_TCP) *sawTcp = true;
    inUse_[slot] = 1;
    cur_[n] = slot;
    desc_[n] = slot * slotSize_ + packetOffset_;
    desc_[batch_ + n] = static_cast<uint32_t>(r) - vnetLen_;
    rxBytes_ += desc_[batch_ + n];
    return true;
  }

  // Where a slot's read goes: its vnet header (if any) right in front of the packet offset.
  uint8_t* SlotPacket(uint32_t slot) { return ring_ + static_cast<size_t>(slot) * slotSize_ + packetOffset_ - vnetLen_; }

  // One read() per packet until EAGAIN, the batch is full or no slot is free, filling the batch
  // from *count on; returns an errno that stops reading, or 0.
  int ReadEach(uint32_t* count, bool* drained, bool* sawTcp) {
    const uint32_t cap = slotSize_ - packetOffset_ + vnetLen_;
    uint32_t n = *count;
    int err = 0;
    while (n < batch_ && !free_.empty()) {
      uint32_t slot = free_.back();
      ssize_t r = read(fd_, SlotPacket(slot), cap);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) err = errno;
        else *drained = true;
        break;
      }
      if (!Accept(slot, r, n, sawTcp)) continue;
      free_.pop_back();
      n++;
    }
    *count = n;
    return err;
  }

  // The same with io_uring: as many reads as the last batch suggests in one io_uring_enter, and
  // again while every one of them found a packet. The reads go into the slots on top of the free
  // list; those left empty go back on it in the same order.
  int ReadUring(uint32_t* count, bool* drained, bool* sawTcp) {
    const uint32_t cap = slotSize_ - packetOffset_ + vnetLen_;
    uint32_t n = 0;
    int err = 0;
    while (n < batch_ && !free_.empty() && !*drained && !err) {
      uint32_t want = std::min<uint32_t>({batch_ - n, static_cast<uint32_t>(free_.size()), uringNext_,
                                          static_cast<uint32_t>(uringBufs_.size())});
      for (uint32_t i = 0; i < want; i++) {
        uringSlots_[i] = free_.back();
        free_.pop_back();
        uringBufs_[i] = SlotPacket(uringSlots_[i]);
      }
      int e = uring_.Read(fd_, uringBufs_.data(), cap, want, uringRes_.data());
      // A kernel whose io_uring has no IORING_OP_READ (before 5.6) fails every read with EINVAL
      // (a TUN read() never does): as if io_uring had been refused.
      if (!e && (uringRes_[0] == -EINVAL || uringRes_[0] == -EOPNOTSUPP)) e = -uringRes_[0];
      if (e) {
        // io_uring itself failed: put the slots back and read with read() from now on.
        for (uint32_t i = want; i-- > 0;) free_.push_back(uringSlots_[i]);
        uring_.Close();
        err = ReadEach(&n, drained, sawTcp);
        break;
      }
      uint32_t got = 0;
      bool emptied[4096];
      for (uint32_t i = 0; i < want; i++) {
        int r = uringRes_[i];
        emptied[i] = true;
        if (r == -EAGAIN) {
          *drained = true;
        } else if (r < 0) {
          if (r != -EINTR && !err) err = -r;
        } else if (Accept(uringSlots_[i], r, n, sawTcp)) {
          emptied[i] = false;
          n++;
          got++;
        }
      }
      for (uint32_t i = want; i-- > 0;)
        if (emptied[i]) free_.push_back(uringSlots_[i]);
      // Next time ask for what came plus a margin, or twice as many while every read found one.
      uringNext_ = got == want ? std::min<uint32_t>(want * 2, batch_) : std::max<uint32_t>(got + 8, 4);
    }
    *count = n;
    return err;
  }

  void FreeSlot(uint32_t slot) {
    if (slot >= slots_ || !inUse_[slot]) return;
    inUse_[slot] = 0;
    free_.push_back(slot);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (closed_) throw Closed(info.Env(), "start");
    if (info.Length() > 0 && info[0].IsFunction()) onPackets_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (onPackets_.IsEmpty()) throw Napi::TypeError::New(info.Env(), "Tun.start: no packet callback");
    reading_ = true;
    paused_ = false;
    UpdatePoll();
    return info.Env().Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    paused_ = true;
    UpdatePoll();
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    paused_ = false;
    UpdatePoll();
    return info.Env().Undefined();
  }

  // Called from inside the packet callback: the current batch's slots stay lent out until release.
  Napi::Value Hold(const Napi::CallbackInfo& info) {
    if (!delivering_) throw Napi::Error::New(info.Env(), "Tun.hold: only valid inside the packet callback");
    held_ = true;
    return info.Env().Undefined();
  }

  // release(offsets: Uint32Array, count): gives back the slots those packets sit in. Offsets may
  // have moved within their slot (headroom use); each slot is freed once however often named.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !IsUint32Array(info[0]) || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "Tun.release(offsets: Uint32Array, count)");
    Napi::Uint32Array offs = info[0].As<Napi::Uint32Array>();
    uint32_t count = info[1].As<Napi::Number>().Uint32Value();
    if (count > offs.ElementLength()) throw Napi::RangeError::New(env, "Tun.release: count > offsets.length");
    for (uint32_t i = 0; i < count; i++) FreeSlot(offs[i] / slotSize_);
    if (closed_) {
      DropBuffersIfUnheld();
      return env.Undefined();
    }
    UpdatePoll();
    return env.Undefined();
  }

  // writeBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, start, count) ->
  // number of packets taken (written now or queued). With a vnet header the vnetHdrLen bytes in
  // front of each packet are its virtio_net_hdr. A packet the kernel rejects throws an errno error
  // with `index` (the packet) and `written` (how many before it went out); the caller decides
  // whether to go on with the rest.
  Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // The element types are checked, not assumed: a Uint8Array taken for a Uint32Array would be
    // indexed four times past its end.
    if (info.Length() < 5 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !IsUint32Array(info[1]) ||
        !IsUint32Array(info[2]) || !info[3].IsNumber() || !info[4].IsNumber())
      throw Napi::TypeError::New(env, "Tun.writeBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, start, count)");
    if (closed_) throw Closed(env, "write");
    Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array offs = info[1].As<Napi::Uint32Array>();
    Napi::Uint32Array lens = info[2].As<Napi::Uint32Array>();
    uint32_t start = info[3].As<Napi::Number>().Uint32Value();
    uint32_t count = info[4].As<Napi::Number>().Uint32Value();
    if (static_cast<uint64_t>(start) + count > offs.ElementLength() ||
        static_cast<uint64_t>(start) + count > lens.ElementLength())
      throw Napi::RangeError::New(env, "Tun.writeBatch: start + count exceeds offsets/lengths");
    const uint8_t* data = buf.Data();
    const size_t size = buf.ByteLength();
    const uint32_t end = start + count;
    for (uint32_t i = start; i < end; i++) {
      if (offs[i] < vnetLen_ || static_cast<uint64_t>(offs[i]) + lens[i] > size || lens[i] == 0)
        throw Napi::RangeError::New(env, "Tun.writeBatch: packet " + std::to_string(i) +
                                             " lies outside the buffer or has no room for its vnet header");
    }
    uint32_t i = start;
    if (wq_.empty()) {
      for (; i < end; i++) {
        const uint8_t* p = data + offs[i] - vnetLen_;
        size_t l = lens[i] + vnetLen_;
        ssize_t w;
        do w = Write(p, l);
        while (w < 0 && errno == EINTR);
        if (w < 0) {
          int e = errno;
          if (e == EAGAIN) break;
          txErrors_++;
          Napi::Error err = WriteError(env, e, "packet " + std::to_string(i));
          err.Set("index", Napi::Number::New(env, i));
          err.Set("written", Napi::Number::New(env, i - start));
          throw err;
        }
        txPackets_++;
        txBytes_ += lens[i];
      }
      if (i == end) return Napi::Number::New(env, count);
      txEagain_++;
    }
    // EAGAIN now or earlier: keep order by queueing everything behind what is already queued.
    for (; i < end; i++) {
      size_t l = lens[i] + vnetLen_;
      if (!wq_.empty() && wqBytes_ + l > wqLimit_) break;
      const uint8_t* p = data + offs[i] - vnetLen_;
      wq_.emplace_back(p, p + l);
      wqBytes_ += l;
      txQueued_++;
    }
    UpdatePoll();
    return Napi::Number::New(env, i - start);
  }

  // TUN writes practically never meet EAGAIN on Linux (the stack consumes a written packet
  // synchronously and the default sndbuf is unlimited), so tests reach the retry queue by asking
  // for every Nth write to fail that way.
  ssize_t Write(const uint8_t* p, size_t l) {
    if (faultEagain_ && ++writeCount_ % faultEagain_ == 0) {
      errno = EAGAIN;
      return -1;
    }
    return write(fd_, p, l);
  }

  static bool IsUint32Array(const Napi::Value& v) {
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array;
  }

  // `which`: "packet 3" for writeBatch, "a queued packet" for the retry queue.
  Napi::Error WriteError(Napi::Env env, int e, const std::string& which) {
    std::string what = "TUN device " + name_ + ": " + which;
    const char* hint = e == EINVAL ? "the kernel rejected it: not a well-formed IPv4/IPv6 packet, or its virtio-net "
                                     "header does not match it (gso_type, hdr_len, csum_start/csum_offset)"
                       : e == EIO  ? "the interface is down or this queue is detached; bring the link up"
                                   : "";
    return ErrnoError(env, e, "write", what, hint);
  }

  void Flush() {
    Napi::Env env = Env();
    bool had = !wq_.empty();
    while (!wq_.empty() && !closed_) {
      std::vector<uint8_t>& v = wq_.front();
      ssize_t w = Write(v.data(), v.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        int e = errno;
        wqBytes_ -= v.size();
        wq_.pop_front();
        txErrors_++;
        ReportError(WriteError(env, e, "a queued packet"));
        continue;
      }
      txPackets_++;
      txBytes_ += v.size() - vnetLen_;
      wqBytes_ -= v.size();
      wq_.pop_front();
    }
    if (had && wq_.empty() && !closed_) {
      UpdatePoll();
      CallJs(onDrain_, {});
    }
  }

  Napi::Value SetMtu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Closed(env, "SIOCSIFMTU");
    int mtu = info[0].As<Napi::Number>().Int32Value();
    std::string what = "set MTU of " + name_ + " to " + std::to_string(mtu);
    struct ifreq ifr = CtlIfr(env, what);
    ifr.ifr_mtu = mtu;
    CtlIoctl(env, SIOCSIFMTU, ifr, "ioctl(SIOCSIFMTU)", what,
             {{EINVAL, "MTU out of range for a TUN device (68..65535; 1280 or more for IPv6)"}});
    return env.Undefined();
  }

  Napi::Value GetMtu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Closed(env, "SIOCGIFMTU");
    std::string what = "get MTU of " + name_;
    struct ifreq ifr = CtlIfr(env, what);
    CtlIoctl(env, SIOCGIFMTU, ifr, "ioctl(SIOCGIFMTU)", what);
    return Napi::Number::New(env, ifr.ifr_mtu);
  }

  Napi::Value SetUp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Closed(env, "SIOCSIFFLAGS");
    bool up = info[0].ToBoolean().Value();
    std::string what = "bring " + name_ + (up ? " up" : " down");
    struct ifreq ifr = CtlIfr(env, what);
    CtlIoctl(env, SIOCGIFFLAGS, ifr, "ioctl(SIOCGIFFLAGS)", what);
    if (up)
      ifr.ifr_flags |= IFF_UP;
    else
      ifr.ifr_flags &= ~IFF_UP;
    CtlIoctl(env, SIOCSIFFLAGS, ifr, "ioctl(SIOCSIFFLAGS)", what);
    return env.Undefined();
  }

  Napi::Value IsUp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Closed(env, "SIOCGIFFLAGS");
    std::string what = "read flags of " + name_;
    struct ifreq ifr = CtlIfr(env, what);
    CtlIoctl(env, SIOCGIFFLAGS, ifr, "ioctl(SIOCGIFFLAGS)", what);
    return Napi::Boolean::New(env, (ifr.ifr_flags & IFF_UP) != 0);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rxPackets", static_cast<double>(rxPackets_));
    o.Set("rxBytes", static_cast<double>(rxBytes_));
    o.Set("rxBatches", static_cast<double>(rxBatches_));
    o.Set("rxTruncated", static_cast<double>(rxTruncated_));
    o.Set("txPackets", static_cast<double>(txPackets_));
    o.Set("txBytes", static_cast<double>(txBytes_));
    o.Set("txQueued", static_cast<double>(txQueued_));
    o.Set("txEagain", static_cast<double>(txEagain_));
    o.Set("txErrors", static_cast<double>(txErrors_));
    o.Set("writeQueuePackets", static_cast<double>(wq_.size()));
    o.Set("writeQueueBytes", static_cast<double>(wqBytes_));
    o.Set("freeSlots", static_cast<double>(free_.size()));
    o.Set("rxDeferred", static_cast<double>(rxDeferred_));
    return o;
  }

  // Returns how many queued packets were dropped. Safe from inside any callback of this device.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Napi::Number::New(env, 0);
    closed_ = true;
    reading_ = false;
    StopPoll();
    ::close(fd_);
    ::close(ctl_);
    if (timerFd_ >= 0) ::close(timerFd_);
    fd_ = ctl_ = timerFd_ = -1;
    uring_.Close();
    size_t dropped = wq_.size();
    wq_.clear();
    wqBytes_ = 0;
    onPackets_.Reset();
    onDrain_.Reset();
    onError_.Reset();
    // Inside onPackets the batch being delivered still lies in the ring: ReadBatch lets it go once
    // the callback has returned.
    if (!delivering_) DropBuffersIfUnheld();
    Unref();
    return Napi::Number::New(env, static_cast<double>(dropped));
  }

  // A closed device's ring (megabytes: slots * 64 KiB) goes back to the allocator now rather than
  // whenever V8 collects the last view of it: a daemon opens and closes a device per network
  // change, and rings waiting for a GC add up. Detaching frees V8-owned memory as soon as no
  // other view holds it; JS views of it then read as empty (byteLength 0). A held batch keeps
  // the ring valid (tun.ts contract): it goes with the last release.
  void DropBuffersIfUnheld() {
    if (free_.size() != slots_) return;
    // Raw N-API with the status ignored: this also runs while a worker's environment is being torn
    // down, when a call into V8 fails and node-addon-api's C++ wrappers would try to build an
    // Error there (a fatal abort). If the detach cannot run, V8 frees the buffer with the env.
    napi_env env = Env();
    for (Napi::Reference<Napi::ArrayBuffer>* r : {&ringRef_, &descRef_}) {
      if (r->IsEmpty()) continue;
      napi_value v = nullptr;
      bool detached = true;
      if (napi_get_reference_value(env, *r, &v) == napi_ok && v != nullptr &&
          napi_is_detached_arraybuffer(env, v, &detached) == napi_ok && !detached)
        napi_detach_arraybuffer(env, v);
      r->Reset();
    }
    ring_ = nullptr;
    desc_ = nullptr;
  }

  int fd_ = -1;
  int ctl_ = -1;
  std::string name_;
  int ifindex_ = 0;
  uint32_t vnetLen_ = 0;
  unsigned offloads_ = 0;
  bool mq_ = false;
  uint32_t slots_ = 0, slotSize_ = 0, packetOffset_ = 0, batch_ = 0;
  Napi::Reference<Napi::ArrayBuffer> ringRef_, descRef_;
  uint8_t* ring_ = nullptr;
  uint32_t* desc_ = nullptr;
  std::vector<uint32_t> free_;
  std::vector<uint8_t> inUse_;
  std::vector<uint32_t> cur_;
  bool delivering_ = false, held_ = false;
  Napi::FunctionReference onPackets_, onDrain_, onError_;
  std::unique_ptr<Napi::AsyncContext> actx_;
  uv_loop_t* loop_ = nullptr;
  PollHandle* poll_ = nullptr;
  int events_ = 0;
  // Read coalescing: 0 = off; the timerfd and its poll; readable polling off while deferred_.
  uint64_t coalesceNs_ = 0, lastReadNs_ = 0, rxDeferred_ = 0;
  int timerFd_ = -1;
  PollHandle* timer_ = nullptr;
  // io_uring reads: the ring (closed when refused or failed), and per-batch scratch.
  UringReads uring_;
  std::vector<uint8_t*> uringBufs_;
  std::vector<uint32_t> uringSlots_;
  std::vector<int> uringRes_;
  uint32_t uringNext_ = 8;
  bool deferred_ = false;
  bool reading_ = false, paused_ = false, closed_ = false;
  std::deque<std::vector<uint8_t>> wq_;
  size_t wqBytes_ = 0, wqLimit_ = kDefaultWriteQueueBytes;
  uint32_t faultEagain_ = 0;
  uint64_t writeCount_ = 0;
  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxBatches_ = 0, rxTruncated_ = 0, txPackets_ = 0, txBytes_ = 0, txQueued_ = 0,
           txEagain_ = 0, txErrors_ = 0;
};

}  // namespace

void InitTun(Napi::Env env, Napi::Object exports) {
  exports.Set("Tun", Tun::Define(env));
  Napi::Object f = Napi::Object::New(env);
  f.Set("csum", TUN_F_CSUM);
  f.Set("tso4", TUN_F_TSO4);
  f.Set("tso6", TUN_F_TSO6);
  f.Set("tsoEcn", TUN_F_TSO_ECN);
  f.Set("uso4", TUN_F_USO4);
  f.Set("uso6", TUN_F_USO6);
  exports.Set("offloadFlags", f);
}

}  // namespace clatbar
