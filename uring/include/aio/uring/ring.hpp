#pragma once
// A thin RAII layer over one liburing ring: setup with kernel-dependent
// flags, one verb per operation kind, batched submit and batched reap.
// This header is internal to the library: it includes <liburing.h>.

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "aio/uring/completion.hpp"
#include "aio/uring/setup_options.hpp"

namespace aio::uring {

// Setup flags newer than liburing 2.3's headers (values from the kernel's
// include/uapi/linux/io_uring.h).
inline constexpr unsigned kSetupNoMmap = 1U << 14;     ///< IORING_SETUP_NO_MMAP, Linux 6.5
inline constexpr unsigned kSetupNoSqArray = 1U << 16;  ///< IORING_SETUP_NO_SQARRAY, Linux 6.6

struct RingOptions {
  unsigned entries = 256;   ///< submission queue size (1..32768)
  unsigned cq_entries = 0;  ///< completion queue size; 0: 4 × entries
  TaskRun taskrun = TaskRun::automatic;
  /// IORING_SETUP_NO_MMAP: the ring's memory (SQEs, heads and tails, CQEs)
  /// comes from a per-thread arena that is reused from ring to ring, instead
  /// of being allocated by the kernel and mmap()ed at every setup.
  Feature no_mmap = Feature::automatic;
  /// IORING_SETUP_NO_SQARRAY: the kernel takes SQEs in ring order, without
  /// the SQ index array.
  Feature no_sqarray = Feature::automatic;
  /// Take the calling thread's cached ring when it was set up with the same
  /// options, and cache this one at destruction when it is quiesced
  /// (nothing in flight or unsubmitted, CQ empty, no overflow or pending
  /// task work, nothing registered) and destroyed on its creating thread.
  /// The cache holds one ring per thread, is closed at thread exit and is
  /// never used by a forked child.
  bool reuse = false;
};

namespace detail {
class Arena;
/// Ring memory given to the kernel (IORING_SETUP_NO_MMAP); see ring_memory.hpp.
struct RingMemory {
  char* sqes = nullptr;   // the SQE array
  char* rings = nullptr;  // struct io_rings: heads, tails, flags, CQEs, SQ array
  std::size_t sqe_bytes = 0;
  std::size_t ring_bytes = 0;
  Arena* arena = nullptr;  // null: one mapping of its own, sqes then rings
};
}  // namespace detail

/// One io_uring instance.
///
/// Every SQE prepared (through `prepare` or a verb) is one operation: its
/// CQEs are dispatched to the `Completion` it was tagged with, or dropped
/// when it has none (cancels, timeout updates). A single-shot operation ends
/// at its CQE, a multishot one at its first CQE without IORING_CQE_F_MORE.
/// `in_flight()` counts operations that have not ended, so a caller can reap
/// until nothing the kernel might still write is left. A CQE whose user_data
/// has `kMessageTag` set was posted by another ring (IORING_OP_MSG_RING) and
/// belongs to no operation of this one: it does not touch the count.
///
/// Not thread-safe: with `TaskRun::defer` the ring may only be used by the
/// thread that created it (a kernel rule).
class Ring {
 public:
  /// Throws: `std::system_error` naming the cause when the ring cannot be
  /// created (io_uring missing: ENOSYS; disabled by sysctl or seccomp: EPERM;
  /// out of memory or locked-memory limit: ENOMEM, after a bounded wait for
  /// the kernel to finish tearing down rings this process closed; bad sizes,
  /// or a `Feature::required` flag the kernel refuses: EINVAL) or when the
  /// running kernel lacks an operation or flag the runtime needs
  /// (EOPNOTSUPP, naming it and the Linux version that has it).
  explicit Ring(const RingOptions& options = {});
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  /// The one way to start an operation: an SQE tagged with `c` (null: its
  /// CQE is dropped) and counted in `in_flight()`. The caller fills it with a
  /// liburing `io_uring_prep_*` helper (they all start with io_uring_prep_rw,
  /// which writes every field but user_data). It reaches the kernel at the
  /// next submit. Never fails: a full SQ is flushed first.
  io_uring_sqe* prepare(Completion* c) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_sqe_set_data(sqe, c);
    return sqe;
  }

  /// Whether the running kernel supports `opcode` (IORING_REGISTER_PROBE,
  /// probed once per process).
  bool supports(int opcode) const;

