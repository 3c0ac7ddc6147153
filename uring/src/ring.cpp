#include "aio/uring/ring.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "aio/uring/process_id.hpp"
#include "ring_memory.hpp"

namespace aio::uring {
namespace {

constexpr unsigned kMaxEntries = 32768;  // IORING_MAX_ENTRIES
constexpr unsigned kMaxCqEntries = 2 * kMaxEntries;

constexpr unsigned kDefer =
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
constexpr unsigned kCoop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;

// try_setup's answer when the loop's own ring memory could not be mapped
// (not an errno: the kernel was not asked).
constexpr int kNoRingMemory = -1;

#ifdef IORING_SETUP_NO_MMAP
static_assert(IORING_SETUP_NO_MMAP == kSetupNoMmap);
#endif
static_assert(IORING_CQE_F_MORE == kCqeMore && IORING_CQE_F_BUFFER == kCqeBuffer &&
              IORING_CQE_BUFFER_SHIFT == kCqeBufferShift);
#ifdef IORING_SETUP_NO_SQARRAY
static_assert(IORING_SETUP_NO_SQARRAY == kSetupNoSqArray);
#endif

// Which automatic candidate the kernel accepted last time, and the optional
// flags it refused: what the kernel accepts does not change while the
// process runs, so later rings skip the refused attempts.
std::atomic<int> g_auto_start{0};
std::atomic<unsigned> g_refused{0};
std::atomic<unsigned> g_simulated_refusals{0};  // tests only
std::atomic<unsigned> g_simulated_missing{0};    // tests only

// The test-only fault hook: per syscall, calls to let through before the
// first failure, failures left, the errno, failures made.
struct FaultPlan {
  std::atomic<int> err{0};
  std::atomic<unsigned> skip{0};
  std::atomic<unsigned> left{0};
  std::atomic<unsigned> made{0};
};
FaultPlan g_faults[3];
std::atomic<bool> g_faults_armed{false};

// 0: let the call reach the kernel; otherwise the -errno it returns.
int injected(testing::Syscall which) noexcept {
  if (!g_faults_armed.load(std::memory_order_relaxed)) return 0;
  FaultPlan& f = g_faults[static_cast<int>(which)];
  if (f.err.load(std::memory_order_relaxed) == 0 || f.left.load(std::memory_order_relaxed) == 0) return 0;
  if (f.skip.load(std::memory_order_relaxed) > 0) {
    f.skip.fetch_sub(1, std::memory_order_relaxed);
    return 0;
  }
  f.left.fetch_sub(1, std::memory_order_relaxed);
  f.made.fetch_add(1, std::memory_order_relaxed);
  return -f.err.load(std::memory_order_relaxed);
}

int sys_register(int fd, unsigned opcode, const void* arg, unsigned nr) noexcept {
  if (const int r = injected(testing::Syscall::register_)) return r;
  const long r = ::syscall(__NR_io_uring_register, fd, opcode, arg, nr);
  return r < 0 ? -errno : static_cast<int>(r);
}

// Unmaps (or gives back) a ring's memory once its descriptor is closed.
void release_memory(io_uring& ring, detail::RingMemory& memory, bool in_flight) noexcept {
  if (memory.sqes != nullptr) {
    // The kernel's deferred teardown still writes the header (and the CQE of
    // anything in flight): those pages are not reused while it may.
    detail::release_ring_memory(memory, in_flight);
  } else {
    io_uring_sq& sq = ring.sq;
    io_uring_cq& cq = ring.cq;
    ::munmap(sq.sqes, std::size_t{sq.ring_entries} * sizeof(io_uring_sqe));
    if (cq.ring_ptr != nullptr && cq.ring_ptr != sq.ring_ptr) ::munmap(cq.ring_ptr, cq.ring_sz);
    ::munmap(sq.ring_ptr, sq.ring_sz);
  }
}

// ---- Pacing fresh rings against the kernel's teardown lag.
//
// close() of a ring only queues its teardown (io_ring_exit_work, at most 64
// at a time, each waiting for an RCU grace period with DEFER_TASKRUN): a
// thread creating and closing rings back to back outruns it by far, and the
// backlog of rings not yet freed (kernel memory, ~6 KiB each) grows without
// bound. Every kTracerEvery-th closed ring gets a tracer: the write end of a
// pipe registered as its fixed file, which the kernel drops only when it
// frees the ring, so the pipe's read end reports POLLHUP then. At most
// kMaxTracers tracers are outstanding: the next one waits for the oldest,
// which bounds this process's rings in teardown to about
// kTracerEvery * (kMaxTracers + 1).
constexpr unsigned kTracerEvery = 128;
constexpr unsigned kMaxTracers = 16;
constexpr auto kTracerWaitLimit = std::chrono::seconds(10);  // then go on regardless

struct Pacing {
  std::mutex mutex;
  std::deque<int> tracers;  // read ends, oldest first
  unsigned untraced = 0;    // rings closed since the last tracer
  pid_t pid = 0;            // the process the tracers belong to
};
Pacing& pacing() {
  static Pacing* p = new Pacing;  // never destroyed: rings close during exit
  return *p;
}

// Under the lock: forgets tracers a forked child inherited.
void pacing_check_pid(Pacing& p) {
  const pid_t me = process_id();
  if (p.pid == me) return;
  for (int fd : p.tracers) ::close(fd);
  p.tracers.clear();
  p.untraced = 0;
  p.pid = me;
}

// Under the lock: drops the tracers whose ring is freed; with `wait_ms` >= 0
// first waits up to that long for the oldest. Returns whether one was freed.
bool pacing_reap(Pacing& p, int wait_ms) {
  bool freed = false;
  while (!p.tracers.empty()) {
    pollfd q{p.tracers.front(), POLLIN, 0};
    const int n = ::poll(&q, 1, wait_ms > 0 ? wait_ms : 0);
    wait_ms = 0;
    if (n <= 0) break;
    ::close(p.tracers.front());
    p.tracers.pop_front();
    freed = true;
  }
  return freed;
}

unsigned pacing_backlog(const Pacing& p) {
  return static_cast<unsigned>(p.tracers.size()) * kTracerEvery + p.untraced;
}

// Called with the ring still open, right before its descriptor is closed.
void pace_close(int ring_fd) noexcept {
  Pacing& p = pacing();
  std::lock_guard lock(p.mutex);
  pacing_check_pid(p);
  if (++p.untraced < kTracerEvery) return;
  pacing_reap(p, 0);
  const auto start = std::chrono::steady_clock::now();
  while (p.tracers.size() >= kMaxTracers && std::chrono::steady_clock::now() - start < kTracerWaitLimit) {
    pacing_reap(p, 100);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // untraced: counted in the backlog
  const int r = sys_register(ring_fd, IORING_REGISTER_FILES, &pipe_fds[1], 1);
  ::close(pipe_fds[1]);
  if (r < 0) {
    ::close(pipe_fds[0]);
    return;
  }
  p.tracers.push_back(pipe_fds[0]);
  p.untraced = 0;
}

// io_uring_setup failed with ENOMEM or EAGAIN: when rings this process closed
// may still hold kernel memory, waits (bounded, backing off) for some of
// them to be freed. Returns false when there is nothing to wait for.
bool wait_for_teardown(int attempt) {
  constexpr int kMaxAttempts = 12;  // 1 + 2 + ... + 2048 ms: about 4 s in all
  if (attempt >= kMaxAttempts) return false;
  Pacing& p = pacing();
  std::unique_lock lock(p.mutex);
  pacing_check_pid(p);
  if (p.tracers.empty() && p.untraced == 0) return false;
  const int ms = 1 << attempt;
  if (!p.tracers.empty()) {
    pacing_reap(p, ms);
  } else {
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    lock.lock();
    if (attempt >= 4) p.untraced = 0;  // long gone by now: ~30 ms waited
  }
  return true;
}

// ---- The per-thread cache of one quiesced ring.
struct CachedRing {
  io_uring ring{};
  detail::RingMemory memory;
  RingOptions key{};
  pid_t pid = 0;
  bool full = false;

  void close_it() noexcept {
    if (!full) return;
    full = false;
    if (pid != process_id()) {
      // A forked child's copy: the parent's ring. Drop our reference only.
      ::close(ring.ring_fd);
      release_memory(ring, memory, true);
      return;
    }
    pace_close(ring.ring_fd);
    ::close(ring.ring_fd);
    release_memory(ring, memory, false);
  }
  ~CachedRing() { close_it(); }
};
thread_local CachedRing tls_cached_ring;

bool same_key(const RingOptions& a, const RingOptions& b) {
  return a.entries == b.entries && a.cq_entries == b.cq_entries && a.taskrun == b.taskrun &&
         a.no_mmap == b.no_mmap && a.no_sqarray == b.no_sqarray;
}

unsigned round_up_pow2(unsigned n) {
  unsigned r = 1;
  while (r < n) r <<= 1;
  return r;
}

std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// liburing 2.3 calls the field resv2; later versions user_addr.
template <class Offsets>
void set_user_addr(Offsets& off, std::uint64_t addr) {
  if constexpr (requires { off.user_addr; }) {
    off.user_addr = addr;
  } else {
    off.resv2 = addr;
  }
}

unsigned pacing_backlog_now();

[[noreturn]] void throw_setup_error(int err, unsigned entries, unsigned cq_entries, int waits = 0) {
  std::string what = "io_uring_setup(entries=" + std::to_string(entries) +
                     ", cq_entries=" + std::to_string(cq_entries) + ") failed: ";
  switch (err) {
    case ENOSYS:
      what += "io_uring is not available in this kernel (ENOSYS)";
      break;
    case EPERM:
      what +=
          "io_uring is disabled: the sysctl kernel.io_uring_disabled is set, or a "
          "seccomp or container policy forbids io_uring_setup (EPERM)";
      break;
    case ENOMEM:
    case EAGAIN:
      what += err == ENOMEM ? "out of memory or over the locked-memory limit (RLIMIT_MEMLOCK) for the "
                              "ring's memory (ENOMEM)"
                            : "the kernel is out of resources for a new ring (EAGAIN)";
      if (waits > 0) {
        what += ", also after waiting " + std::to_string((1 << waits) - 1) +
                " ms for the kernel to free rings this process closed (about " +
                std::to_string(pacing_backlog_now()) + " still being torn down)";
      }
      break;
    case EMFILE:
    case ENFILE:
      what += "too many open files for a new ring descriptor (" + std::string(strerror(err)) + ")";
      break;
    case EINVAL:
      what += "invalid ring parameters (EINVAL): entries must be 1.." +
              std::to_string(kMaxEntries) + " and cq_entries at least entries and at most " +
              std::to_string(kMaxCqEntries);
      break;
    default:
      what += strerror(err);
  }
  throw std::system_error(err, std::system_category(), what);
}

// The opcodes the runtime prepares (Linux 5.1-5.6). The flags it relies on
// beyond them (IORING_ASYNC_CANCEL_ANY 5.19, IORING_TIMEOUT_UPDATE 5.11) are
// probed separately, in missing_features().
struct NeededOp {
  int opcode;
  const char* name;
  const char* since;
};

constexpr NeededOp kNeededOps[] = {
    {IORING_OP_NOP, "IORING_OP_NOP", "5.1"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD", "5.1"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT", "5.4"},
    {IORING_OP_TIMEOUT_REMOVE, "IORING_OP_TIMEOUT_REMOVE", "5.5"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL", "5.5"},
    {IORING_OP_READ, "IORING_OP_READ", "5.6"},
    {IORING_OP_WRITE, "IORING_OP_WRITE", "5.6"},
};

// The kernel's opcode set does not change while the process runs: probe the
// first ring only, and keep the answer for Ring::supports.
std::once_flag probe_once;
std::bitset<256> probed_ops;  // written once, under probe_once
const NeededOp* probed_missing = nullptr;

// Returns the first missing opcode, or nullptr.
const NeededOp* missing_op(io_uring* ring) {
  std::call_once(probe_once, [ring] {
    alignas(io_uring_probe) unsigned char buf[sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op)]{};
    auto* probe = reinterpret_cast<io_uring_probe*>(buf);
    if (const int r = sys_register(ring->ring_fd, IORING_REGISTER_PROBE, probe, 256); r < 0) {
      if (r != -EINVAL) {
        throw std::system_error(-r, std::system_category(), "io_uring_register(IORING_REGISTER_PROBE)");
      }
      // IORING_REGISTER_PROBE came with IORING_OP_READ in 5.6.
      probed_missing = &kNeededOps[5];
      return;
    }
    for (int op = 0; op < 256; ++op) probed_ops[op] = io_uring_opcode_supported(probe, op) != 0;
    for (const NeededOp& op : kNeededOps) {
      if (!probed_ops[op.opcode]) {
        probed_missing = &op;
        break;
      }
    }
  });
  return probed_missing;
}

// Flags of operations the runtime uses, which the opcode probe does not
// show: close() cancels everything with IORING_ASYNC_CANCEL_ANY (an older
// kernel answers -EINVAL, and close() would spin), and the loop moves its
// timer with IORING_TIMEOUT_UPDATE (refused: the loop would oversleep).
// Probed once, on the first ring: both target nothing, so a kernel that
// has them answers -ENOENT.
struct NeededFeature {
  unsigned bit;
  const char* name;
  const char* since;
};
constexpr NeededFeature kNeededFeatures[] = {
    {testing::kFeatureCancelAny, "IORING_ASYNC_CANCEL_ANY (cancelling every operation at close)", "5.19"},
    {testing::kFeatureTimeoutUpdate, "IORING_TIMEOUT_UPDATE (moving the loop's timer)", "5.11"},
};

unsigned missing_features(io_uring* ring) {
  static std::once_flag once;
  static unsigned missing = 0;
  std::call_once(once, [ring] {
    // One probe at a time: a ring made with entries = 1 has one SQE slot.
    const auto probe = [ring](unsigned bit, auto&& prep) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (sqe == nullptr) {
        missing |= bit;
        return;
      }
      prep(sqe);
      io_uring_sqe_set_data64(sqe, bit);
      io_uring_cqe* cqe = nullptr;
      if (io_uring_submit_and_wait(ring, 1) < 0 || io_uring_wait_cqe(ring, &cqe) != 0) {
        missing |= bit;
        return;
      }
      if (cqe->res == -EINVAL) missing |= bit;
      io_uring_cqe_seen(ring, cqe);
    };
    probe(testing::kFeatureCancelAny,
          [](io_uring_sqe* sqe) { io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY); });
    static __kernel_timespec ts{};
    probe(testing::kFeatureTimeoutUpdate,
          [](io_uring_sqe* sqe) { io_uring_prep_timeout_update(sqe, &ts, 0x5eed, IORING_TIMEOUT_ABS); });
  });
  return missing | g_simulated_missing.load(std::memory_order_relaxed);
}

[[noreturn]] void throw_missing_feature(unsigned missing) {
  for (const NeededFeature& f : kNeededFeatures) {
    if ((missing & f.bit) != 0) {
      throw std::system_error(EOPNOTSUPP, std::system_category(),
                              std::string("io_uring: the running kernel does not support ") + f.name +
                                  " (needs Linux " + f.since + " or later)");
    }
  }
  throw std::system_error(EOPNOTSUPP, std::system_category(), "io_uring: kernel feature missing");
}

}  // namespace

