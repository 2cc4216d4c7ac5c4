// Reader CPU per packet from a TUN device: read() per packet against io_uring. A measurement,
// not part of the addon (it lives under bench/, run by hand); the measurement behind the decision, recorded in
// docs/native.md ("Reading with io_uring: measured, not adopted"), so it can be repeated on
// another kernel or CPU.
//
//   gcc -O2 -o /tmp/uring-readbench bench/c/uring-tun-read.c
//   ip netns add urb && ip netns exec urb /tmp/uring-readbench MODE [SECONDS] [SLEEP_US]
//   ip netns del urb
//
// MODE: read    poll() (or sleep SLEEP_US, like the engine's read coalescing), then read() until
//               EAGAIN or NB packets
//       mshot   one IORING_OP_READ_MULTISHOT (Linux 6.7+) with a provided buffer ring,
//               IORING_SETUP_DEFER_TASKRUN, woken through a registered eventfd (or sleep), one
//               io_uring_enter per wake-up reaps every packet queued
//       batch   IORING_OP_READ with RWF_NOWAIT, one SQE per buffer, one io_uring_enter per
//               wake-up (the count adapts to the last wake-up's)
// A child process floods the TUN with 64-byte UDP datagrams (to 192.0.2.2, a documentation
// address routed into the TUN) for the whole run; the reader's CPU time (getrusage, which also
// counts io_uring worker threads) is divided by the packets read. Needs root (creates a TUN);
// run it inside a throwaway network namespace as above.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IORING_OP_READ_MULTISHOT
#define IORING_OP_READ_MULTISHOT 49  // uapi value (Linux 6.7); older headers lack it
#endif

#define NB 256
#define BUF_LEN 70000

static int ring_fd = -1;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe* sqes;
static struct io_uring_cqe* cqes;
static char bufs[NB][BUF_LEN];

static int enter(unsigned submit, unsigned min_complete, unsigned flags) {
  return (int)syscall(__NR_io_uring_enter, ring_fd, submit, min_complete, flags, NULL, 0);
}

