#pragma once
// aio::Event: asyncio.Event.

#include "aio/detail/waiter_list.hpp"

namespace aio {

/// A flag that tasks can wait for (asyncio.Event): set() wakes every task
/// waiting in wait(); clear() resets it. Not thread-safe: use it from its
/// loop's thread.
class Event {
 public:
  class [[nodiscard]] Awaiter : detail::SignalAwaiter {
   public:
    using SignalAwaiter::SignalAwaiter;
    using SignalAwaiter::await_ready;
    using SignalAwaiter::await_suspend;
    bool await_resume() const {
      SignalAwaiter::await_resume();
      return true;
    }
  };

  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Waits until the event is set, returning true (asyncio Event.wait); at
  /// once if it is set. A task woken by set() returns even if clear() was
  /// called before it resumed.
  /// Throws: CancelledError if cancelled while waiting (also after set()
  /// woke it, if it had not resumed yet).
  /// Cancel safety: safe; nothing is consumed.
  Awaiter wait() noexcept { return Awaiter(waiters_, &is_set_fn, this); }

  /// Sets the flag and wakes every waiting task (asyncio Event.set).
  void set() noexcept {
    if (flag_) return;
    flag_ = true;
    waiters_.wake_all();
  }
  /// Resets the flag (asyncio Event.clear): wait() waits again.
  void clear() noexcept { flag_ = false; }
  bool is_set() const noexcept { return flag_; }

 private:
  static bool is_set_fn(const void* self) noexcept { return static_cast<const Event*>(self)->flag_; }

  detail::WaiterList<> waiters_;
  bool flag_ = false;
};

}  // namespace aio
