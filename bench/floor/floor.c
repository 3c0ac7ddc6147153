// Raw liburing floors for shared/BENCH.md: what the kernel interface costs with
// no runtime at all (one kernel IORING_OP_TIMEOUT per "task", no coroutines, no scheduler).
// Run: floor [--dt] [workload ...]     (--dt: rings get IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN,
//                                        peer name "liburing-dt")
// Output: peer<TAB>workload<TAB>figure<TAB>value<TAB>unit
//
// A copy of ../shared/peers/liburing/floor.c (shared/ is outside the repository), built by
// bench/CMakeLists.txt as aio_floor. Changes: tcp_echo_1conn (one connection, the same loop);
// the tcp_echo duration is AIO_BENCH_SECONDS (default 5), as bench/net_bench.cpp's.
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *PEER = "liburing";
static unsigned RING_FLAGS = 0;  // for the workload rings (not for loop_create_close)

#define SQ_ENTRIES 256
#define CANCEL_TAG (1ull << 62)
#define MARK_TAG (1ull << 61)
#define LINK_TAG (1ull << 60)

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static void emit(const char *w, const char *fig, double v, const char *unit) {
  printf("%s\t%s\t%s\t%.6g\t%s\n", PEER, w, fig, v, unit);
  fflush(stdout);
}
static void die(const char *what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
  exit(1);
}
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void ring_init(struct io_uring *ring) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = RING_FLAGS | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
  p.cq_entries = 65536;  // clamped to the kernel's maximum; overflow beyond it is kept (NODROP)
  int r = io_uring_queue_init_params(SQ_ENTRIES, ring, &p);
  if (r < 0) die("io_uring_queue_init_params", r);
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (!sqe) {
    int r = io_uring_submit(ring);
    if (r < 0) die("io_uring_submit", r);
    sqe = io_uring_get_sqe(ring);
    if (!sqe) die("no sqe", EBUSY);
  }
  return sqe;
}

// Reap until `want` CQEs were seen; for each call fn(user_data, res, now).
typedef void (*cqe_fn)(void *ctx, uint64_t ud, int res, uint64_t now);
static void reap(struct io_uring *ring, size_t want, cqe_fn fn, void *ctx) {
  size_t seen = 0;
  while (seen < want) {
    struct io_uring_cqe *cqe;
    int r = io_uring_submit_and_wait(ring, 1);
    if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY) die("submit_and_wait", r);
    uint64_t t = now_ns();
    unsigned head, n = 0;
    io_uring_for_each_cqe(ring, head, cqe) {
      if (fn) fn(ctx, cqe->user_data, cqe->res, t);
      n++;
    }
    io_uring_cq_advance(ring, n);
    seen += n;
  }
}

// ------------------------------------------------------------------ loop_create_close
static void create_close_one(const char *prefix, unsigned entries, unsigned flags, int iters) {
  struct io_uring ring;
  for (int i = 0; i < 50; ++i) {
    int r = io_uring_queue_init(entries, &ring, flags);
    if (r < 0) die("io_uring_queue_init", r);
    io_uring_queue_exit(&ring);
  }
  uint64_t tc = 0, tx = 0;
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = now_ns();
    int r = io_uring_queue_init(entries, &ring, flags);
    uint64_t t1 = now_ns();
    if (r < 0) die("io_uring_queue_init", r);
    io_uring_queue_exit(&ring);
    uint64_t t2 = now_ns();
    tc += t1 - t0;
    tx += t2 - t1;
  }
  char f[64];
  snprintf(f, sizeof f, "%screate_ns", prefix);
  emit("loop_create_close", f, (double)tc / iters, "ns");
  snprintf(f, sizeof f, "%sclose_ns", prefix);
  emit("loop_create_close", f, (double)tx / iters, "ns");
  snprintf(f, sizeof f, "%stotal_ns", prefix);
  emit("loop_create_close", f, (double)(tc + tx) / iters, "ns");
}

