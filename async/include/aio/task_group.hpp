#pragma once
// aio::TaskGroup and aio::task_group: asyncio.TaskGroup.

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/intrusive_list.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

template <class F>
auto task_group(F body);

/// The children of one `task_group(...)` scope (asyncio.TaskGroup). Only
/// task_group creates it, and it waits for every child before returning, so a
/// group cannot be left with children still running.
class TaskGroup : detail::DoneTarget {
 public:
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  /// Starts `task` as a child of the group (at the next iteration).
  /// Throws: RuntimeError "TaskGroup is finished" once the group is exiting
  /// with no child left (asyncio: its __aexit__ would not wait for it),
  /// "TaskGroup is shutting down" if a child already failed.
  template <class T>
  TaskHandle<T> create_task(Task<T> task, std::string name = {},
                            detail::CallSite where = detail::CallSite::current()) {
    check_open();
    Child* child = new_child();  // first: a child never runs outside the group
    TaskHandle<T> handle;
    try {
      handle = TaskHandle<T>(detail::spawn(parent_->loop(), std::move(task), std::move(name)));
    } catch (...) {
      free_child(child);
      throw;
    }
    adopt(child, handle.state_ptr());
    detail::note_creation_site(handle.state_ptr(), where);
    return handle;
  }
  /// create_task of a callable returning a Task (kept alive inside the
  /// child) or of any awaitable; see aio::create_task.
  template <class X>
    requires(detail::TaskFactory<X> || detail::OtherAwaitable<X>)
  auto create_task(X&& x, std::string name = {}, detail::CallSite where = detail::CallSite::current()) {
    return create_task(detail::as_task(std::forward<X>(x)), std::move(name), where);
  }

 private:
  template <class F>
  friend auto task_group(F body);

  // One node per live child, freed when it finishes: a long-lived group's
  // memory is bounded by its live children.
  struct Child : detail::ListHook /* children_ */, detail::DoneWaiter /* its target is the group */ {
    detail::TaskBase* task = nullptr;
  };

  /// What task_group awaits after the body: every child done.
  class [[nodiscard]] ExitAwaiter : detail::Wait {
   public:
    explicit ExitAwaiter(TaskGroup& g) noexcept : group_(g) { Wait::cancel = &on_cancel; }
    bool await_ready() const noexcept { return group_.running_ == 0 && !group_.abort_step_.queued; }
    void await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() noexcept;

   private:
    static void on_cancel(Wait* w) noexcept;
    TaskGroup& group_;
  };

  explicit TaskGroup(detail::TaskBase& parent) noexcept : parent_(&parent) {
    detail::DoneTarget::on_done = &on_child_done;
    detail::DoneTarget::waiting = &parent;  // asyncio: the parent awaits every child
    abort_step_.perform = &on_abort_step;
    abort_step_.group = this;
  }
  void check_open() const;
  static Child* new_child();
  static void free_child(Child* c) noexcept;
  void adopt(Child* c, detail::TaskBase* child) noexcept;
  void abort() noexcept;
  void begin_exit(bool body_failed) noexcept;
  ExitAwaiter wait_children() noexcept { return ExitAwaiter(*this); }
  /// After every child is done: throws per asyncio's __aexit__.
  void finish(std::exception_ptr body_error, bool body_cancelled);
  static void on_child_done(detail::DoneTarget* self, detail::DoneWaiter* node, detail::TaskBase* finished) noexcept;
  void wake_parent_if_done() noexcept;

  // asyncio handles a child's end in a callback of the next iteration, so
  // siblings already ready run first (and may fail too: all of them are
  // reported). The first failure's abort (cancel the other children and the
  // body) is this step of the ready queue; the group does not finish while
  // it is queued, and close() drops the queue before freeing frames.
  struct AbortStep : detail::Runnable {
    TaskGroup* group = nullptr;
    bool queued = false;
  };
  static void on_abort_step(detail::Runnable* r, detail::Runnable::Action action) noexcept;
  AbortStep abort_step_;

  detail::TaskBase* parent_;
  detail::IntrusiveList<Child> children_;  // the unfinished ones
  std::vector<std::exception_ptr> errors_;
  std::size_t running_ = 0;
  bool aborting_ = false;
  bool exiting_ = false;  // the body ended
  bool parent_cancel_requested_ = false;
  bool propagate_cancel_ = false;
  bool waiting_ = false;
};

/// `async with asyncio.TaskGroup() as tg: body`:
/// `co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<T> { tg.create_task(...); ... })`.
///
/// Runs `body(tg)`, then waits for every child created in the group. The
/// first child that fails cancels the other children and the body; once all
/// are done, the failure is rethrown — the exception itself if there is one,
/// aio::ExceptionGroup if several (children's failures in the order they
/// happened, then the body's; CancelledErrors are never included). Returns
/// the body's result when nothing failed. After a failure the calling task
/// carries no leftover cancellation.
/// Throws: a child's or the body's exception, ExceptionGroup, or
/// CancelledError when the calling task is cancelled (the children are
/// cancelled and awaited first).
/// Cancel safety: cancelling the calling task cancels every child; the group
/// still waits for all of them before the CancelledError propagates.
template <class F>
auto task_group(F body) {
  using T = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
  // `body` is moved into the frame, so a capturing lambda lives as long as the group.
  return [](F body) -> Task<T> {
    TaskGroup tg(detail::current_task());
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    std::exception_ptr error;
    bool cancelled = false;
    try {
      if constexpr (std::is_void_v<T>) {
        co_await body(tg);
        result.emplace(true);
      } else {
        result.emplace(co_await body(tg));
      }
    } catch (const CancelledError&) {
      error = std::current_exception();
      cancelled = true;
    } catch (...) {
      error = std::current_exception();
    }
    tg.begin_exit(error != nullptr);
    co_await tg.wait_children();
    tg.finish(error, cancelled);
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
  }(std::move(body));
}

}  // namespace aio
