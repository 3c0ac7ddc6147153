#pragma once
// aio::Barrier and aio::BrokenBarrierError: asyncio.Barrier (3.11).

#include <cstddef>
#include <cstdint>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

/// asyncio.BrokenBarrierError: a Barrier was aborted, or reset while a task
/// waited in it.
class BrokenBarrierError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// A barrier for `parties` tasks (asyncio.Barrier): each wait() blocks until
/// `parties` tasks wait, then all of them pass together. It is reusable:
/// tasks that arrive while the passing ones are still leaving (draining)
/// wait for the next round. Not thread-safe: use it from its loop's thread.
class Barrier {
 public:
  /// Throws: ValueError if `parties` is 0.
  explicit Barrier(std::size_t parties) : parties_(parties) {
    if (parties == 0) throw ValueError("parties must be > 0");
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits until `parties` tasks wait, and returns this task's arrival
  /// index in its round, 0 to parties-1 (asyncio Barrier.wait).
  /// Throws: BrokenBarrierError if the barrier is broken (abort) or is reset
  /// while this task waits; CancelledError if cancelled.
  /// Cancel safety: a task cancelled while it waits for the others leaves
  /// the barrier as if it had never arrived; the others keep waiting.
  [[nodiscard]] Task<std::size_t> wait() {
    // Block while the previous round drains or a reset completes.
    while (state_ == State::draining || state_ == State::resetting) co_await park();
    if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
    const std::size_t index = count_++;
    if (index + 1 == parties_) {
      state_ = State::draining;  // release everyone
      waiters_.wake_all();
    } else {
      try {
        while (state_ == State::filling) co_await park();
      } catch (...) {  // CancelledError
        leave();
        throw;
      }
      if (state_ == State::broken || state_ == State::resetting) {
        leave();
        throw BrokenBarrierError("Abort or reset of barrier");
      }
    }
    leave();
    co_return index;
  }

  /// Returns the barrier to its empty state (asyncio Barrier.reset): tasks
  /// waiting in it get BrokenBarrierError. Throws: nothing.
  /// Cancel safety: completes without suspending.
  [[nodiscard]] Task<> reset() {
    if (count_ > 0) {
      state_ = State::resetting;  // the last one to leave makes it filling again
    } else {
      state_ = State::filling;
    }
    waiters_.wake_all();
    co_return;
  }

  /// Breaks the barrier (asyncio Barrier.abort): waiting and future wait()
  /// calls throw BrokenBarrierError until reset(). Throws: nothing.
  /// Cancel safety: completes without suspending.
  [[nodiscard]] Task<> abort() {
    state_ = State::broken;
    waiters_.wake_all();
    co_return;
  }

  /// The number of tasks needed to pass.
  std::size_t parties() const noexcept { return parties_; }
  /// The number of tasks waiting in the current round.
  std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  /// True once abort() broke the barrier.
  bool broken() const noexcept { return state_ == State::broken; }

 private:
  enum class State : std::uint8_t { filling, draining, resetting, broken };

  /// One wait for the next change of state (every change wakes all).
  detail::SignalAwaiter park() noexcept {
    return detail::SignalAwaiter(waiters_, [](const void*) noexcept { return false; }, this);
  }
  void leave() noexcept {
    if (--count_ == 0) {
      if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
      waiters_.wake_all();
    }
  }

  detail::WaiterList<> waiters_;
  std::size_t parties_;
  std::size_t count_ = 0;  // tasks in the barrier (arrived, not yet left)
  State state_ = State::filling;
};

}  // namespace aio