Ring::Ring(const RingOptions& options) : reuse_(options.reuse), key_(options) {
  const unsigned entries = options.entries;
  const unsigned cq = options.cq_entries != 0 ? options.cq_entries : 4 * entries;
  if (entries == 0 || entries > kMaxEntries || cq < entries || cq > kMaxCqEntries) {
    throw_setup_error(EINVAL, entries, cq);
  }
  CachedRing& cached = tls_cached_ring;
  if (cached.full) {
    if (cached.pid != process_id()) {
      cached.close_it();  // a forked child never uses its parent's ring
    } else if (options.reuse && same_key(cached.key, options)) {
      if (const unsigned m = g_simulated_missing.load(std::memory_order_relaxed)) throw_missing_feature(m);
      ring_ = cached.ring;
      memory_ = cached.memory;
      cached.full = false;
      reused_ = true;
      return;
    }
  }

  unsigned candidates[3];
  int count = 0;
  switch (options.taskrun) {
    case TaskRun::automatic:
      for (unsigned f : {kDefer, kCoop, 0u}) candidates[count++] = f;
      break;
    case TaskRun::defer:
      candidates[count++] = kDefer;
      break;
    case TaskRun::cooperative:
      candidates[count++] = kCoop;
      break;
    case TaskRun::plain:
      candidates[count++] = 0;
      break;
  }

  // Flags the ring must have, and flags it has when the kernel accepts them.
  unsigned required = IORING_SETUP_CQSIZE;
  unsigned optional = IORING_SETUP_SUBMIT_ALL;
  const auto want = [&](Feature f, unsigned bit) {
    if (f == Feature::required) required |= bit;
    if (f == Feature::automatic) optional |= bit;
  };
  want(options.no_mmap, kSetupNoMmap);
  want(options.no_sqarray, kSetupNoSqArray);
  optional &= ~g_refused.load(std::memory_order_relaxed);

  const bool automatic = options.taskrun == TaskRun::automatic;
  int err = EINVAL;
  int waits = 0;  // waits for the kernel to free rings this process closed
  for (int i = automatic ? g_auto_start.load(std::memory_order_relaxed) : 0; i < count; ++i) {
    // The kernel answers EINVAL to any flag it does not know, and 6.5's
    // NO_MMAP EFAULT to ring memory that is not one huge page; the loop's
    // own memory may not be mappable either: drop the optional flags,
    // newest first, until the kernel accepts the rest.
    unsigned opt = optional;
    unsigned last_dropped = 0;
    for (;;) {
      err = try_setup(entries, cq, candidates[i] | required | opt);
      if ((err == ENOMEM || err == EAGAIN) && wait_for_teardown(waits)) {
        ++waits;
        continue;
      }
      const bool no_mmap_failed = (err == EFAULT || err == kNoRingMemory) && (opt & kSetupNoMmap) != 0;
      if ((err != EINVAL && !no_mmap_failed) || opt == 0) break;
      last_dropped = 1U << (31 - __builtin_clz(opt));
      opt &= ~last_dropped;
    }
    if (err == 0) {
      // The refusal is the kernel's, not this candidate's: remember the flag
      // whose removal made it accept (an earlier one dropped needlessly is
      // tried again by the next ring, and remembered then if refused).
      if (last_dropped != 0) g_refused.fetch_or(last_dropped, std::memory_order_relaxed);
      if (automatic) g_auto_start.store(i, std::memory_order_relaxed);
      break;
    }
    if (err != EINVAL) break;  // flags were not the problem: report the cause
  }
  if (err == EINVAL && (required & (kSetupNoMmap | kSetupNoSqArray)) != 0) {
    std::string what = "io_uring_setup(entries=" + std::to_string(entries) +
                       ") failed: the running kernel refuses";
    if ((required & kSetupNoMmap) != 0) {
      what += " IORING_SETUP_NO_MMAP (ring memory provided by the application, Linux 6.5 or later)";
    }
    if ((required & kSetupNoSqArray) != 0) {
      if ((required & kSetupNoMmap) != 0) what += " or";
      what += " IORING_SETUP_NO_SQARRAY (Linux 6.6 or later)";
    }
    what += ", which the ring options require (EINVAL)";
    throw std::system_error(EINVAL, std::system_category(), what);
  }
  if (err == kNoRingMemory) {
    throw std::system_error(ENOMEM, std::system_category(),
                            "io_uring: no memory could be mapped for the ring (IORING_SETUP_NO_MMAP)");
  }
  if (err != 0) throw_setup_error(err, entries, cq, waits);

  const NeededOp* op = nullptr;
  try {
    op = missing_op(&ring_);
  } catch (...) {
    reuse_ = false;
    teardown();
    throw;
  }
  if (op != nullptr) {
    reuse_ = false;
    teardown();
    throw std::system_error(EOPNOTSUPP, std::system_category(),
                            std::string("io_uring: the running kernel does not support ") +
                                op->name + " (needs Linux " + op->since + " or later)");
  }
  if (const unsigned m = missing_features(&ring_)) {
    reuse_ = false;
    teardown();
    throw_missing_feature(m);
  }
}

