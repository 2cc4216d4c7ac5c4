// Batched reads from one fd with io_uring: a batch of IORING_OP_READ requests with RWF_NOWAIT,
// submitted and completed in one io_uring_enter. For the TUN, which has no recvmmsg, this is
// the one way to read many packets per system call (docs/native.md, "Reading with io_uring").
//
// Every request completes inside the io_uring_enter that submitted it: the TUN supports nowait
// reads, so a read either takes a queued packet or fails with EAGAIN at once (RWF_NOWAIT makes
// io_uring report EAGAIN rather than arm a poll or punt the read to a worker). Should one still
// be in flight, Read waits for it before returning, so the kernel never writes into a buffer
// after Read gave it back: callers own their buffers again when Read returns, as with read().
// DEFER_TASKRUN with SINGLE_ISSUER (Linux 6.1) keeps all of it on the calling thread.
#pragma once

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace clatbar {

class UringReads {
 public:
  UringReads() = default;
  UringReads(const UringReads&) = delete;
  UringReads& operator=(const UringReads&) = delete;
  ~UringReads() { Close(); }

  // Sets up a ring for up to `entries` reads per batch; false (errno set) where io_uring is not
  // available: an old kernel, kernel.io_uring_disabled, a seccomp filter. The caller then reads.
  bool Open(unsigned entries) {
    io_uring_params p;
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
    if (fd < 0 && errno == EINVAL) {
      // Before Linux 6.1: without the flags the reads still complete inside io_uring_enter.
      std::memset(&p, 0, sizeof p);
      fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
    }
    if (fd < 0) return false;
    fd_ = fd;
    sqLen_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cqLen_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP) sqLen_ = cqLen_ = sqLen_ > cqLen_ ? sqLen_ : cqLen_;
    sq_ = Map(sqLen_, IORING_OFF_SQ_RING);
    cq_ = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq_ : Map(cqLen_, IORING_OFF_CQ_RING);
    sqesLen_ = p.sq_entries * sizeof(io_uring_sqe);
    sqes_ = static_cast<io_uring_sqe*>(Map(sqesLen_, IORING_OFF_SQES));
    if (!sq_ || !cq_ || !sqes_) {
      int e = errno;
      Close();
      errno = e;
      return false;
    }
    char* sq = static_cast<char*>(sq_);
    char* cq = static_cast<char*>(cq_);
    sqTail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    sqMask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    sqArray_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    cqHead_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
    cqTail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
    cqMask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    entries_ = p.sq_entries < p.cq_entries ? p.sq_entries : p.cq_entries;
    return true;
  }

  bool open() const { return fd_ >= 0; }
  unsigned entries() const { return entries_; }

  void Close() {
    if (sqes_) munmap(sqes_, sqesLen_);
    if (cq_ && cq_ != sq_) munmap(cq_, cqLen_);
    if (sq_) munmap(sq_, sqLen_);
    if (fd_ >= 0) ::close(fd_);
    sqes_ = nullptr;
    sq_ = cq_ = nullptr;
    fd_ = -1;
  }

  // Reads into bufs[0..n) (each `len` bytes) from `fd`, one packet each, in order; res[i] is
  // read()'s result for buffer i (bytes, or -errno: -EAGAIN once the queue ran empty). Returns 0,
  // or an errno when io_uring itself failed: the caller then closes the ring and uses read().
  int Read(int fd, uint8_t* const* bufs, uint32_t len, unsigned n, int* res) {
    if (n > entries_) n = entries_;
    unsigned tail = *sqTail_;
    for (unsigned i = 0; i < n; i++) {
      unsigned idx = (tail + i) & sqMask_;
      io_uring_sqe* s = &sqes_[idx];
      std::memset(s, 0, sizeof *s);
      s->opcode = IORING_OP_READ;
      s->fd = fd;
      s->addr = reinterpret_cast<uint64_t>(bufs[i]);
      s->len = len;
      s->off = static_cast<uint64_t>(-1);  // the file position, which a TUN ignores
      s->rw_flags = RWF_NOWAIT;
      s->user_data = i;
      sqArray_[idx] = idx;
      res[i] = -EAGAIN;
    }
    __atomic_store_n(sqTail_, tail + n, __ATOMIC_RELEASE);
    unsigned submitted = 0, done = 0, failures = 0;
    while (done < n) {
      int r = static_cast<int>(
          syscall(__NR_io_uring_enter, fd_, n - submitted, n - done, IORING_ENTER_GETEVENTS, nullptr, 0));
      if (r < 0) {
        if (errno == EINTR) continue;
        // Nothing went in, or the ring keeps failing: the caller closes it (which cancels
        // whatever is left) and reads with read() from then on.
        if (submitted == 0 || ++failures > 1000) return errno;
        continue;  // submitted reads must complete before their buffers are given back
      }
      submitted += static_cast<unsigned>(r);
      unsigned h = *cqHead_;
      unsigned t = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
      for (; h != t; h++) {
        const io_uring_cqe& c = cqes_[h & cqMask_];
        if (c.user_data < n) res[c.user_data] = c.res;
        done++;
      }
      __atomic_store_n(cqHead_, h, __ATOMIC_RELEASE);
    }
    enters_++;
    return 0;
  }

  uint64_t enters() const { return enters_; }

 private:
  void* Map(size_t len, off_t what) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, what);
    return p == MAP_FAILED ? nullptr : p;
  }

  int fd_ = -1;
  void* sq_ = nullptr;
  void* cq_ = nullptr;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqLen_ = 0, cqLen_ = 0, sqesLen_ = 0;
  unsigned *sqTail_ = nullptr, *sqArray_ = nullptr, *cqHead_ = nullptr, *cqTail_ = nullptr;
  unsigned sqMask_ = 0, cqMask_ = 0, entries_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  uint64_t enters_ = 0;
};

}  // namespace clatbar
