#pragma once
// aio::wait, aio::ReturnWhen, aio::WaitResult: asyncio.wait.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

/// When aio::wait returns (asyncio.FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum class ReturnWhen : std::uint8_t {
  first_completed,  ///< as soon as any task is done (or cancelled)
  first_exception,  ///< as soon as a task fails with an exception, else when all are done
  all_completed,    ///< when every task is done
};

/// What aio::wait returns: the tasks done and those still pending, each in
/// the order they were given.
template <class T>
struct WaitResult {
  std::vector<TaskHandle<T>> done;
  std::vector<TaskHandle<T>> pending;
};

namespace detail {

/// Waits until a ReturnWhen condition holds over a set of tasks, the
/// deadline passes, or the awaiting task is cancelled. It cancels nothing.
class [[nodiscard]] WaitCore : Wait, DoneTarget, TimerNode {
 public:
  WaitCore(std::vector<TaskBase*> tasks, ReturnWhen when, std::optional<std::int64_t> deadline);
  WaitCore(const WaitCore&) = delete;
  WaitCore& operator=(const WaitCore&) = delete;
  ~WaitCore();

  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> h);
  /// Throws: CancelledError if the awaiting task was cancelled.
  void await_resume();

 private:
  bool decided() const noexcept;
  void wake() noexcept;
  static void on_child_done(DoneTarget* self, DoneWaiter* node, TaskBase* finished) noexcept;
  static void on_cancel(Wait* w) noexcept;
  static void on_due_fn(TimerNode* node, TimerNode::Action action) noexcept;

  std::vector<TaskBase*> tasks_;
  std::unique_ptr<DoneWaiter[]> nodes_;
  std::optional<std::int64_t> deadline_;
  TaskBase* waiter_ = nullptr;
  std::size_t remaining_;
  ReturnWhen when_;
  bool failed_ = false;
  bool woken_ = false;
  bool cancelled_ = false;
};

template <class T>
Task<WaitResult<T>> wait_impl(std::vector<TaskHandle<T>> handles, ReturnWhen when,
                              std::optional<std::int64_t> timeout_ns) {
  if (handles.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::vector<TaskBase*> tasks;
  tasks.reserve(handles.size());
  for (const auto& h : handles) {
    if (!h) throw InvalidStateError("aio::wait: empty TaskHandle");
    tasks.push_back(h.state_ptr());
  }
  std::optional<std::int64_t> deadline;
  if (timeout_ns) deadline = deadline_after(LoopCore::now(), *timeout_ns);
  WaitCore core(std::move(tasks), when, deadline);  // named: see the g++ 12 pitfalls
  co_await core;
  WaitResult<T> r;
  for (auto& h : handles) (h.done() ? r.done : r.pending).push_back(std::move(h));
  co_return r;
}

}  // namespace detail

/// Waits for the tasks of `handles` until `when` holds or `timeout` passes,
/// and returns them split into done and pending (asyncio.wait).
///
/// first_exception counts a task that failed with an exception, not one
/// that was cancelled. Nothing is cancelled, also not on timeout: the
/// pending tasks keep running.
/// Throws: ValueError if `handles` is empty; CancelledError if the awaiting
/// task is cancelled (the tasks go on).
/// Cancel safety: safe; nothing is lost, the tasks are not touched.
template <class T>
[[nodiscard]] Task<WaitResult<T>> wait(std::vector<TaskHandle<T>> handles,
                                       ReturnWhen when = ReturnWhen::all_completed) {
  return detail::wait_impl<T>(std::move(handles), when, std::nullopt);
}
template <class T, class Rep, class Period>
[[nodiscard]] Task<WaitResult<T>> wait(std::vector<TaskHandle<T>> handles, ReturnWhen when,
                                       std::chrono::duration<Rep, Period> timeout) {
  return detail::wait_impl<T>(std::move(handles), when, detail::to_ns_ceil(timeout));
}

}  // namespace aio
