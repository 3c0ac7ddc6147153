#pragma once
// aio::read, aio::write, aio::poll: one io_uring operation each.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <coroutine>
#include <span>

#include "aio/detail/io_op.hpp"

namespace aio {

namespace detail {

class [[nodiscard]] ReadOp final : public IoOp {
 public:
  ReadOp(int fd, std::span<std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::read")); }

 private:
  static void prep(ReadOp* self, io_uring_sqe* sqe) noexcept;  // ops/read.cpp
  int fd_;
  std::span<std::byte> buf_;
};

class [[nodiscard]] WriteOp final : public IoOp {
 public:
  WriteOp(int fd, std::span<const std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::write")); }

 private:
  static void prep(WriteOp* self, io_uring_sqe* sqe) noexcept;  // ops/write.cpp
  int fd_;
  std::span<const std::byte> buf_;
};

class [[nodiscard]] PollOp final : public IoOp {
 public:
  PollOp(int fd, short events) noexcept : fd_(fd), events_(events) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  short await_resume() const { return static_cast<short>(result("aio::poll")); }

 private:
  static void prep(PollOp* self, io_uring_sqe* sqe) noexcept;  // ops/poll.cpp
  int fd_;
  short events_;
};

}  // namespace detail

// Each function below is one io_uring operation, submitted at the loop's next
// submit. Throws: std::system_error with the operation's errno; RuntimeError
// outside a running task.
// Cancel safety: cancelling the awaiting task submits IORING_OP_ASYNC_CANCEL
// for the operation and the task resumes on the operation's own completion.
// If the operation was cancelled, CancelledError is thrown there (also when
// the cancellation was withdrawn with uncancel() before the task resumed). If it
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