  /// Registers a provided-buffer ring (IORING_REGISTER_PBUF_RING) of
  /// `entries` entries at `ring_addr` as group `bgid`. Returns 0 or -errno.
  int register_buf_ring(void* ring_addr, unsigned entries, unsigned short bgid) noexcept;
  int unregister_buf_ring(unsigned short bgid) noexcept;

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
  /// Submits and waits up to `timeout_ns` for a completion; returns whether
  /// one is ready (a signal or the timeout: false).
  bool submit_and_wait_for(std::int64_t timeout_ns);
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
  /// True when the ring's memory is the application's (IORING_SETUP_NO_MMAP).
  bool user_memory() const noexcept { return memory_.sqes != nullptr; }
  unsigned sq_entries() const noexcept { return ring_.sq.ring_entries; }
  unsigned cq_entries() const noexcept { return ring_.cq.ring_entries; }
  /// "SINGLE_ISSUER|DEFER_TASKRUN|..." for the flags this ring was set up with.
  static std::string describe_flags(unsigned flags);

  /// Registrations (files, buffers, buffer rings, eventfd) made on this ring
  /// and not yet unregistered. Every io_uring_register that registers
  /// something calls note_registered(), every unregister
  /// note_unregistered(): a ring with registrations is never cached.
  unsigned registrations() const noexcept { return registered_; }
  void note_registered() noexcept { ++registered_; }
  void note_unregistered() noexcept { --registered_; }
  /// io_uring_register(2) on this ring (through the test fault hook);
  /// returns its result, or -errno.
  int register_raw(unsigned opcode, const void* arg, unsigned nr_args) noexcept;
  /// True when nothing of this ring's past can reach a later user: nothing
  /// in flight or unsubmitted, CQ empty, no overflowed CQE or pending task
  /// work, nothing registered.
  bool quiesced() const noexcept;
  /// True when this ring came from the thread's cache.
  bool reused() const noexcept { return reused_; }
  /// Do not cache this ring at destruction (e.g. destroyed on another thread).
  void forbid_reuse() noexcept { reuse_ = false; }

 private:
  io_uring_sqe* get_sqe();
  void submit_pending(bool wait);
  /// One io_uring_setup attempt with exactly `flags`; on success the ring is
  /// mapped and 0 returned, otherwise the errno, or -1 when NO_MMAP's memory
  /// could not be mapped (nothing left to undo).
  int try_setup(unsigned entries, unsigned cq_entries, unsigned flags);
  void teardown() noexcept;

  io_uring ring_{};
  detail::RingMemory memory_;  // IORING_SETUP_NO_MMAP only
  std::uint64_t in_flight_ = 0;
  unsigned registered_ = 0;
  bool reuse_ = false;
  bool reused_ = false;
  RingOptions key_{};  // what the ring was asked for: the cache's key
};

/// user_data bit marking a CQE posted by another ring (completions are
/// at least 8-byte aligned, so a Completion pointer never has it).
inline constexpr std::uint64_t kMessageTag = 1;

namespace testing {
/// For tests only: the setup flags among `flags` that every later ring
/// setup of this process treats as refused by the kernel (EINVAL), as an
/// older kernel would. 0 (the default) simulates nothing.
void simulate_refused_setup_flags(unsigned flags) noexcept;

/// The io_uring syscalls the fault hook can make fail.
enum class Syscall : unsigned char { setup, enter, register_ };
/// For tests only: from now on, the `nth` call (1-based) of `which` made by
/// any ring of this process, and the `count - 1` calls after it, return
/// -`err` without reaching the kernel (io_uring_enter: instead of
/// submitting; io_uring_setup: no ring is created). `err` 0 disarms.
void inject_fault(Syscall which, int err, unsigned nth = 1, unsigned count = 1) noexcept;
/// How many calls of `which` the hook has failed so far (since the last inject_fault).
unsigned injected_faults(Syscall which) noexcept;

/// Kernel features the ring checks at the first setup of the process.
inline constexpr unsigned kFeatureCancelAny = 1;      ///< IORING_ASYNC_CANCEL_ANY, Linux 5.19
inline constexpr unsigned kFeatureTimeoutUpdate = 2;  ///< IORING_TIMEOUT_UPDATE, Linux 5.11
/// For tests only: later fresh rings treat these features as missing, as an
/// older kernel would (the constructor throws EOPNOTSUPP). 0: none.
void simulate_missing_features(unsigned features) noexcept;

/// How many rings this process closed whose kernel teardown is not known
/// to be finished yet (an upper bound; see ring.cpp's pacing).
unsigned rings_in_teardown() noexcept;
}  // namespace testing

}  // namespace aio::uring