int Ring::try_setup(unsigned entries, unsigned cq_entries, unsigned flags) {
  io_uring_params p{};
  p.flags = flags;
  p.cq_entries = cq_entries;

  // Sizes the kernel will use (it rounds both queues up to powers of two).
  const std::size_t page = detail::page_size();
  const unsigned sq_n = round_up_pow2(entries);
  const unsigned cq_n = round_up_pow2(cq_entries);
  const std::size_t sqe_bytes = align_up(sq_n * sizeof(io_uring_sqe), page);
  // struct io_rings (heads, tails, masks, flags: 64 bytes), the CQEs, then
  // the SQ array cache-line aligned; with room to spare, checked below
  // against the offsets the kernel reports.
  const std::size_t ring_bytes =
      align_up(256 + std::size_t{cq_n} * sizeof(io_uring_cqe) + 64 + std::size_t{sq_n} * 4, page);

  detail::RingMemory mem;
  if ((flags & kSetupNoMmap) != 0) {
    try {
      mem = detail::acquire_ring_memory(sqe_bytes, ring_bytes);
    } catch (const std::system_error&) {
      return kNoRingMemory;  // the caller drops NO_MMAP if it may
    }
    set_user_addr(p.sq_off, reinterpret_cast<std::uintptr_t>(mem.sqes));
    set_user_addr(p.cq_off, reinterpret_cast<std::uintptr_t>(mem.rings));
  }

  const bool simulated = (flags & g_simulated_refusals.load(std::memory_order_relaxed)) != 0;
  const int fault = simulated ? -EINVAL : injected(testing::Syscall::setup);
  const int fd = fault != 0 ? -1 : static_cast<int>(::syscall(__NR_io_uring_setup, entries, &p));
  if (fd < 0) {
    const int err = fault != 0 ? -fault : errno;
    detail::release_ring_memory(mem, false);
    return err;
  }

  io_uring_sq& sq = ring_.sq;
  io_uring_cq& cq = ring_.cq;
  char* sq_ring;
  char* cq_ring;
  const bool sq_array = (flags & kSetupNoSqArray) == 0;
  const std::size_t sq_need = sq_array ? p.sq_off.array + std::size_t{p.sq_entries} * 4 : 0;
  const std::size_t cq_need = p.cq_off.cqes + std::size_t{p.cq_entries} * sizeof(io_uring_cqe);
  if (mem.sqes != nullptr) {
    if (p.sq_entries != sq_n || p.cq_entries != cq_n || sq_need > ring_bytes || cq_need > ring_bytes) {
      // Cannot happen with the kernel layouts known so far.
      ::close(fd);
      detail::release_ring_memory(mem, true);
      throw std::system_error(EOVERFLOW, std::system_category(),
                              "io_uring: the kernel's ring layout is larger than the memory "
                              "provided for IORING_SETUP_NO_MMAP");
    }
    sq.sqes = reinterpret_cast<io_uring_sqe*>(mem.sqes);
    sq_ring = cq_ring = mem.rings;
    sq.ring_ptr = cq.ring_ptr = sq_ring;
    sq.ring_sz = cq.ring_sz = 0;  // nothing of ours to unmap but `mem`
  } else {
    // Kernel-allocated memory: map it (as liburing's io_uring_queue_mmap does).
    sq.ring_sz = std::max(sq_need, std::size_t{p.sq_off.flags} + 4);
    cq.ring_sz = cq_need;
    const bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) sq.ring_sz = cq.ring_sz = std::max(sq.ring_sz, cq.ring_sz);
    const auto map = [fd](std::size_t len, std::uint64_t off) -> char* {
      void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                       static_cast<off_t>(off));
      return m == MAP_FAILED ? nullptr : static_cast<char*>(m);
    };
    sq_ring = map(sq.ring_sz, IORING_OFF_SQ_RING);
    cq_ring = sq_ring == nullptr ? nullptr : single ? sq_ring : map(cq.ring_sz, IORING_OFF_CQ_RING);
    char* sqes = cq_ring == nullptr ? nullptr
                                    : map(std::size_t{p.sq_entries} * sizeof(io_uring_sqe), IORING_OFF_SQES);
    if (sqes == nullptr) {
      const int err = errno;
      if (cq_ring != nullptr && cq_ring != sq_ring) ::munmap(cq_ring, cq.ring_sz);
      if (sq_ring != nullptr) ::munmap(sq_ring, sq.ring_sz);
      ::close(fd);
      ring_ = io_uring{};
      return err;
    }
    sq.sqes = reinterpret_cast<io_uring_sqe*>(sqes);
    sq.ring_ptr = sq_ring;
    cq.ring_ptr = cq_ring;
  }

  const auto at = [](char* base, std::uint32_t off) { return reinterpret_cast<unsigned*>(base + off); };
  sq.khead = at(sq_ring, p.sq_off.head);
  sq.ktail = at(sq_ring, p.sq_off.tail);
  sq.kring_mask = at(sq_ring, p.sq_off.ring_mask);
  sq.kring_entries = at(sq_ring, p.sq_off.ring_entries);
  sq.kflags = at(sq_ring, p.sq_off.flags);
  sq.kdropped = at(sq_ring, p.sq_off.dropped);
  sq.array = sq_array ? at(sq_ring, p.sq_off.array) : nullptr;
  sq.sqe_head = sq.sqe_tail = 0;
  sq.ring_mask = *sq.kring_mask;
  sq.ring_entries = *sq.kring_entries;
  // liburing 2.3 never writes the SQ array after setup: slot i is SQE i.
  if (sq.array != nullptr) {
    for (unsigned i = 0; i < p.sq_entries; ++i) sq.array[i] = i;
  }

  cq.khead = at(cq_ring, p.cq_off.head);
  cq.ktail = at(cq_ring, p.cq_off.tail);
  cq.kring_mask = at(cq_ring, p.cq_off.ring_mask);
  cq.kring_entries = at(cq_ring, p.cq_off.ring_entries);
  cq.koverflow = at(cq_ring, p.cq_off.overflow);
  cq.cqes = reinterpret_cast<io_uring_cqe*>(cq_ring + p.cq_off.cqes);
  cq.kflags = p.cq_off.flags != 0 ? at(cq_ring, p.cq_off.flags) : nullptr;
  cq.ring_mask = *cq.kring_mask;
  cq.ring_entries = *cq.kring_entries;

  ring_.flags = p.flags;
  ring_.ring_fd = fd;
  ring_.enter_ring_fd = fd;
  ring_.features = p.features;
  ring_.int_flags = 0;
  memory_ = mem;
  return 0;
}

