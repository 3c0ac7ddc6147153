#pragma once
// aio::shield: asyncio.shield.

#include <coroutine>
#include <type_traits>
#include <utility>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/errors.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {

/// Waits for a task without passing a cancellation on to it.
template <class T>
class [[nodiscard]] ShieldAwaiter : Wait, DoneTarget {
 public:
  explicit ShieldAwaiter(TaskState<T>* state) noexcept : state_(state), node_(this) {
    state_->add_ref();
    Wait::cancel = &on_cancel;
    DoneTarget::on_done = &on_done;
  }
  ShieldAwaiter(ShieldAwaiter&& other) noexcept : ShieldAwaiter(other.state_) {}  // until awaited
  ShieldAwaiter& operator=(const ShieldAwaiter&) = delete;
  ~ShieldAwaiter() {
    if (node_.linked()) node_.unlink();
    state_->release();
  }

  bool await_ready() const noexcept { return state_->done(); }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task();
    if (task_ == state_) throw RuntimeError("aio: a task cannot await itself");
    DoneTarget::waiting = task_;
    state_->add_done_waiter(&node_);
    task_->park(h, this);
  }
  T await_resume() {
    if (task_ != nullptr) {
      const bool pending = task_->take_cancel();
      if (pending || cancelled_) task_->throw_cancelled();
    }
    return state_->read_result(1);
  }

 private:
  static void on_done(DoneTarget* target, DoneWaiter*, TaskBase*) noexcept {
    auto* self = static_cast<ShieldAwaiter*>(target);
    self->woken_ = true;
    self->task_->loop().schedule(self->task_);
  }
  // The awaiting task stops waiting at once; the shielded task goes on.
  static void on_cancel(Wait* w) noexcept {
    auto* self = static_cast<ShieldAwaiter*>(w);
    if (self->woken_ || self->cancelled_) return;  // already scheduled: thrown at resume
    self->cancelled_ = true;
    self->node_.unlink();
    self->task_->loop().schedule(self->task_);
  }

  TaskState<T>* state_;
  TaskBase* task_ = nullptr;
  DoneWaiter node_;
  bool woken_ = false;
  bool cancelled_ = false;
};

}  // namespace detail

/// Waits for the task of `handle` and returns a copy of its result, like
/// `co_await handle`, but a cancellation of the awaiting task is not passed
/// on to it (asyncio.shield): the await throws CancelledError at once and the
/// shielded task keeps running (its result stays in its handles).
/// Throws: the task's exception, CancelledError if it was cancelled (by
/// someone else) or the awaiting task is; InvalidStateError for an empty handle.
/// Cancel safety: safe; cancelling the awaiting task changes nothing for the
/// shielded one.
template <class T>
detail::ShieldAwaiter<T> shield(const TaskHandle<T>& handle) {
  if (!handle) throw InvalidStateError("aio::shield: empty TaskHandle");
  return detail::ShieldAwaiter<T>(handle.state_ptr());
}

}  // namespace aio
