#pragma once
// aio::run_coroutine_threadsafe and aio::ConcurrentFuture: asyncio's
// run_coroutine_threadsafe and the concurrent.futures.Future it returns.

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/detail/as_task.hpp"
#include "aio/detail/concurrent_state.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {

template <class T>
class ConcurrentState final : public ConcurrentStateBase {
 public:
  using ConcurrentStateBase::ConcurrentStateBase;

  /// Loop side: stores the task's result unless the state is done (then it
  /// is dropped); a throwing copy or move stores that exception instead.
  template <class... U>
  void resolve_value(U&&... v) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      if constexpr (!std::is_void_v<T>) {
        try {
          value_.emplace(std::forward<U>(v)...);
        } catch (...) {
          error_ = std::current_exception();
        }
      }
      finish_locked();
    }
    leave_registry();
  }

  T get() {
    std::unique_lock lock(mutex_);
    wait_locked(lock);
    rethrow_locked();
    if constexpr (!std::is_void_v<T>) {
      if constexpr (std::is_copy_constructible_v<T>) {
        return *value_;
      } else {
        if (taken_) throw InvalidStateError("aio::ConcurrentFuture::get: the result was already moved out");
        taken_ = true;
        return std::move(*value_);
      }
    }
  }

 private:
  struct NoValue {};
  [[no_unique_address]] std::conditional_t<std::is_void_v<T>, NoValue, std::optional<T>> value_;
};

/// The loop side's hold on a state: whoever holds it last and did not
/// resolve it resolves it cancelled (a submission the closing loop dropped
/// unrun, a frame the closing loop destroyed).
template <class T>
class ConcurrentLink {
 public:
  explicit ConcurrentLink(std::shared_ptr<ConcurrentState<T>> s) noexcept : state_(std::move(s)) {}
  ConcurrentLink(ConcurrentLink&& o) noexcept = default;
  ConcurrentLink& operator=(ConcurrentLink&&) = delete;
  ~ConcurrentLink() {
    if (state_ == nullptr) return;
    // Set only on the loop's thread; a link destroyed elsewhere never had a task.
    if (state_->task != nullptr) state_->task = nullptr;
    state_->resolve_cancelled();
  }
  ConcurrentState<T>& operator*() const noexcept { return *state_; }
  ConcurrentState<T>* operator->() const noexcept { return state_.get(); }

 private:
  std::shared_ptr<ConcurrentState<T>> state_;
};

/// The task's root coroutine: runs `task` inline and resolves the state with
/// its outcome. A frame destroyed unfinished (the loop closes) resolves it
/// through `link`'s destructor.
template <class T>
Task<> run_submitted(ConcurrentLink<T> link, Task<T> task) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      link->resolve_value();
    } else {
      T value = co_await std::move(task);
      link->resolve_value(std::move(value));
    }
  } catch (const CancelledError&) {
    link->resolve_cancelled();
    throw;
  } catch (...) {
    link->resolve_failed(std::current_exception());
  }
}

/// What call_soon_threadsafe carries to the loop: makes the task there.
/// Destroyed unrun (the loop closed first), it resolves the state cancelled
/// and destroys the task's frame, which never started.
template <class T>
struct Submission {
  ConcurrentLink<T> link;
  Task<T> task;

  void operator()() {
    if (link->done()) return;  // cancelled before it reached the loop: never started
    ConcurrentState<T>& state = *link;
    LoopCore& loop = state.loop();
    Task<> root;
    try {
      root = run_submitted<T>(std::move(link), std::move(task));
      TaskState<void>* t = spawn(loop, std::move(root), {});
      state.task = t;
      t->release();  // the loop holds its own reference until the task ends
    } catch (...) {
      state.resolve_failed(std::current_exception());
    }
  }
};

}  // namespace detail