void Ring::teardown() noexcept {
  if (ring_.ring_fd < 0) return;
  if (reuse_ && quiesced()) {
    CachedRing& cached = tls_cached_ring;
    cached.close_it();  // one ring per thread: the newest is kept
    cached.ring = ring_;
    cached.memory = memory_;
    cached.key = key_;
    cached.pid = process_id();
    cached.full = true;
  } else {
    pace_close(ring_.ring_fd);
    ::close(ring_.ring_fd);
    release_memory(ring_, memory_, in_flight_ != 0);
  }
  memory_ = detail::RingMemory{};
  ring_ = io_uring{};
  ring_.ring_fd = -1;
}

bool Ring::quiesced() const noexcept {
  return in_flight_ == 0 && registered_ == 0 && io_uring_sq_ready(&ring_) == 0 &&
         *ring_.cq.khead == io_uring_smp_load_acquire(ring_.cq.ktail) && !kernel_has_completions();
}

int Ring::register_raw(unsigned opcode, const void* arg, unsigned nr_args) noexcept {
  return sys_register(ring_.ring_fd, opcode, arg, nr_args);
}

Ring::~Ring() { teardown(); }

io_uring_sqe* Ring::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    submit_pending(false);
    sqe = io_uring_get_sqe(&ring_);
  }
  ++in_flight_;
  return sqe;
}