static void loop_create_close(int iters) {
  create_close_one("", 256, 0, iters);
  create_close_one("sidt_", 256, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, iters);
  create_close_one("coop_", 256, IORING_SETUP_COOP_TASKRUN, iters);
  create_close_one("e16384_", 16384, 0, iters / 4);  // Asio's io_uring_service ring size
}

// ------------------------------------------------------------------ sleep_fanout
// N absolute-deadline IORING_OP_TIMEOUTs, each due 10 ms after its own preparation.
struct fanout_ctx {
  uint64_t *deadline;  // per index, then reused for lateness
  size_t done, bad;
  uint64_t last;
};
static void fanout_cqe(void *c, uint64_t ud, int res, uint64_t t) {
  struct fanout_ctx *x = c;
  if (res != -ETIME) x->bad++;
  x->deadline[ud] = t > x->deadline[ud] ? t - x->deadline[ud] : 0;
  x->done++;
  x->last = t;
}

static void sleep_fanout(size_t n) {
  struct io_uring ring;
  ring_init(&ring);
  struct fanout_ctx x = {calloc(n, sizeof(uint64_t)), 0, 0, 0};
  struct __kernel_timespec *ts = calloc(SQ_ENTRIES, sizeof *ts);
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n; ++i) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (!sqe) {
      int r = io_uring_submit(&ring);
      if (r < 0) die("submit", r);
      sqe = io_uring_get_sqe(&ring);
    }
    // the timespec is copied by the kernel at submit; one slot per SQ entry is enough
    struct __kernel_timespec *t = &ts[i % SQ_ENTRIES];
    uint64_t d = now_ns() + 10000000ull;
    x.deadline[i] = d;
    t->tv_sec = d / 1000000000ull;
    t->tv_nsec = d % 1000000000ull;
    io_uring_prep_timeout(sqe, t, 0, IORING_TIMEOUT_ABS);
    sqe->user_data = i;
  }
  reap(&ring, n, fanout_cqe, &x);
  uint64_t dt = now_ns() - t0;
  if (x.bad) fprintf(stderr, "sleep_fanout: %zu CQEs were not -ETIME\n", x.bad);
  qsort(x.deadline, n, sizeof(uint64_t), cmp_u64);
  char w[64];
  snprintf(w, sizeof w, "sleep_fanout/%zu", n);
  emit(w, "wall_ms", dt / 1e6, "ms");
  emit(w, "wakeups_per_s", n / (dt / 1e9), "1/s");
  emit(w, "late_p50_us", x.deadline[n / 2] / 1e3, "us");
  emit(w, "late_p99_us", x.deadline[(size_t)(0.99 * (n - 1) + 0.5)] / 1e3, "us");
  emit(w, "ns_per_task", (double)dt / n, "ns");
  free(x.deadline);
  free(ts);
  io_uring_queue_exit(&ring);
}

// ------------------------------------------------------------------ cancel helpers
struct count_ctx {
  size_t timeouts_cancelled, timeouts_expired, cancel_ok, cancel_other, links, marks;
};
static void count_cqe(void *c, uint64_t ud, int res, uint64_t t) {
  (void)t;
  struct count_ctx *x = c;
  if (ud & MARK_TAG) x->marks++;
  else if (ud & LINK_TAG) x->links++;
  else if (ud & CANCEL_TAG) {
    if (res >= 0) x->cancel_ok++; else x->cancel_other++;
  } else if (res == -ECANCELED) x->timeouts_cancelled++;
  else x->timeouts_expired++;
}

static struct __kernel_timespec TEN_S = {10, 0}, TEN_MS = {0, 10000000};

