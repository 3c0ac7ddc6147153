#pragma once
// aio::timeout, aio::timeout_at and aio::Timeout: asyncio.timeout (3.11+).

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/timeout_scope.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

class Timeout;
namespace detail {
template <class T, class F>
Task<T> timeout_scope_impl(F body, std::optional<std::int64_t> when);
template <class F>
using timeout_body_result_t = typename std::invoke_result_t<F&, Timeout&>::value_type;
}  // namespace detail

/// The deadline of one `aio::timeout(...)` scope (asyncio.Timeout), given to
/// its body. Use it on the loop's thread, while the body runs.
class Timeout {
 public:
  using clock = std::chrono::steady_clock;

  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  /// The deadline on the loop's clock (`EventLoop::time()`), none if the
  /// scope never expires.
  std::optional<clock::time_point> when() const noexcept {
    const auto w = scope_.when();
    if (!w) return std::nullopt;
    return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(*w)));
  }
  /// Moves the deadline (none: never). A time already past expires at the
  /// loop's next iteration.
  /// Throws: RuntimeError once the deadline expired or the scope ended.
  template <class Duration>
  void reschedule(std::optional<std::chrono::time_point<clock, Duration>> when) {
    if (!when) {
      scope_.reschedule(std::nullopt);
    } else {
      scope_.reschedule(detail::to_ns_ceil(when->time_since_epoch()));
    }
  }
  void reschedule(std::nullopt_t) { scope_.reschedule(std::nullopt); }
  template <class Duration>
  void reschedule(std::chrono::time_point<clock, Duration> when) {
    scope_.reschedule(detail::to_ns_ceil(when.time_since_epoch()));
  }
  /// True once the deadline fired (the task was cancelled by it).
  bool expired() const noexcept { return scope_.expired(); }

 private:
  template <class T, class F>
  friend Task<T> detail::timeout_scope_impl(F body, std::optional<std::int64_t> when);

  explicit Timeout(detail::TaskBase& task) noexcept : scope_(task) {}

  detail::TimeoutScope scope_;
};

namespace detail {
template <class T, class F>
Task<T> timeout_scope_impl(F body, std::optional<std::int64_t> when) {
  Timeout cm(detail::current_task());
  cm.scope_.reschedule(when);
  Task<T> inner = body(cm);
  // The body's outcome is inspected, not rethrown: a timeout costs the
  // unwinding inside the body and the one in our caller, no more.
  co_await detail::TaskAccess::settle(inner);
  const bool cancelled = detail::TaskAccess::cancelled(inner);
  if (cm.scope_.exit(cancelled)) co_await detail::fail(std::make_exception_ptr(TimeoutError()));
  if (std::exception_ptr e = detail::TaskAccess::error(inner)) co_await detail::fail(std::move(e), cancelled);
  co_return detail::TaskAccess::result(inner);
}
}  // namespace detail

/// `async with asyncio.timeout(d) as cm:` is
/// `co_await aio::timeout(d, [&](aio::Timeout& cm) -> aio::Task<T> { ... })`.
///
/// Runs `body(cm)` inline in the calling task and returns its result. At
/// the deadline (`d` from now; `std::nullopt`: none until rescheduled) the
/// calling task is cancelled, so whatever the body awaits is cancelled, and
/// the CancelledError that leaves the body becomes TimeoutError. The body
/// may catch that cancellation and return normally; then so does timeout().
/// Throws: TimeoutError when this deadline ended the body; whatever the body
/// throws; CancelledError for a cancel from outside, also one arriving in
/// the same iteration as the deadline (nested scopes each report their own).
/// Cancel safety: as safe as the body; the deadline is removed when the
/// body ends.
template <class Rep, class Period, class F>
[[nodiscard]] Task<detail::timeout_body_result_t<F>> timeout(std::chrono::duration<Rep, Period> d, F body) {
  return detail::timeout_scope_impl<detail::timeout_body_result_t<F>>(
      std::move(body), detail::deadline_after(detail::LoopCore::now(), detail::to_ns_ceil(d)));
}
template <class F>
[[nodiscard]] Task<detail::timeout_body_result_t<F>> timeout(std::nullopt_t, F body) {
  return detail::timeout_scope_impl<detail::timeout_body_result_t<F>>(std::move(body), std::nullopt);
}

/// As timeout(), with the deadline `when` on the loop's clock
/// (`EventLoop::time()`); a time already past expires at the next iteration.
/// Throws and cancel safety: as timeout().
template <class Duration, class F>
[[nodiscard]] Task<detail::timeout_body_result_t<F>> timeout_at(
    std::chrono::time_point<std::chrono::steady_clock, Duration> when, F body) {
  return detail::timeout_scope_impl<detail::timeout_body_result_t<F>>(std::move(body),
                                                              detail::to_ns_ceil(when.time_since_epoch()));
}
template <class F>
[[nodiscard]] Task<detail::timeout_body_result_t<F>> timeout_at(std::nullopt_t, F body) {
  return detail::timeout_scope_impl<detail::timeout_body_result_t<F>>(std::move(body), std::nullopt);
}

}  // namespace aio
