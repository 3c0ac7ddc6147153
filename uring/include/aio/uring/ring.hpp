#pragma once
// A thin RAII layer over one liburing ring: setup with kernel-dependent
// flags, one verb per operation kind, batched submit and batched reap.
// This header is internal to the library: it includes <liburing.h>.

#include <liburing.h>

#include <cstdint>
#include <string>

#include "aio/uring/completion.hpp"

namespace aio::uring {

/// How the kernel runs completion work for this ring.
enum class TaskRun : std::uint8_t {
  automatic,    ///< the cheapest mode the running kernel accepts
  defer,        ///< IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
  cooperative,  ///< IORING_SETUP_COOP_TASKRUN
  plain,        ///< none of the above
};

struct RingOptions {
  unsigned entries = 256;   ///< submission queue size (1..32768)
  unsigned cq_entries = 0;  ///< completion queue size; 0: 4 × entries
  TaskRun taskrun = TaskRun::automatic;
};

/// One io_uring instance.
///
/// Every SQE prepared through a verb produces exactly one CQE, which is
/// dispatched to the `Completion` given to the verb, or dropped when the verb
/// takes none (cancels, timeout updates): `in_flight()` counts both, so a
/// caller can reap until nothing the kernel might still write is left.
///
/// Not thread-safe: with `TaskRun::defer` the ring may only be used by the
/// thread that created it (a kernel rule).
class Ring {
 public:
  /// Throws: `std::system_error` naming the cause when the ring cannot be
  /// created (io_uring missing: ENOSYS; disabled by sysctl or seccomp: EPERM;
  /// out of memory or locked-memory limit: ENOMEM; bad sizes: EINVAL) or when
  /// the running kernel lacks an operation the runtime needs (EOPNOTSUPP).
  explicit Ring(const RingOptions& options = {});
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // -- verbs: take an SQE, prepare it, tag it. The SQE reaches the kernel at
  // the next submit. They never fail and never drop a request: when the SQ is
  // full they submit what is queued (and reap, if the kernel asks for it).
  void read(int fd, void* buf, unsigned len, std::uint64_t offset, Completion* c);
  void write(int fd, const void* buf, unsigned len, std::uint64_t offset, Completion* c);
  void poll_add(int fd, unsigned events, Completion* c);
  /// An absolute CLOCK_MONOTONIC timeout; `ts` is read at submission.
  void timeout_at(const __kernel_timespec* ts, Completion* c);
  /// Moves the pending timeout tagged `target` to the absolute time `ts`.
  void timeout_update(const __kernel_timespec* ts, const Completion* target);
  /// IORING_OP_ASYNC_CANCEL of the operation tagged `target`; its own CQE is dropped.
  void cancel(const Completion* target);
  /// Cancels every operation in flight (IORING_ASYNC_CANCEL_ANY).
  void cancel_all();
  void nop(Completion* c);

  /// Submits every prepared SQE without waiting; when the kernel holds
  /// completions back (deferred task work, CQ overflow) it also flushes them.
  void submit();
  /// Submits and blocks until at least one completion is ready (or a signal
  /// interrupts the wait).
  void submit_and_wait();
  /// Dispatches every CQE in the completion queue; returns how many.
  unsigned reap();

  /// SQEs prepared but not yet submitted.
  unsigned unsubmitted() const noexcept;
  /// SQEs whose CQE has not been reaped yet.
  std::uint64_t in_flight() const noexcept { return in_flight_; }
  /// True when entering the kernel would produce completions we cannot see in
  /// the CQ yet (deferred task work or overflowed CQEs).
  bool kernel_has_completions() const noexcept;
  bool cq_ready() const noexcept;

  unsigned setup_flags() const noexcept { return ring_.flags; }
  unsigned sq_entries() const noexcept { return ring_.sq.ring_entries; }
  unsigned cq_entries() const noexcept { return ring_.cq.ring_entries; }
  /// "SINGLE_ISSUER|DEFER_TASKRUN|..." for the flags this ring was set up with.
  static std::string describe_flags(unsigned flags);

 private:
  io_uring_sqe* get_sqe();
  void submit_pending(bool wait);

  io_uring ring_{};
  std::uint64_t in_flight_ = 0;
};

}  // namespace aio::uring
