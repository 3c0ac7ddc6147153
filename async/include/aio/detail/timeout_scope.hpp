#pragma once
// The one deadline mechanism behind aio::timeout and aio::wait_for
// (asyncio's timeouts.Timeout; Python 3.12 builds wait_for on it).

#include <cstdint>
#include <optional>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"

namespace aio::detail {

/// A deadline on the current task: a timer of the loop that, when it fires,
/// cancels the task, so whatever the task waits on is cancelled by the
/// ordinary protocol. `exit` tells whether the CancelledError that ended the
/// scope was this deadline's (it becomes a TimeoutError) or someone else's:
/// the task's cancel count when the scope was entered is the dividing line,
/// so an outside cancel, also one in the same iteration as the deadline, and
/// an enclosing scope's deadline both stay cancellations.
class TimeoutScope : TimerNode {
 public:
  enum class State : std::uint8_t { entered, expiring, expired, exited };

  explicit TimeoutScope(TaskBase& task) noexcept : task_(task), cancelling_(task.cancelling()) {
    TimerNode::on_due = &on_due_fn;
  }
  TimeoutScope(const TimeoutScope&) = delete;
  TimeoutScope& operator=(const TimeoutScope&) = delete;
  ~TimeoutScope() { disarm(); }

  /// Arms the deadline at CLOCK_MONOTONIC nanoseconds `when` (none: never).
  /// A time already past expires at the loop's next iteration (asyncio's
  /// call_soon), never inside this call.
  /// Throws: RuntimeError once the scope expired or was left.
  void reschedule(std::optional<std::int64_t> when) {
    if (state_ != State::entered) {
      throw RuntimeError(state_ == State::exited    ? "Cannot change state of finished Timeout"
                         : state_ == State::expired ? "Cannot change state of expired Timeout"
                                                    : "Cannot change state of expiring Timeout");
    }
    disarm();
    when_ = when;
    if (when) {
      TimerNode::deadline = *when;
      task_.loop().add_timer(this);
    }
  }
  /// Expires now, inside this call (wait_for with a timeout <= 0: the
  /// awaitable is cancelled as soon as it would wait).
  void expire_now() noexcept {
    disarm();
    when_ = LoopCore::now();
    fire();
  }

  std::optional<std::int64_t> when() const noexcept { return when_; }
  bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }
  State state() const noexcept { return state_; }

  /// The scope's body ended, by a CancelledError if `cancelled`. Withdraws
  /// this deadline's own cancel request; true when the CancelledError must
  /// become a TimeoutError (asyncio's Timeout.__aexit__).
  bool exit(bool cancelled) noexcept {
    disarm();
    if (state_ == State::expiring) {
      state_ = State::expired;
      return task_.uncancel() <= cancelling_ && cancelled;
    }
    state_ = State::exited;
    return false;
  }

 private:
  void disarm() noexcept {
    if (queued()) task_.loop().remove_timer(this);
  }
  void fire() noexcept {
    state_ = State::expiring;
    task_.cancel({});
  }
  static void on_due_fn(TimerNode* node, TimerNode::Action action) noexcept {
    if (action == TimerNode::Action::fire) static_cast<TimeoutScope*>(node)->fire();
  }

  TaskBase& task_;
  std::optional<std::int64_t> when_;
  int cancelling_;
  State state_ = State::entered;
};

}  // namespace aio::detail
