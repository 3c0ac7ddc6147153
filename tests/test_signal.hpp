#pragma once
// test::Signal: a one-shot wake-up that a task awaits and the loop's thread
// sets (a Future<void> in miniature), following the awaiter protocol of
// docs/internals.md. Lets a test park a task on nothing but the loop itself:
// no timer, no I/O.

#include <chrono>
#include <coroutine>
#include <thread>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/event_loop.hpp"

namespace test {

class Signal : aio::detail::Wait {
 public:
  Signal() noexcept { Wait::cancel = &on_cancel; }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  /// On the loop's thread: wakes the awaiting task, if any (idempotent).
  void set() noexcept {
    if (set_) return;
    set_ = true;
    wake();
  }
  bool is_set() const noexcept { return set_; }

  // g++ 12 copies an awaitable named through a lambda's reference capture:
  // await through a small proxy instead.
  struct Awaiter {
    Signal* s;
    bool await_ready() const noexcept { return s->set_; }
    void await_suspend(std::coroutine_handle<> h) const {
      s->task_ = &aio::detail::current_task();
      s->scheduled_ = false;
      s->task_->park(h, s);
    }
    void await_resume() const {
      if (s->task_ != nullptr && s->task_->take_cancel()) s->task_->throw_cancelled();
    }
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }

 private:
  void wake() noexcept {
    if (task_ == nullptr || scheduled_) return;
    scheduled_ = true;
    task_->loop().schedule(task_);
  }
  static void on_cancel(Wait* w) noexcept { static_cast<Signal*>(w)->wake(); }

  aio::detail::TaskBase* task_ = nullptr;
  bool set_ = false;
  bool scheduled_ = false;
};

/// Starts a thread that waits `delay`, then sets `signal` on `loop`'s
/// thread through call_soon_threadsafe. The caller joins it.
inline std::thread set_from_thread_after(aio::EventLoop& loop, Signal& signal, std::chrono::milliseconds delay) {
  return std::thread([&loop, &signal, delay] {
    std::this_thread::sleep_for(delay);
    loop.call_soon_threadsafe([&signal] { signal.set(); });
  });
}

}  // namespace test
