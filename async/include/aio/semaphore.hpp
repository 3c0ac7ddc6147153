#pragma once
// aio::Semaphore and aio::BoundedSemaphore: asyncio.Semaphore and
// asyncio.BoundedSemaphore.

#include <coroutine>
#include <cstddef>
#include <exception>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

/// A counter of permits for tasks (asyncio.Semaphore): acquire() takes one,
/// waiting while there is none; release() gives one back.
///
/// Fair: release() hands the permit straight to the task that has waited
/// longest, and no acquire() overtakes a waiter that was handed a permit
/// but has not run yet (it queues behind). Use it with
/// `co_await aio::async_with(sem, body)` (aenter/aexit), or acquire() and
/// release(). Not thread-safe: use it from its loop's thread.
class Semaphore {
 public:
  class [[nodiscard]] Awaiter : public detail::Waiter {
   public:
    explicit Awaiter(Semaphore& sem) noexcept : Waiter(&give_back), sem_(sem) {}

    bool await_ready() noexcept {
      if (sem_.locked()) return false;  // no barging past a woken waiter that has not run yet
      --sem_.value_;
      return true;
    }
    void await_suspend(std::coroutine_handle<> h) { park_in(sem_.waiters_, h); }
    bool await_resume() const {
      throw_if_cancelled();
      if (state() == State::woken) {
        // release() handed a permit over. Waiters that queued meanwhile
        // behind us get the permits freed since (asyncio's finally clause).
        --sem_.woken_;
        sem_.wake_while_free();
      }
      return true;
    }

   private:
    static void give_back(Waiter* w) noexcept {
      Semaphore& sem = static_cast<Awaiter*>(w)->sem_;
      --sem.woken_;
      sem.pass_on();
    }

    Semaphore& sem_;
  };

  /// Throws: ValueError if `value` is negative.
  explicit Semaphore(std::ptrdiff_t value = 1) : value_(value) {
    if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  /// Takes a permit, waiting until one is free, and returns true (asyncio
  /// Semaphore.acquire). Waiters get permits in the order they came.
  /// Throws: CancelledError if cancelled while waiting; no permit is then
  /// held.
  /// Cancel safety: safe. If a permit was already handed to the task and it
  /// is cancelled before it resumed, the permit passes to the next waiter
  /// (or back to the counter); it is never lost.
  Awaiter acquire() noexcept { return Awaiter(*this); }

  /// Gives a permit back (asyncio Semaphore.release), to the task that has
  /// waited longest if any. May be called more times than acquire().
  virtual void release() { pass_on(); }

  /// True if acquire() would wait: no permit is free, or a task waits for
  /// one (also one woken with a permit that has not run yet, as in Python
  /// 3.12's Semaphore.locked()).
  bool locked() const noexcept { return value_ == 0 || woken_ > 0 || !waiters_.empty(); }

  /// `async with sem`: acquires. Throws and cancel safety: as acquire().
  Task<> aenter() { co_await acquire(); }
  /// Releases; never suppresses the body's exception.
  Task<bool> aexit(std::exception_ptr) {
    release();
    co_return false;
  }

 protected:
  std::ptrdiff_t value_;  // free permits (not counting those handed to woken waiters)

 private:
  void pass_on() noexcept {
    if (waiters_.wake_first()) {
      ++woken_;
    } else {
      ++value_;
    }
  }
  void wake_while_free() noexcept {
    while (value_ > 0 && !waiters_.empty()) {
      --value_;
      pass_on();
    }
  }

  detail::WaiterList<> waiters_;
  std::size_t woken_ = 0;  // waiters handed a permit that have not resumed yet
};

/// A Semaphore that cannot be released above its initial value
/// (asyncio.BoundedSemaphore).
class BoundedSemaphore : public Semaphore {
 public:
  /// Throws: ValueError if `value` is negative.
  explicit BoundedSemaphore(std::ptrdiff_t value = 1) : Semaphore(value), bound_(value) {}

  /// As Semaphore::release. Throws: ValueError if that would bring the
  /// permits above the initial value.
  void release() override {
    if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
    Semaphore::release();
  }

 private:
  std::ptrdiff_t bound_;
};

}  // namespace aio