static struct io_uring_sqe* get_sqe(void) {
  unsigned t = *sq_tail;
  struct io_uring_sqe* s = &sqes[t & *sq_mask];
  memset(s, 0, sizeof *s);
  sq_array[t & *sq_mask] = t & *sq_mask;
  atomic_store_explicit((_Atomic unsigned*)sq_tail, t + 1, memory_order_release);
  return s;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void setup_ring(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = NB * 2;
  ring_fd = (int)syscall(__NR_io_uring_setup, NB, &p);
  if (ring_fd < 0) die("io_uring_setup");
  size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  char* sq = mmap(0, sqsz > cqsz ? sqsz : cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd,
                  IORING_OFF_SQ_RING);
  sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
              ring_fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || sqes == MAP_FAILED) die("mmap ring");
  sq_tail = (unsigned*)(sq + p.sq_off.tail);
  sq_mask = (unsigned*)(sq + p.sq_off.ring_mask);
  sq_array = (unsigned*)(sq + p.sq_off.array);
  cq_head = (unsigned*)(sq + p.cq_off.head);
  cq_tail = (unsigned*)(sq + p.cq_off.tail);
  cq_mask = (unsigned*)(sq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe*)(sq + p.cq_off.cqes);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s read|mshot|batch [SECONDS] [SLEEP_US]\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  double secs = argc > 2 ? atof(argv[2]) : 3;
  int sleep_us = argc > 3 ? atoi(argv[3]) : 0;
  int m_read = !strcmp(mode, "read"), m_mshot = !strcmp(mode, "mshot"), m_batch = !strcmp(mode, "batch");
  if (!m_read && !m_mshot && !m_batch) return 2;

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "urb%d", (int)(getpid() % 100000));
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr)) die("TUNSETIFF");
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "sysctl -qw net.ipv6.conf.%s.addr_gen_mode=1; ip addr add 192.0.2.1/24 dev %s; "
           "ip link set %s up txqueuelen 4096",
           ifr.ifr_name, ifr.ifr_name, ifr.ifr_name);
  if (system(cmd) != 0) die("ip");

  pid_t kid = fork();
  if (kid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
    connect(u, (struct sockaddr*)&a, sizeof a);
    char payload[64] = {0};
    for (;;) send(u, payload, sizeof payload, 0);
  }
  usleep(100000);

  int efd = -1;
  struct io_uring_buf_ring* br = NULL;
  if (!m_read) {
    setup_ring();
    if (m_mshot) {
      br = mmap(0, NB * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
      struct io_uring_buf_reg reg;
      memset(&reg, 0, sizeof reg);
      reg.ring_addr = (unsigned long)br;
      reg.ring_entries = NB;
      if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1)) die("PBUF_RING");
      for (int i = 0; i < NB; i++) {
        br->bufs[i].addr = (unsigned long)bufs[i];
        br->bufs[i].len = BUF_LEN;
        br->bufs[i].bid = (unsigned short)i;
      }
      atomic_store_explicit((_Atomic unsigned short*)&br->tail, NB, memory_order_release);
      efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_EVENTFD, &efd, 1)) die("REGISTER_EVENTFD");
    }
  }

  long n = 0, wakes = 0, rearms = 0;
  int armed = 0, k_next = 64;
  unsigned short tail = NB;
  double t0 = now(), c0 = cpu();
  while (now() - t0 < secs) {
    if (m_read) {
      if (sleep_us) usleep(sleep_us);
      else {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        poll(&pf, 1, 100);
      }
      wakes++;
      for (int k = 0; k < NB; k++) {
        if (read(fd, bufs[k], BUF_LEN) < 0) break;
        n++;
      }
    } else if (m_batch) {
      if (sleep_us) usleep(sleep_us);
      else {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        poll(&pf, 1, 100);
      }
      wakes++;
      int k = k_next;
      for (int i = 0; i < k; i++) {
        struct io_uring_sqe* s = get_sqe();
        s->opcode = IORING_OP_READ;
        s->fd = fd;
        s->addr = (unsigned long)bufs[i];
        s->len = BUF_LEN;
        s->off = (__u64)-1;
        s->rw_flags = RWF_NOWAIT;  // EAGAIN completes at once instead of arming poll
      }
      enter((unsigned)k, 0, IORING_ENTER_GETEVENTS);
      unsigned h = *cq_head, t = atomic_load_explicit((_Atomic unsigned*)cq_tail, memory_order_acquire);
      int got = 0;
      for (; h != t; h++)
        if (cqes[h & *cq_mask].res > 0) got++;
      atomic_store_explicit((_Atomic unsigned*)cq_head, h, memory_order_release);
      n += got;
      k_next = got == k ? (k * 2 > NB ? NB : k * 2) : (got + 16 > NB ? NB : got + 16);
    } else {
      if (!armed) {
        struct io_uring_sqe* s = get_sqe();
        s->opcode = IORING_OP_READ_MULTISHOT;
        s->fd = fd;
        s->flags = IOSQE_BUFFER_SELECT;
        s->buf_group = 0;
        s->off = (__u64)-1;
        enter(1, 0, 0);
        armed = 1;
        rearms++;
      }
      if (sleep_us) usleep(sleep_us);
      else {
        struct pollfd pf = {.fd = efd, .events = POLLIN};
        poll(&pf, 1, 100);
        unsigned long long v;
        if (read(efd, &v, sizeof v) < 0 && errno != EAGAIN) die("read eventfd");
      }
      wakes++;
      enter(0, 0, IORING_ENTER_GETEVENTS);  // runs the deferred task work: the reads happen here
      unsigned h = *cq_head, t = atomic_load_explicit((_Atomic unsigned*)cq_tail, memory_order_acquire);
      for (; h != t; h++) {
        struct io_uring_cqe* c = &cqes[h & *cq_mask];
        if (c->res > 0) {
          n++;
          unsigned bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
          struct io_uring_buf* b = &br->bufs[tail & (NB - 1)];
          b->addr = (unsigned long)bufs[bid];
          b->len = BUF_LEN;
          b->bid = (unsigned short)bid;
          tail++;
        }
        if (!(c->flags & IORING_CQE_F_MORE)) armed = 0;  // ENOBUFS (ring ran dry) ends it
      }
      atomic_store_explicit((_Atomic unsigned*)cq_head, h, memory_order_release);
      atomic_store_explicit((_Atomic unsigned short*)&br->tail, tail, memory_order_release);
    }
  }
  double dt = now() - t0, dc = cpu() - c0;
  kill(kid, SIGKILL);
  waitpid(kid, NULL, 0);
  printf("%-5s sleep %4d us: %7.0f pkt/s read, reader CPU %3.0f%%, %.3f us CPU/pkt, %.1f pkt/wake-up, re-arms %ld\n",
         mode, sleep_us, n / dt, 100 * dc / dt, n ? 1e6 * dc / n : 0, wakes ? (double)n / wakes : 0, rearms);
  return 0;
}
