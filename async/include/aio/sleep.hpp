#pragma once
// aio::sleep: asyncio.sleep.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <type_traits>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/timer_heap.hpp"

namespace aio {

namespace detail {

/// A timer of the loop: the task parks until the loop's armed io_uring
/// timeout (or a later loop iteration) finds the deadline passed.
class [[nodiscard]] SleepAwaiter : Wait, TimerNode {
 public:
  /// Sleeps `ns` nanoseconds, or until the CLOCK_MONOTONIC time `ns` if
  /// `absolute`. Until awaited, `deadline` holds `ns` as given (one field
  /// less in every sleeping frame).
  SleepAwaiter(std::int64_t ns, bool absolute) noexcept : absolute_(absolute) {
    Wait::cancel = &on_cancel;
    TimerNode::on_due = &on_due;
    deadline = ns;
  }
  /// Movable until awaited (so that wait_for can hold it by value).
  SleepAwaiter(SleepAwaiter&& other) noexcept : SleepAwaiter(other.deadline, other.absolute_) {}
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() {
    if (queued()) task_->loop().remove_timer(this);
  }

  bool await_ready() const noexcept { return absolute_ ? deadline <= LoopCore::now() : deadline < 0; }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task();
    LoopCore& loop = task_->loop();
    if (deadline == 0 && !absolute_) {
      loop.schedule(task_);  // sleep(0): a yield, the ring is not involved
    } else {
      if (!absolute_) deadline = deadline_after(LoopCore::now(), deadline);
      loop.add_timer(this);
    }
    task_->park(h, this);
  }
  void await_resume() const {
    if (task_ != nullptr && task_->take_cancel()) task_->throw_cancelled();
  }
  /// The ReportsCancel protocol (awaitable_traits.hpp): a cancellation is
  /// consumed and reported, not thrown, since a sleep has no code of its own
  /// to unwind.
  bool await_cancelled() const noexcept { return task_ != nullptr && task_->take_cancel(); }

 private:
  static void on_due(TimerNode* node, TimerNode::Action action) noexcept {
    auto* self = static_cast<SleepAwaiter*>(node);
    if (action == TimerNode::Action::fire) self->task_->loop().schedule(self->task_);
  }
  static void on_cancel(Wait* w) noexcept {
    auto* self = static_cast<SleepAwaiter*>(w);
    if (!self->queued()) return;  // already due (or a yield): the task is scheduled
    self->task_->loop().remove_timer(self);
    self->task_->loop().schedule(self->task_);
  }

  bool absolute_;  // first: it lives in TimerNode's tail padding
  TaskBase* task_ = nullptr;
};

}  // namespace detail

/// Suspends the calling task for `d` (asyncio.sleep).
///
/// The wait is a timer of the loop (a heap in user space, woken by the
/// loop's one armed io_uring timeout), never shorter than `d`. `sleep(0)`
/// only yields to the loop, letting every other ready task run once; a
/// negative duration returns at once without suspending.
/// Throws: CancelledError if the task is cancelled while sleeping (also when
/// the timer already fired but the task had not resumed yet); RuntimeError
/// outside a running task.
/// Cancel safety: safe; cancelling removes the timer, nothing is lost.
template <class Rep, class Period>
detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  // Rounded up: a positive duration under 1 ns is not a mere yield.
  return detail::SleepAwaiter(detail::to_ns_ceil(d), false);
}

/// `aio::sleep(0.05)`: as sleep(d), with `seconds` a number of seconds, as
/// asyncio.sleep takes it (`sleep(0)` yields; NaN is taken as 0).
template <class Seconds>
  requires std::is_arithmetic_v<Seconds>
detail::SleepAwaiter sleep(Seconds seconds) noexcept {
  const double s = static_cast<double>(seconds);
  return sleep(std::chrono::duration<double>(s == s ? s : 0.0));
}

/// Suspends the calling task until the loop's clock (`EventLoop::time()`)
/// reaches `when` (Tokio's sleep_until; asyncio spells it
/// `loop.call_at`). A time already past returns at once without suspending.
/// Timers with the same `when` fire in the order they were started, which
/// makes schedules built on absolute times reproducible.
/// Throws and cancel safety: as sleep().
template <class Duration>
detail::SleepAwaiter sleep_until(std::chrono::time_point<std::chrono::steady_clock, Duration> when) noexcept {
  return detail::SleepAwaiter(detail::to_ns_ceil(when.time_since_epoch()), true);
}

}  // namespace aio
