#pragma once
// aio::Lock: asyncio.Lock.

#include <coroutine>
#include <exception>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

class Condition;

/// A mutual exclusion lock for tasks (asyncio.Lock), not reentrant.
///
/// Fair: release() hands the lock straight to the task that has waited
/// longest, so locked() stays true and no later acquire() can take it first.
/// Use it with `co_await aio::async_with(lock, body)` (aenter/aexit), or
/// acquire() and release() around the critical section. Not thread-safe: use
/// it from its loop's thread.
class Lock {
 public:
  class [[nodiscard]] Awaiter : public detail::Waiter {
   public:
    explicit Awaiter(Lock& lock) noexcept : Waiter(&give_back), lock_(lock) {}

    bool await_ready() noexcept {
      if (lock_.locked_) return false;
      lock_.locked_ = true;
      return true;
    }
    void await_suspend(std::coroutine_handle<> h) { park_in(lock_.waiters_, h); }
    bool await_resume() const {
      throw_if_cancelled();
      return true;  // woken: release() handed the lock over
    }

   private:
    static void give_back(Waiter* w) noexcept { static_cast<Awaiter*>(w)->lock_.pass_on(); }

    Lock& lock_;
  };

  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// Acquires the lock, waiting until it is released, and returns true
  /// (asyncio Lock.acquire). Waiters get the lock in the order they came.
  /// Throws: CancelledError if cancelled while waiting; the lock is then not
  /// held.
  /// Cancel safety: safe. If the lock was already handed to the task and it
  /// is cancelled before it resumed, the lock passes to the next waiter (or
  /// is released); it is never lost.
  Awaiter acquire() noexcept { return Awaiter(*this); }

  /// Releases the lock (asyncio Lock.release), handing it to the task that
  /// has waited longest, if any.
  /// Throws: RuntimeError if the lock is not held.
  void release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    pass_on();
  }

  /// True if some task holds the lock (or it was handed to a woken waiter).
  bool locked() const noexcept { return locked_; }

  /// `async with lock`: acquires. Throws and cancel safety: as acquire().
  Task<> aenter() { co_await acquire(); }
  /// Releases; never suppresses the body's exception.
  Task<bool> aexit(std::exception_ptr) {
    release();
    co_return false;
  }

 private:
  friend class Condition;

  void pass_on() noexcept {
    if (!waiters_.wake_first()) locked_ = false;
  }

  detail::WaiterList<> waiters_;  // Lock::Awaiter and Condition's re-acquiring waiters
  bool locked_ = false;
};

}  // namespace aio