/// The result of a task that runs on an event loop, for another thread
/// (asyncio's concurrent.futures.Future from run_coroutine_threadsafe).
/// Copies share one result. Every member is thread-safe.
template <class T>
class ConcurrentFuture {
 public:
  /// Blocks until the task is done, then returns its result (a copy, so
  /// that any number of get() calls read it; a move-only result is moved out
  /// by the first). Throws: the task's exception; CancelledError if the
  /// task or this future was cancelled, or the loop closed before the task
  /// finished; InvalidStateError for a second get() of a move-only result;
  /// RuntimeError when called on the thread that runs the task's loop while
  /// the task is pending (it would wait forever: co_await it there).
  T get() { return state_->get(); }
  /// Blocks until done (get() without the result). Throws: RuntimeError as get().
  void wait() const { state_->wait(); }
  /// Blocks until done or `timeout` passed (any duration, rounded up; zero or
  /// negative: no wait); returns whether it is done. On the loop's own
  /// thread it only blocks that loop, which cannot finish the task meanwhile.
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return state_->wait_for(detail::to_ns_ceil(timeout));
  }
  /// Whether the task finished, failed or was cancelled, or this future was cancelled.
  [[nodiscard]] bool done() const { return state_->done(); }
  [[nodiscard]] bool cancelled() const { return state_->cancelled(); }
  /// Cancels (concurrent.futures.Future.cancel, as run_coroutine_threadsafe's
  /// future does it): false if already done; else this future is cancelled
  /// at once (get() throws CancelledError, whatever the task does next) and
  /// the task gets a cancellation request on its loop, at the loop's next
  /// iteration; a task that has not started yet never runs. Callable from
  /// any thread, also the loop's. Throws: nothing (a closed loop has already
  /// resolved the future).
  bool cancel() { return state_->cancel(state_); }

  /// Made by run_coroutine_threadsafe.
  explicit ConcurrentFuture(std::shared_ptr<detail::ConcurrentState<T>> s) noexcept : state_(std::move(s)) {}

 private:
  std::shared_ptr<detail::ConcurrentState<T>> state_;
};

namespace detail {
template <class T>
ConcurrentFuture<T> submit_threadsafe(Task<T> task, EventLoop& loop) {
  if (!task.valid()) throw InvalidStateError("aio::run_coroutine_threadsafe: empty Task");
  auto state = std::make_shared<ConcurrentState<T>>(detail::core_of(loop));
  if (!detail::core_of(loop).concurrent().add(state)) throw RuntimeError("aio: the event loop is closed");
  // Refused (the loop closed meanwhile): the submission's destruction has
  // resolved the state and destroyed `task`'s frame; the RuntimeError goes on.
  loop.call_soon_threadsafe(Submission<T>{ConcurrentLink<T>(state), std::move(task)});
  return ConcurrentFuture<T>(std::move(state));
}
}  // namespace detail

/// Hands `task` to `loop`, which may run on another thread, and returns a
/// future for its result (asyncio.run_coroutine_threadsafe). Callable from
/// any thread: the task is created on the loop at its next iteration
/// (through call_soon_threadsafe, which wakes a blocked loop) and runs as
/// its own task there. From the loop's own thread creating the future is
/// fine, but blocking on it (get(), wait()) is not: they throw RuntimeError
/// there instead of deadlocking. `task` may also be a callable returning a
/// Task (a lambda coroutine), kept alive until the task ends.
/// When the loop closes with the task pending (not started, or suspended),
/// the future ends cancelled; with aio::run and Runner the task is
/// cancelled and its cleanup runs first (their close cancels every task).
/// The EventLoop object must outlive this call, not the future.
/// Throws: RuntimeError if the loop is closed or closing (`task` is
/// destroyed unrun); InvalidStateError for an empty Task; std::bad_alloc.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Task<T> task, EventLoop& loop) {
  return detail::submit_threadsafe(std::move(task), loop);
}
template <class F>
  requires detail::TaskFactory<F>
auto run_coroutine_threadsafe(F&& f, EventLoop& loop) {
  return detail::submit_threadsafe(detail::as_task(std::forward<F>(f)), loop);
}

}  // namespace aio