static void submit_sleepers(struct io_uring *ring, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    struct io_uring_sqe *sqe = get_sqe(ring);
    io_uring_prep_timeout(sqe, &TEN_S, 0, 0);
    sqe->user_data = i;
  }
  int r = io_uring_submit(ring);
  if (r < 0) die("submit", r);
}
static void submit_cancels_order(struct io_uring *ring, size_t n, int reverse) {
  for (size_t i = 0; i < n; ++i) {
    struct io_uring_sqe *sqe = get_sqe(ring);
    io_uring_prep_cancel64(sqe, reverse ? n - 1 - i : i, 0);
    sqe->user_data = CANCEL_TAG | i;
  }
  int r = io_uring_submit(ring);
  if (r < 0) die("submit", r);
}

static void submit_cancels(struct io_uring *ring, size_t n) { submit_cancels_order(ring, n, 0); }

// ------------------------------------------------------------------ wait_for_timeout
// (a) N timeouts of 10 s, a 10 ms timeout, then N IORING_OP_ASYNC_CANCEL: wall and ns per cancel.
// (b) N pairs TIMEOUT(10 s) -> IORING_OP_LINK_TIMEOUT(10 ms): the kernel's own wait_for.
static void wait_for_timeout(size_t n) {
  char w[64];
  snprintf(w, sizeof w, "wait_for_timeout/%zu", n);
  {
    struct io_uring ring;
    ring_init(&ring);
    struct count_ctx x = {0};
    uint64_t t0 = now_ns();
    submit_sleepers(&ring, n);
    struct io_uring_sqe *sqe = get_sqe(&ring);
    io_uring_prep_timeout(sqe, &TEN_MS, 0, 0);
    sqe->user_data = MARK_TAG;
    reap(&ring, 1, count_cqe, &x);
    uint64_t t1 = now_ns();
    submit_cancels(&ring, n);
    reap(&ring, 2 * n, count_cqe, &x);
    uint64_t t2 = now_ns();
    if (x.timeouts_cancelled != n || x.cancel_ok != n)
      fprintf(stderr, "wait_for_timeout: cancelled %zu cancel_ok %zu other %zu\n", x.timeouts_cancelled,
              x.cancel_ok, x.cancel_other);
    emit(w, "wall_ms", (t2 - t0) / 1e6, "ms");
    emit(w, "cancels_per_s", n / ((t2 - t0) / 1e9), "1/s");
    emit(w, "cancel_ns", (double)(t2 - t1) / n, "ns");
    io_uring_queue_exit(&ring);
  }
  {
    struct io_uring ring;
    ring_init(&ring);
    struct count_ctx x = {0};
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; ++i) {
      if (io_uring_sq_space_left(&ring) < 2) io_uring_submit(&ring);
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      io_uring_prep_timeout(sqe, &TEN_S, 0, 0);
      sqe->flags |= IOSQE_IO_LINK;
      sqe->user_data = i;
      sqe = io_uring_get_sqe(&ring);
      io_uring_prep_link_timeout(sqe, &TEN_MS, 0);
      sqe->user_data = LINK_TAG | i;
    }
    reap(&ring, 2 * n, count_cqe, &x);
    uint64_t t1 = now_ns();
    if (x.timeouts_cancelled != n || x.links != n)
      fprintf(stderr, "wait_for_timeout(linked): cancelled %zu expired %zu links %zu\n", x.timeouts_cancelled,
              x.timeouts_expired, x.links);
    emit(w, "wall_ms_linked", (t1 - t0) / 1e6, "ms");
    emit(w, "cancels_per_s_linked", n / ((t1 - t0) / 1e9), "1/s");
    io_uring_queue_exit(&ring);
  }
}