bool Ring::supports(int opcode) const {
  // Every ring was probed (or found the probe done) at its setup.
  return opcode >= 0 && opcode < 256 && probed_ops[static_cast<std::size_t>(opcode)];
}

int Ring::register_buf_ring(void* ring_addr, unsigned entries, unsigned short bgid) noexcept {
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_addr);
  reg.ring_entries = entries;
  reg.bgid = bgid;
  // Through register_raw, so the fault hook reaches it as any registration.
  const int r = register_raw(IORING_REGISTER_PBUF_RING, &reg, 1);
  if (r == 0) note_registered();
  return r;
}

int Ring::unregister_buf_ring(unsigned short bgid) noexcept {
  io_uring_buf_reg reg{};
  reg.bgid = bgid;
  const int r = register_raw(IORING_UNREGISTER_PBUF_RING, &reg, 1);
  if (r == 0) note_unregistered();
  return r;
}

void Ring::read(int fd, void* buf, unsigned len, std::uint64_t offset, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, fd, buf, len, offset);
  io_uring_sqe_set_data(sqe, c);
}

void Ring::write(int fd, const void* buf, unsigned len, std::uint64_t offset, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_write(sqe, fd, buf, len, offset);
  io_uring_sqe_set_data(sqe, c);
}

void Ring::poll_add(int fd, unsigned events, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_poll_add(sqe, fd, events);
  io_uring_sqe_set_data(sqe, c);
}

