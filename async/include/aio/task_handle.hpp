#pragma once
// aio::TaskHandle<T> and aio::create_task: asyncio's Task object and create_task.

#include <coroutine>
#include <exception>
#include <iosfwd>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/detail/as_task.hpp"
#include "aio/detail/call_site.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {
/// TaskHandle::print_stack and AnyTaskHandle::print_stack (call_graph.cpp).
void print_task_stack(const TaskBase& task, std::ostream& os, CallSite where);
}  // namespace detail

/// A cheap, copyable reference to a running task (asyncio's Task object).
///
/// Dropping every copy neither cancels nor blocks the task: it runs to
/// completion, owned by its loop. A handle stays valid after the task ended
/// and after its loop closed (a task the loop closed on ends cancelled).
/// Use it on the loop's thread only.
template <class T = void>
class TaskHandle {
 public:
  using value_type = T;

  TaskHandle() noexcept = default;
  /// Adopts one reference of `state`.
  explicit TaskHandle(detail::TaskState<T>* state) noexcept : state_(state) {}
  TaskHandle(const TaskHandle& other) noexcept : state_(other.state_) {
    if (state_ != nullptr) state_->add_ref();
  }
  TaskHandle(TaskHandle&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  TaskHandle& operator=(TaskHandle other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~TaskHandle() {
    if (state_ != nullptr) state_->release();
  }

  explicit operator bool() const noexcept { return state_ != nullptr; }
  friend bool operator==(const TaskHandle& a, const TaskHandle& b) noexcept {
    return a.state_ == b.state_;
  }

  /// Requests cancellation (asyncio Task.cancel): the task gets CancelledError
  /// at the await where it is suspended, or, if that await's operation
  /// already completed with a result that cannot be given back, at its next
  /// suspending await (or it ends cancelled if it returns first). A task not
  /// yet started never runs its body. Returns false if the task is done.
  bool cancel(std::string msg = {}) const { return state().cancel(msg); }
  bool done() const { return state().done(); }
  bool cancelled() const { return state().status() == detail::TaskStatus::cancelled; }

  /// The task's result. Throws: InvalidStateError if not done, CancelledError
  /// if cancelled, the task's exception if it failed.
  std::add_lvalue_reference_t<T> result() const { return state().result_ref(); }

  /// The task's exception, null if it succeeded. Throws: InvalidStateError if
  /// not done, CancelledError if cancelled.
  std::exception_ptr exception() const {
    auto& s = state();
    if (!s.done()) throw InvalidStateError("Exception is not set.");
    s.mark_retrieved();
    if (s.status() == detail::TaskStatus::cancelled) s.result_ref();  // throws CancelledError
    return s.error();
  }

  /// "Task-<n>" unless a name was given to create_task or set_name.
  std::string get_name() const { return state().name(); }
  void set_name(std::string name) { state().set_name(std::move(name)); }
  /// Number of cancellation requests not yet withdrawn (asyncio Task.cancelling).
  int cancelling() const { return state().cancelling(); }
  /// Withdraws one cancellation request (asyncio Task.uncancel); returns the rest.
  int uncancel() { return state().uncancel(); }

  /// As AnyTaskHandle::print_stack: the task's call graph on `os`.
  /// Throws: InvalidStateError if empty.
  void print_stack(std::ostream& os, detail::CallSite where = detail::CallSite::current()) const {
    detail::print_task_stack(state(), os, where);
  }

  template <bool Move>
  class Awaiter : detail::Wait, detail::DoneTarget {
   public:
    explicit Awaiter(detail::TaskState<T>* state) noexcept : state_(state), node_(this) {
      state_->add_ref();
      detail::Wait::cancel = &on_cancel;
      detail::DoneTarget::on_done = &on_done;
    }
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (node_.linked()) node_.unlink();
      state_->release();
    }

    bool await_ready() const noexcept { return state_->done(); }
    void await_suspend(std::coroutine_handle<> h) {
      waiting = &detail::current_task();
      if (waiting == state_) throw RuntimeError("aio: a task cannot await itself");
      state_->add_done_waiter(&node_);
      waiting->park(h, this);
    }
    T await_resume() {
      if (waiting != nullptr && waiting->take_cancel()) waiting->throw_cancelled();
      // Moved only from an rvalue handle that no one else shares (this
      // awaiter's reference and that handle's): no other reader loses it.
      return state_->read_result(Move ? 2 : 1);
    }

   private:
    static void on_done(detail::DoneTarget* target, detail::DoneWaiter* /*node*/, detail::TaskBase* /*finished*/) noexcept {
      auto* self = static_cast<Awaiter*>(target);
      self->woken_ = true;
      self->waiting->loop().schedule(self->waiting);
    }
    // asyncio: cancelling a task that awaits another task cancels that task;
    // the awaiter then gets whatever it ends with.
    static void on_cancel(detail::Wait* w) noexcept {
      auto* self = static_cast<Awaiter*>(w);
      // Decided (woken, or the awaited task just ended and is telling its
      // waiters): the pending cancellation is thrown at resume.
      if (self->woken_ || self->state_->done()) return;
      self->waiting->forward_cancel();
      self->state_->cancel(self->waiting->cancel_message());
    }

    // The awaiting task is DoneTarget::waiting (also the call graph's "awaited by").
    detail::TaskState<T>* state_;
    detail::DoneWaiter node_;
    bool woken_ = false;
  };

  /// Waits for the task; returns a copy of its result (moved when awaiting an
  /// rvalue handle that is the task's last, or when T cannot be copied), rethrows its exception, or
  /// throws CancelledError. Cancel safety: cancelling the awaiting task
  /// cancels the awaited one (as in asyncio) and still waits for its end.
  Awaiter<false> operator co_await() const& { return Awaiter<false>{&state()}; }
  Awaiter<true> operator co_await() && { return Awaiter<true>{&state()}; }

  detail::TaskState<T>* state_ptr() const noexcept { return state_; }

 private:
  detail::TaskState<T>& state() const {
    if (state_ == nullptr) throw InvalidStateError("aio::TaskHandle: empty handle");
    return *state_;
  }

  detail::TaskState<T>* state_ = nullptr;
};

namespace detail {
/// Debug mode: remembers where a task was created, for its reports.
inline void note_creation_site(TaskBase* task, CallSite where) {
  if (task->loop().debug()) task->set_creation_site(where.file, where.line);
}
}  // namespace detail

/// Schedules `task` to start at the next iteration of the running loop
/// (asyncio.create_task). Without a name it is "Task-<n>". `where` is filled
/// in by the compiler: in debug mode, reports about the task name it.
/// Throws: RuntimeError when no loop is running.
template <class T>
TaskHandle<T> create_task(Task<T> task, std::string name = {},
                          detail::CallSite where = detail::CallSite::current()) {
  TaskHandle<T> handle(detail::spawn(detail::running_loop(), std::move(task), std::move(name)));
  detail::note_creation_site(handle.state_ptr(), where);
  return handle;
}

/// create_task for a callable or for any awaitable:
///
/// - `create_task([x]() -> aio::Task<int> { ... co_return x; })` - the
///   lambda itself, not its call: the task keeps the lambda (and so its
///   captures) alive until the coroutine has finished (folly's co_invoke).
///   `create_task([x]() -> aio::Task<int> { ... }())` would run a coroutine
///   whose captures died with the lambda at the end of the statement.
/// - `create_task(aio::sleep(1s))`, `create_task(q.get())`: the awaitable is
///   moved into the task, which awaits it.
///
/// Throws: RuntimeError when no loop is running; whatever copying or moving
/// the callable or the awaitable throws.
template <class X>
  requires(detail::TaskFactory<X> || detail::OtherAwaitable<X>)
auto create_task(X&& x, std::string name = {}, detail::CallSite where = detail::CallSite::current()) {
  return create_task(detail::as_task(std::forward<X>(x)), std::move(name), where);
}

}  // namespace aio