// ------------------------------------------------------------------ cancel_sleepers
// N timeouts of 10 s, then N ASYNC_CANCEL by user_data (in creation order), reap all 2N CQEs.
// Variant _any: one ASYNC_CANCEL with IORING_ASYNC_CANCEL_ANY|ALL cancels them all.
static void cancel_sleepers(size_t n) {
  char w[64];
  snprintf(w, sizeof w, "cancel_sleepers/%zu", n);
  {
    struct io_uring ring;
    ring_init(&ring);
    struct count_ctx x = {0};
    uint64_t t0 = now_ns();
    submit_sleepers(&ring, n);
    uint64_t t1 = now_ns();
    submit_cancels(&ring, n);
    reap(&ring, 2 * n, count_cqe, &x);
    uint64_t t2 = now_ns();
    if (x.timeouts_cancelled != n || x.cancel_ok != n)
      fprintf(stderr, "cancel_sleepers: cancelled %zu cancel_ok %zu other %zu\n", x.timeouts_cancelled,
              x.cancel_ok, x.cancel_other);
    emit(w, "cancels_per_s", n / ((t2 - t0) / 1e9), "1/s");
    emit(w, "cancel_phase_ns_per_task", (double)(t2 - t1) / n, "ns");
    emit(w, "wall_ms", (t2 - t0) / 1e6, "ms");
    emit(w, "arm_ns_per_task", (double)(t1 - t0) / n, "ns");
    io_uring_queue_exit(&ring);
  }
  {
    struct io_uring ring;
    ring_init(&ring);
    struct count_ctx x = {0};
    submit_sleepers(&ring, n);
    uint64_t t1 = now_ns();
    struct io_uring_sqe *sqe = get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
    sqe->user_data = CANCEL_TAG;
    reap(&ring, n + 1, count_cqe, &x);
    uint64_t t2 = now_ns();
    if (x.timeouts_cancelled != n)
      fprintf(stderr, "cancel_sleepers(any): cancelled %zu\n", x.timeouts_cancelled);
    emit(w, "cancel_any_phase_ns_per_task", (double)(t2 - t1) / n, "ns");
    io_uring_queue_exit(&ring);
  }
}

// ------------------------------------------------------------------ cancel_reverse (extra)
// Same as cancel_sleepers but cancelled newest first: the kernel finds a timeout to cancel by a
// linear walk of ctx->timeout_list from the earliest deadline, so this order costs O(N) per cancel.
static void cancel_reverse(size_t n) {
  char w[64];
  snprintf(w, sizeof w, "cancel_reverse/%zu", n);
  struct io_uring ring;
  ring_init(&ring);
  struct count_ctx x = {0};
  submit_sleepers(&ring, n);
  uint64_t t1 = now_ns();
  submit_cancels_order(&ring, n, 1);
  reap(&ring, 2 * n, count_cqe, &x);
  uint64_t t2 = now_ns();
  if (x.timeouts_cancelled != n || x.cancel_ok != n)
    fprintf(stderr, "cancel_reverse: cancelled %zu cancel_ok %zu other %zu\n", x.timeouts_cancelled,
            x.cancel_ok, x.cancel_other);
  emit(w, "cancel_phase_ns_per_task", (double)(t2 - t1) / n, "ns");
  io_uring_queue_exit(&ring);
}

// ------------------------------------------------------------------ nop_roundtrip (extra)
// One IORING_OP_NOP submitted and its CQE waited for: the cost of one trip through the ring.
static void nop_roundtrip(size_t n) {
  struct io_uring ring;
  ring_init(&ring);
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n; ++i) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    reap(&ring, 1, NULL, NULL);
  }
  uint64_t dt = now_ns() - t0;
  emit("nop_roundtrip", "ns_per_nop", (double)dt / n, "ns");
  io_uring_queue_exit(&ring);
}

// ------------------------------------------------------------------ tcp_echo (floor)
// 64 client and 64 server sockets on 127.0.0.1 (connected with plain syscalls, untimed), then one
// ring drives every exchange: client SEND 64 B -> server RECV -> server SEND -> client RECV.
// No coroutines, no buffers beyond one per socket: the syscall+network-stack floor.
enum { OP_CSEND, OP_CRECV, OP_SRECV, OP_SSEND };
struct echo_conn {
  int cfd, sfd;
  size_t cgot, sgot, ssent, csent;
  uint64_t t0;
  char cbuf[64], sbuf[64];
};
#define ECHO_UD(i, op) (((uint64_t)(i) << 8) | (op))

