#include "aio/uring/ring.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

namespace aio::uring {
namespace {

constexpr unsigned kMaxEntries = 32768;  // IORING_MAX_ENTRIES
constexpr unsigned kMaxCqEntries = 2 * kMaxEntries;

constexpr unsigned kDefer =
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
constexpr unsigned kCoop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;

// Which automatic candidate the kernel accepted last time: setup flags do not
// change while the process runs, so later rings skip the refused attempts.
std::atomic<int> g_auto_start{0};

[[noreturn]] void throw_setup_error(int err, unsigned entries, unsigned cq_entries) {
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
      what +=
          "out of memory or over the locked-memory limit (RLIMIT_MEMLOCK) for the "
          "ring's memory (ENOMEM)";
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
// first ring only. Returns the first missing opcode, or nullptr.
const NeededOp* missing_op(io_uring* ring) {
  static std::once_flag once;
  static const NeededOp* missing = nullptr;
  std::call_once(once, [ring] {
    io_uring_probe* probe = io_uring_get_probe_ring(ring);
    if (probe == nullptr) {
      // IORING_REGISTER_PROBE came with IORING_OP_READ in 5.6.
      missing = &kNeededOps[5];
      return;
    }
    for (const NeededOp& op : kNeededOps) {
      if (!io_uring_opcode_supported(probe, op.opcode)) {
        missing = &op;
        break;
      }
    }
    io_uring_free_probe(probe);
  });
  return missing;
}

}  // namespace

Ring::Ring(const RingOptions& options) {
  const unsigned entries = options.entries;
  const unsigned cq = options.cq_entries != 0 ? options.cq_entries : 4 * entries;
  if (entries == 0 || entries > kMaxEntries || cq < entries || cq > kMaxCqEntries) {
    throw_setup_error(EINVAL, entries, cq);
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
  const bool automatic = options.taskrun == TaskRun::automatic;
  int err = EINVAL;
  for (int i = automatic ? g_auto_start.load(std::memory_order_relaxed) : 0; i < count; ++i) {
    io_uring_params p{};
    p.flags = candidates[i] | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    p.cq_entries = cq;
    int r = io_uring_queue_init_params(entries, &ring_, &p);
    if (r == -EINVAL) {
      // Older kernels refuse SUBMIT_ALL (< 5.18) but nothing else: retry without it.
      p = io_uring_params{};
      p.flags = candidates[i] | IORING_SETUP_CQSIZE;
      p.cq_entries = cq;
      r = io_uring_queue_init_params(entries, &ring_, &p);
    }
    if (r == 0) {
      if (automatic) g_auto_start.store(i, std::memory_order_relaxed);
      err = 0;
      break;
    }
    err = -r;
    if (err != EINVAL) break;  // flags were not the problem: report the cause
  }
  if (err != 0) throw_setup_error(err, entries, cq);

  if (const NeededOp* op = missing_op(&ring_)) {
    io_uring_queue_exit(&ring_);
    throw std::system_error(EOPNOTSUPP, std::system_category(),
                            std::string("io_uring: the running kernel does not support ") +
                                op->name + " (needs Linux " + op->since + " or later)");
  }
}

Ring::~Ring() { io_uring_queue_exit(&ring_); }

io_uring_sqe* Ring::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    submit_pending(false);
    sqe = io_uring_get_sqe(&ring_);
  }
  ++in_flight_;
  return sqe;
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

void Ring::submit_pending(bool wait) {
  for (;;) {
    int r;
    if (wait) {
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
      reap();
      io_uring_get_events(&ring_);
      reap();
      continue;
    }
    throw std::system_error(-r, std::system_category(), "io_uring_enter");
  }
}

unsigned Ring::reap() {
  unsigned n = 0;
  io_uring_cqe* cqe;
  // Advance past each CQE before dispatching it, so that a completion that
  // prepares new SQEs (and thereby may reap) never sees a CQE twice.
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    const std::uint64_t data = cqe->user_data;
    const int res = cqe->res;
    const unsigned flags = cqe->flags;
    io_uring_cq_advance(&ring_, 1);
    --in_flight_;
    ++n;
    if (data != 0) {
      auto* c = reinterpret_cast<Completion*>(static_cast<std::uintptr_t>(data));
      c->complete(c, res, flags);
    }
  }
  return n;
}

std::string Ring::describe_flags(unsigned flags) {
  static constexpr struct {
    unsigned bit;
    const char* name;
  } kNames[] = {
      {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"}, {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
      {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},   {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"},
      {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},       {IORING_SETUP_CQSIZE, "CQSIZE"},
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

}  // namespace aio::uring
