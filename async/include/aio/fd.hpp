#pragma once
// aio::read, aio::write, aio::poll: one io_uring operation each.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <coroutine>
#include <ranges>
#include <span>
#include <type_traits>

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
[[nodiscard]] inline detail::ReadOp read(int fd, std::span<std::byte> buf) noexcept { return {fd, buf}; }

/// Writes up to `buf.size()` bytes (at most INT_MAX) to `fd`; returns the count written.
[[nodiscard]] inline detail::WriteOp write(int fd, std::span<const std::byte> buf) noexcept { return {fd, buf}; }

namespace detail {
/// A contiguous range of char, unsigned char or std::byte: std::string,
/// std::vector<char>, std::array<unsigned char, N>, std::string_view...
template <class R>
concept ByteRange = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                    (std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<R>>, char> ||
                     std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<R>>, unsigned char> ||
                     std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<R>>, std::byte>);
}  // namespace detail

/// read(fd, buf) into any contiguous range of char, unsigned char or
/// std::byte (`std::string s(4096, '\0'); co_await aio::read(fd, s)`), which
/// must stay alive until the read completes. Reads up to its size; returns
/// the count (the range is not resized). As read(fd, std::span<std::byte>).
template <class R>
  requires detail::ByteRange<R> && (!std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>)
[[nodiscard]] detail::ReadOp read(int fd, R&& buf) noexcept {
  static_assert(std::is_lvalue_reference_v<R> || std::ranges::borrowed_range<R>,
                "aio::read: read into a named buffer (a temporary's bytes would be lost)");
  return read(fd, std::as_writable_bytes(std::span(std::ranges::data(buf), std::ranges::size(buf))));
}

/// write(fd, data) from any contiguous range of char, unsigned char or
/// std::byte (`co_await aio::write(fd, std::string_view("hi\n"))`), which
/// must stay alive until the write completes. As write(fd, std::span<const std::byte>).
template <class R>
  requires detail::ByteRange<R>
[[nodiscard]] detail::WriteOp write(int fd, R&& buf) noexcept {
  static_assert(!(std::is_array_v<std::remove_reference_t<R>> &&
                  std::is_same_v<std::remove_extent_t<std::remove_reference_t<R>>, const char>),
                "aio::write: a string literal would write its terminating NUL too; pass std::string_view(\"...\")");
  return write(fd, std::as_bytes(std::span(std::ranges::data(buf), std::ranges::size(buf))));
}

/// Waits until `fd` is ready for `events` (POLLIN, POLLOUT, ...); returns the
/// revents that became ready.
[[nodiscard]] inline detail::PollOp poll(int fd, short events) noexcept { return {fd, events}; }

}  // namespace aio