static void tcp_echo(const char *name, size_t clients, size_t size, double seconds) {
  if (size > 64) size = 64;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 128) || getsockname(lfd, (struct sockaddr *)&a, &al))
    die("listen", errno);
  struct echo_conn *c = calloc(clients, sizeof *c);
  for (size_t i = 0; i < clients; ++i) {
    c[i].cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c[i].cfd, (struct sockaddr *)&a, sizeof a)) die("connect", errno);
    c[i].sfd = accept(lfd, NULL, NULL);
    if (c[i].sfd < 0) die("accept", errno);
    setsockopt(c[i].cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c[i].sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(c[i].cbuf, 'x', sizeof c[i].cbuf);
  }
  struct io_uring ring;
  ring_init(&ring);
  size_t cap = 1 << 22, nlat = 0;
  uint64_t *lat = malloc(cap * sizeof *lat);
  uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9);
  size_t active = clients;
  for (size_t i = 0; i < clients; ++i) {
    struct io_uring_sqe *sqe = get_sqe(&ring);
    io_uring_prep_recv(sqe, c[i].sfd, c[i].sbuf, size, 0);
    sqe->user_data = ECHO_UD(i, OP_SRECV);
    sqe = get_sqe(&ring);
    c[i].t0 = now_ns();
    io_uring_prep_send(sqe, c[i].cfd, c[i].cbuf, size, 0);
    sqe->user_data = ECHO_UD(i, OP_CSEND);
  }
  while (active) {
    int r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR) die("submit_and_wait", r);
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      n++;
      size_t i = cqe->user_data >> 8;
      int op = cqe->user_data & 0xff, res = cqe->res;
      struct echo_conn *e = &c[i];
      struct io_uring_sqe *sqe;
      if (res < 0 && op != OP_SRECV) die("echo op", res);
      switch (op) {
        case OP_CSEND:
          e->csent += res;
          sqe = get_sqe(&ring);
          if (e->csent < size) {
            io_uring_prep_send(sqe, e->cfd, e->cbuf + e->csent, size - e->csent, 0);
            sqe->user_data = ECHO_UD(i, OP_CSEND);
          } else {
            e->csent = 0;
            io_uring_prep_recv(sqe, e->cfd, e->cbuf, size, 0);
            sqe->user_data = ECHO_UD(i, OP_CRECV);
          }
          break;
        case OP_CRECV:
          if (res == 0) die("client eof", EPIPE);
          e->cgot += res;
          sqe = get_sqe(&ring);
          if (e->cgot < size) {
            io_uring_prep_recv(sqe, e->cfd, e->cbuf + e->cgot, size - e->cgot, 0);
            sqe->user_data = ECHO_UD(i, OP_CRECV);
            break;
          }
          e->cgot = 0;
          {
            uint64_t t = now_ns();
            if (nlat < cap) lat[nlat++] = t - e->t0;
            if (t >= deadline) {  // this client is done: close it, the server side sees EOF
              io_uring_prep_nop(sqe);
              sqe->user_data = ECHO_UD(i, 0xff);
              shutdown(e->cfd, SHUT_WR);
              active--;
              break;
            }
            e->t0 = t;
          }
          io_uring_prep_send(sqe, e->cfd, e->cbuf, size, 0);
          sqe->user_data = ECHO_UD(i, OP_CSEND);
          break;
        case OP_SRECV:
          if (res <= 0) break;  // EOF: the client finished
          e->sgot += res;
          sqe = get_sqe(&ring);
          if (e->sgot < size) {
            io_uring_prep_recv(sqe, e->sfd, e->sbuf + e->sgot, size - e->sgot, 0);
            sqe->user_data = ECHO_UD(i, OP_SRECV);
          } else {
            e->sgot = 0;
            io_uring_prep_send(sqe, e->sfd, e->sbuf, size, 0);
            sqe->user_data = ECHO_UD(i, OP_SSEND);
          }
          break;
        case OP_SSEND:
          e->ssent += res;
          sqe = get_sqe(&ring);
          if (e->ssent < size) {
            io_uring_prep_send(sqe, e->sfd, e->sbuf + e->ssent, size - e->ssent, 0);
            sqe->user_data = ECHO_UD(i, OP_SSEND);
          } else {
            e->ssent = 0;
            io_uring_prep_recv(sqe, e->sfd, e->sbuf, size, 0);
            sqe->user_data = ECHO_UD(i, OP_SRECV);
          }
          break;
        default:
          break;
      }
    }
    io_uring_cq_advance(&ring, n);
  }
  uint64_t dt = now_ns() - t0;
  qsort(lat, nlat, sizeof *lat, cmp_u64);
  emit(name, "round_trips_per_s", nlat / (dt / 1e9), "1/s");
  emit(name, "p50_us", lat[nlat / 2] / 1e3, "us");
  emit(name, "p99_us", lat[(size_t)(0.99 * (nlat - 1) + 0.5)] / 1e3, "us");
  io_uring_queue_exit(&ring);  // cancels the servers' pending RECVs
  for (size_t i = 0; i < clients; ++i) {
    close(c[i].cfd);
    close(c[i].sfd);
  }
  close(lfd);
  free(c);
  free(lat);
}

