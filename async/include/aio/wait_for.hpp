#pragma once
// aio::wait_for: asyncio.wait_for (Python 3.12 semantics), on the deadline
// mechanism of aio::timeout (detail/timeout_scope.hpp).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/detail/awaitable_traits.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/timeout_scope.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {

template <class A>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<Task<T>> = true;

/// Awaits an awaiter that reports its cancellation (ReportsCancel) and
/// returns whether it ended by one, without calling its await_resume then.
template <class A>
class QuietAwait {
 public:
  // Not an aggregate: g++ 12 may destroy a co_awaited aggregate temporary twice.
  explicit QuietAwait(A& a) noexcept : a_(a) {}
  bool await_ready() { return a_.await_ready(); }
  template <class H>
  decltype(auto) await_suspend(H h) {
    return a_.await_suspend(h);
  }
  bool await_resume() noexcept { return a_.await_cancelled(); }

 private:
  A& a_;
};

template <class A>
using wait_for_result_t = std::remove_cvref_t<await_result_t<A&&>>;

template <class A, class R = wait_for_result_t<A>>
Task<R> wait_for_impl(A aw, std::int64_t timeout_ns) {
  if constexpr (is_task_v<std::remove_cvref_t<A>>) {
    // A coroutine given an expired timeout never starts (asyncio: its task
    // is cancelled before its first step).
    if (timeout_ns <= 0) co_await fail(std::make_exception_ptr(TimeoutError()));
  }
  TaskBase& task = current_task();
  // The deadline of aio::timeout: our own cancellation becomes a
  // TimeoutError only if no other one is pending on the task, so an outside
  // cancel is never lost or converted. The TimeoutError ends this coroutine
  // through fail(), not a throw, and the inner's cancellation is inspected,
  // not rethrown: a timeout costs at most the unwinding in the inner and the
  // one in our caller.
  [[maybe_unused]] const int cancelling = task.cancelling();
  TimeoutScope scope(task);
  if (timeout_ns <= 0) {
    scope.expire_now();
  } else {
    scope.reschedule(deadline_after(LoopCore::now(), timeout_ns));
  }
  if constexpr (is_task_v<std::remove_cvref_t<A>>) {
    co_await TaskAccess::settle(aw);
    if (scope.exit(TaskAccess::cancelled(aw))) co_await fail(std::make_exception_ptr(TimeoutError()));
    co_return TaskAccess::result(aw);
  } else if constexpr (ReportsCancel<std::remove_cvref_t<A>>) {
    // An awaiter that reports its cancellation as a value (a sleep, a
    // kernel operation) has no code of its own to unwind: a timeout then
    // costs one unwinding, the TimeoutError in our caller.
    const bool cancelled = co_await QuietAwait<std::remove_cvref_t<A>>(aw);
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
    std::exception_ptr error;
    if (!cancelled) {
      try {
        if constexpr (std::is_void_v<R>) {
          aw.await_resume();
          result.emplace(true);
        } else {
          result.emplace(aw.await_resume());
        }
      } catch (...) {
        error = std::current_exception();
      }
    }
    const bool ours = scope.exit(cancelled);  // withdraws our own cancel
    if (cancelled) {
      // Named first: g++ 12 mishandles the temporaries of a conditional
      // expression inside co_await (one is destroyed twice).
      error = ours ? std::make_exception_ptr(TimeoutError())
                   : std::make_exception_ptr(CancelledError(task.cancel_message()));
      co_await fail(std::move(error), !ours);
    }
    if (error) co_await fail(std::move(error));
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  } else {
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
    std::exception_ptr error;
    bool cancelled = false;
    try {
      if constexpr (std::is_void_v<R>) {
        co_await std::forward<A>(aw);
        result.emplace(true);
      } else {
        result.emplace(co_await std::forward<A>(aw));
      }
    } catch (const CancelledError&) {
      cancelled = true;
      error = std::current_exception();
    } catch (...) {
      error = std::current_exception();
    }
    if (scope.exit(cancelled)) co_await fail(std::make_exception_ptr(TimeoutError()));
    if (error) co_await fail(std::move(error), cancelled);
    if constexpr (requires { aw.done(); aw.cancel(); }) {
      // asyncio's wait_for waits on a future of its own: a cancel from
      // outside ends it cancelled even if the task swallowed the
      // cancellation forwarded to it and returned (its result stays in the
      // handle).
      if (task.cancelling() > cancelling) {
        std::exception_ptr outside = std::make_exception_ptr(CancelledError(task.cancel_message()));
        co_await fail(std::move(outside), true);
      }
    }
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  }
}

}  // namespace detail

/// Waits for `aw` at most `timeout` (asyncio.wait_for, Python 3.12).
///
/// `aw` is any awaitable: a Task (run inline in the calling task, as Python
/// 3.12 does), a TaskHandle, or an operation such as `q.get()`, `sleep(d)`,
/// `read(fd, buf)`. Returns its result if it finishes first (or rethrows
/// its exception). Otherwise the deadline cancels it — a pending kernel
/// operation with IORING_OP_ASYNC_CANCEL, a TaskHandle's task with
/// cancel() — waits for that cancellation to finish (so the total time may
/// exceed `timeout`), and throws TimeoutError. With `timeout <= 0` the
/// awaitable is cancelled at once unless it is already done.
///
/// Throws: TimeoutError; whatever `aw` throws; CancelledError if the calling
/// task is cancelled — an outside cancellation is never turned into a
/// TimeoutError, also when it arrives in the same iteration as the deadline.
/// Cancel safety: as safe as `aw` itself; e.g. `wait_for(q.get(), t)` never
/// loses an item.
template <class Aw, class Rep, class Period>
auto wait_for(Aw&& aw, std::chrono::duration<Rep, Period> timeout) {
  using A = std::remove_cvref_t<Aw>;
  static_assert(!std::is_lvalue_reference_v<Aw> || !detail::is_task_v<A>,
                "aio::wait_for: pass a Task by value (std::move it)");
  const std::int64_t ns = detail::to_ns_ceil(timeout);
  // Held by value, so that `create_task(wait_for(q.get(), t))` outlives the
  // temporaries of the call.
  static_assert(std::is_move_constructible_v<A>,
                "aio::wait_for: the awaitable must be movable; wrap it in a coroutine (a Task)");
  return detail::wait_for_impl<A>(A(std::forward<Aw>(aw)), ns);
}

/// `aio::wait_for(aw, 1.5)`: as wait_for(aw, d), with the timeout a number
/// of seconds, as asyncio.wait_for takes it.
template <class Aw, class Seconds>
  requires std::is_arithmetic_v<Seconds>
auto wait_for(Aw&& aw, Seconds timeout_seconds) {
  return wait_for(std::forward<Aw>(aw), std::chrono::duration<double>(static_cast<double>(timeout_seconds)));
}

}  // namespace aio
