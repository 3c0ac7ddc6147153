#pragma once
// aio::read, aio::write, aio::poll: one io_uring operation each.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <coroutine>
#include <span>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/uring/completion.hpp"

namespace aio {

namespace detail {

/// The part every kernel operation shares: the in-flight rule and the cancel
/// protocol. The awaiter lives in the awaiting coroutine's frame, which
/// cannot be freed before the task resumes, and the task resumes only on
/// this operation's own CQE, so the kernel never writes into freed memory,
/// also when the operation was cancelled. A cancel is an
/// IORING_OP_ASYNC_CANCEL whose own CQE carries no pointer at all.
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
  /// Parks the task after the SQE was prepared.
  void park(std::coroutine_handle<> h) noexcept { task_->park(h, this); }
  /// The CQE's result: CancelledError for a cancelled operation, a
  /// std::system_error for any other failure.
  int result(const char* what) const;

  TaskBase* task_ = nullptr;
  int res_ = 0;
  bool in_flight_ = false;
  bool cancel_sent_ = false;

 private:
  static void on_complete(uring::Completion* c, int res, unsigned flags) noexcept;
  static void on_cancel(Wait* w) noexcept;
};

class ReadOp final : public IoOp {
 public:
  ReadOp(int fd, std::span<std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h);
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::read")); }

 private:
  int fd_;
  std::span<std::byte> buf_;
};

class WriteOp final : public IoOp {
 public:
  WriteOp(int fd, std::span<const std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h);
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::write")); }

 private:
  int fd_;
  std::span<const std::byte> buf_;
};

class PollOp final : public IoOp {
 public:
  PollOp(int fd, short events) noexcept : fd_(fd), events_(events) {}
  void await_suspend(std::coroutine_handle<> h);
  short await_resume() const { return static_cast<short>(result("aio::poll")); }

 private:
  int fd_;
  short events_;
};

}  // namespace detail

// Each function below is one io_uring operation, submitted at the loop's next
// submit. Throws: std::system_error with the operation's errno; RuntimeError
// outside a running task.
// Cancel safety: cancelling the awaiting task submits IORING_OP_ASYNC_CANCEL
// for the operation and the task resumes on the operation's own completion.
// If the operation was cancelled, CancelledError is thrown there. If it
// completed anyway (the cancel came too late), its result is returned so that
// no data is lost, and the cancellation is delivered at the task's next
// suspending await (or the task ends cancelled if it returns first).

/// Reads up to `buf.size()` bytes (at most INT_MAX) from `fd` at its current
/// position; returns the count, 0 at end of file.
inline detail::ReadOp read(int fd, std::span<std::byte> buf) noexcept { return {fd, buf}; }

/// Writes up to `buf.size()` bytes (at most INT_MAX) to `fd`; returns the count written.
inline detail::WriteOp write(int fd, std::span<const std::byte> buf) noexcept { return {fd, buf}; }

/// Waits until `fd` is ready for `events` (POLLIN, POLLOUT, ...); returns the
/// revents that became ready.
inline detail::PollOp poll(int fd, short events) noexcept { return {fd, events}; }

}  // namespace aio