static double echo_seconds(void) {
  const char *s = getenv("AIO_BENCH_SECONDS");
  double v = s ? atof(s) : 5.0;
  return v > 0 ? v : 5.0;
}

int main(int argc, char **argv) {
  const char *names[32];
  int nn = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--dt")) {
      PEER = "liburing-dt";
      RING_FLAGS = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    } else if (nn < 32) {
      names[nn++] = argv[i];
    }
  }
  static const char *suite[] = {"loop_create_close", "sleep_fanout/100000", "wait_for_timeout/10000",
                                "cancel_sleepers/100000", "cancel_reverse/10000", "nop_roundtrip", "tcp_echo",
                                "tcp_echo_1conn"};
  if (!nn) {
    for (size_t i = 0; i < sizeof suite / sizeof *suite; ++i)
      if (!(RING_FLAGS && !strcmp(suite[i], "loop_create_close")))  // create/close flags are fixed
        names[nn++] = suite[i];
  }
  for (int i = 0; i < nn; ++i) {
    const char *w = names[i];
    if (!strcmp(w, "loop_create_close")) loop_create_close(2000);
    else if (!strcmp(w, "sleep_fanout/100000")) sleep_fanout(100000);
    else if (!strcmp(w, "sleep_fanout/1000000")) sleep_fanout(1000000);
    else if (!strcmp(w, "wait_for_timeout/10000")) wait_for_timeout(10000);
    else if (!strcmp(w, "cancel_sleepers/100000")) cancel_sleepers(100000);
    else if (!strcmp(w, "cancel_reverse/10000")) cancel_reverse(10000);
    else if (!strcmp(w, "nop_roundtrip")) nop_roundtrip(1000000);
    else if (!strcmp(w, "tcp_echo")) tcp_echo(w, 64, 64, echo_seconds());
    else if (!strcmp(w, "tcp_echo_1conn")) tcp_echo(w, 1, 64, echo_seconds());
    else if (!strcmp(w, "baseline")) {
      struct io_uring ring;
      ring_init(&ring);
      io_uring_queue_exit(&ring);
      printf("%s\tbaseline\tok\t1\t-\n", PEER);
    } else {
      fprintf(stderr, "unknown workload %s\n", w);
      return 2;
    }
  }
  return 0;
}