void Ring::timeout_at(const __kernel_timespec* ts, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  // count 0: a pure timer, not "wake after N completions".
  io_uring_prep_timeout(sqe, const_cast<__kernel_timespec*>(ts), 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data(sqe, c);
}

void Ring::timeout_update(const __kernel_timespec* ts, const Completion* target) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_timeout_update(sqe, const_cast<__kernel_timespec*>(ts),
                               reinterpret_cast<std::uintptr_t>(target), IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::cancel(const Completion* target) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(target), 0);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::cancel_all() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::nop(Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data(sqe, c);
}

unsigned Ring::unsubmitted() const noexcept { return io_uring_sq_ready(&ring_); }

bool Ring::kernel_has_completions() const noexcept {
  return (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

bool Ring::cq_ready() const noexcept { return io_uring_cq_ready(&ring_) != 0; }

void Ring::submit() { submit_pending(false); }

void Ring::submit_and_wait() { submit_pending(true); }

bool Ring::submit_and_wait_for(std::int64_t timeout_ns) {
  if ((ring_.features & IORING_FEAT_EXT_ARG) == 0) {
    // liburing would queue a timeout SQE of its own, which reap() cannot tell.
    submit_pending(true);
    return cq_ready();
  }
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ns / 1'000'000'000;
  ts.tv_nsec = timeout_ns % 1'000'000'000;
  io_uring_cqe* cqe = nullptr;
  const int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  if (r >= 0 || r == -ETIME || r == -EINTR) return cq_ready();
  if (r == -EAGAIN || r == -EBUSY) {
    reap();
    return true;
  }
  throw std::system_error(-r, std::system_category(), "io_uring_enter");
}

void Ring::submit_pending(bool wait) {
  unsigned busy = 0;  // EAGAIN/EBUSY answers in a row that reaping did not cure
  for (;;) {
    int r;
    if (const int fault = injected(testing::Syscall::enter); fault != 0 &&
        (wait || kernel_has_completions() || io_uring_sq_ready(&ring_) != 0)) {
      r = fault;
    } else if (wait) {
      r = io_uring_submit_and_wait(&ring_, 1);
    } else if (kernel_has_completions()) {
      r = io_uring_submit_and_get_events(&ring_);
    } else if (io_uring_sq_ready(&ring_) != 0) {
      r = io_uring_submit(&ring_);
    } else {
      return;
    }
    if (r >= 0) return;
    if (r == -EINTR) {
      if (wait) return;  // the caller's loop decides whether to wait again
      continue;
    }
    if (r == -EAGAIN || r == -EBUSY) {
      // The kernel wants completions consumed before it takes more work.
      unsigned reaped = reap();
      io_uring_get_events(&ring_);
      reaped += reap();
      // What was reaped is what the wait was for: blocking now could wait
      // for a completion that already came. Only submit what is left.
      if (reaped > 0) wait = false;
      if (reaped == 0 && ++busy > 1000) {
        // Nothing to consume and still refused: memory, not backpressure.
        throw std::system_error(-r, std::system_category(),
                                "io_uring_enter: the kernel keeps refusing new work with no completion "
                                "to consume");
      }
      if (reaped == 0 && busy > 10) std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    throw std::system_error(-r, std::system_category(), "io_uring_enter");
  }
}

unsigned Ring::reap() {
  // The CQ read directly (liburing 2.3's io_uring_peek_cqe is an out-of-line
  // call even when the CQ is empty, which it is at most loop iterations).
  io_uring_cq& cq = ring_.cq;
  unsigned n = 0;
  for (;;) {
    // Re-read both each time: a completion may reap (nested) and move head.
    const unsigned head = *cq.khead;  // ours: only this thread moves it
    if (head == io_uring_smp_load_acquire(cq.ktail)) return n;
    const io_uring_cqe& cqe = cq.cqes[head & cq.ring_mask];
    std::uint64_t data = cqe.user_data;
    const int res = cqe.res;
    const unsigned flags = cqe.flags;
    // Advance past the CQE before dispatching it, so that a completion that
    // prepares new SQEs (and thereby may reap) never sees it twice.
    io_uring_smp_store_release(cq.khead, head + 1);
    ++n;
    if ((data & kMessageTag) != 0) {
      data &= ~kMessageTag;  // another ring's message: no operation of ours ends here
    } else if ((flags & IORING_CQE_F_MORE) == 0) {
      --in_flight_;  // an operation ends at its CQE without F_MORE (every single-shot CQE)
    }
    if (data != 0) {
      auto* c = reinterpret_cast<Completion*>(static_cast<std::uintptr_t>(data));
      c->complete(c, res, flags);
    }
  }
}

std::string Ring::describe_flags(unsigned flags) {
  static constexpr struct {
    unsigned bit;
    const char* name;
  } kNames[] = {
      {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"}, {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
      {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},   {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"},
      {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},       {IORING_SETUP_CQSIZE, "CQSIZE"},
      {kSetupNoMmap, "NO_MMAP"},                     {kSetupNoSqArray, "NO_SQARRAY"},
  };
  std::string out;
  for (const auto& n : kNames) {
    if ((flags & n.bit) != 0) {
      if (!out.empty()) out += '|';
      out += n.name;
    }
  }
  return out.empty() ? "none" : out;
}

namespace {
unsigned pacing_backlog_now() {
  Pacing& p = pacing();
  std::lock_guard lock(p.mutex);
  pacing_check_pid(p);
  pacing_reap(p, 0);
  return pacing_backlog(p);
}
}  // namespace

namespace testing {
void simulate_refused_setup_flags(unsigned flags) noexcept {
  g_simulated_refusals.store(flags, std::memory_order_relaxed);
}

void simulate_missing_features(unsigned features) noexcept {
  g_simulated_missing.store(features, std::memory_order_relaxed);
}

void inject_fault(Syscall which, int err, unsigned nth, unsigned count) noexcept {
  FaultPlan& f = g_faults[static_cast<int>(which)];
  f.err.store(0, std::memory_order_relaxed);
  f.skip.store(nth > 0 ? nth - 1 : 0, std::memory_order_relaxed);
  f.left.store(count, std::memory_order_relaxed);
  f.made.store(0, std::memory_order_relaxed);
  f.err.store(err, std::memory_order_relaxed);
  if (err != 0) g_faults_armed.store(true, std::memory_order_relaxed);
}

unsigned injected_faults(Syscall which) noexcept {
  return g_faults[static_cast<int>(which)].made.load(std::memory_order_relaxed);
}

unsigned rings_in_teardown() noexcept { return pacing_backlog_now(); }
}  // namespace testing

}  // namespace aio::uring
