#pragma once
// The operation layer: one kernel operation awaited by one task, and one
// kernel operation owned by an object (a connection's multishot recv, a
// listener's multishot accept). Each op kind is a small class with a `prep`
// function that fills the SQE, in a file of its own under async/src/ops/.

#include <coroutine>
#include <cstdint>

#include "aio/detail/task_base.hpp"
#include "aio/uring/completion.hpp"

struct io_uring_sqe;  // <liburing.h> stays out of the public headers

namespace aio::detail {

class LoopCore;

/// Fills a prepared (zeroed) SQE for the op object `self`.
template <class Op>
using PrepFn = void (*)(Op* self, io_uring_sqe* sqe) noexcept;

/// An SQE on `loop`'s ring tagged with `c` (null: its CQE is dropped); the
/// caller fills it at once. Never fails (a full SQ is flushed first).
io_uring_sqe* prepare_sqe(LoopCore& loop, uring::Completion* c);

/// The part every awaited kernel operation shares: the in-flight rule and the
/// cancel protocol. The awaiter lives in the awaiting coroutine's frame, which
/// cannot be freed before the task resumes, and the task resumes only on this
/// operation's own CQE, so the kernel never writes into freed memory, also
/// when the operation was cancelled. A cancel is an IORING_OP_ASYNC_CANCEL
/// whose own CQE carries no pointer at all.
class IoOp : protected Wait, protected uring::Completion {
 public:
  IoOp() noexcept {
    Wait::cancel = &on_cancel;
    uring::Completion::complete = &on_complete;
  }
  /// Movable until awaited (so that wait_for can hold it by value).
  IoOp(IoOp&&) noexcept : IoOp() {}
  IoOp& operator=(const IoOp&) = delete;
  ~IoOp();  // aborts if the operation is still in flight: that would be a bug

  bool await_ready() const noexcept { return false; }
  /// The ReportsCancel protocol (awaitable_traits.hpp): true if the
  /// operation ended by our cancel, which is then consumed, not thrown.
  bool await_cancelled() const noexcept;

 protected:
  /// Prepares the SQE with `prep`, counts the op in flight and parks the
  /// current task on it. Throws RuntimeError outside a running task, and
  /// CancelledError (submitting nothing) when the task has a cancellation
  /// pending.
  template <class Op>
  void start(std::coroutine_handle<> h, PrepFn<Op> prep) {
    io_uring_sqe* sqe = begin();
    prep(static_cast<Op*>(this), sqe);
    park(h);
  }
  /// The CQE's result: CancelledError for a cancelled operation, a
  /// std::system_error for any other failure.
  int result(const char* what) const;
  int raw_result() const noexcept { return res_; }
  /// The CQE's flags (IORING_CQE_F_BUFFER and the buffer id, ...).
  unsigned cqe_flags() const noexcept { return flags_; }

 private:
  io_uring_sqe* begin();
  void park(std::coroutine_handle<> h) noexcept;
  static void on_complete(uring::Completion* c, int res, unsigned flags) noexcept;
  static void on_cancel(Wait* w) noexcept;

  TaskBase* task_ = nullptr;
  int res_ = 0;
  unsigned flags_ = 0;
  bool in_flight_ = false;
  bool cancel_sent_ = false;
};

/// A kernel operation owned by an object rather than by one await: the
/// owner keeps it (and the memory it names) alive until its final CQE,
/// which is the first without IORING_CQE_F_MORE. `on_cqe` sees every CQE,
/// `final` telling the last. Cancelling submits IORING_OP_ASYNC_CANCEL; the
/// op stays armed until its final CQE arrives.
class OwnedOp : public uring::Completion {
 public:
  using OnCqe = void (*)(OwnedOp* self, int res, unsigned flags, bool final) noexcept;
  OwnedOp(OnCqe on_cqe, void* owner) noexcept : owner(owner), on_cqe_(on_cqe) { complete = &dispatch; }
  OwnedOp(const OwnedOp&) = delete;
  OwnedOp& operator=(const OwnedOp&) = delete;

  bool armed() const noexcept { return armed_; }
  bool cancelling() const noexcept { return cancel_sent_; }
  /// An SQE tagged with this op; the op is armed until its final CQE.
  io_uring_sqe* arm(LoopCore& loop);
  /// Asks the kernel to end the op (no-op when not armed or already asked).
  void cancel(LoopCore& loop);

  void* const owner;  ///< the object this op belongs to, for `on_cqe`

 private:
  static void dispatch(uring::Completion* c, int res, unsigned flags) noexcept;
  OnCqe on_cqe_;
  bool armed_ = false;
  bool cancel_sent_ = false;
};

}  // namespace aio::detail
