#pragma once
// aio::Condition: asyncio.Condition.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <limits>
#include <type_traits>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/lock.hpp"
#include "aio/task.hpp"

namespace aio {

/// A condition variable for tasks (asyncio.Condition): wait() releases the
/// lock and waits for notify(), then re-acquires the lock before it returns.
///
/// The lock is its own, or `lock` shared with other conditions. Notified
/// waiters re-acquire it in the order they were notified, behind tasks
/// already waiting for it. Use it with `co_await aio::async_with(cond, body)`
/// (aenter/aexit), or acquire() and release(). Not thread-safe: use it from
/// its loop's thread.
class Condition {
 public:
  /// One wait(): first linked in the condition's list, then (notified or
  /// cancelled) in the lock's, until the lock is handed to it.
  class [[nodiscard]] Awaiter : public detail::Waiter {
   public:
    explicit Awaiter(Condition& cond) noexcept : cond_(cond) { Wait::cancel = &on_cancel; }

    bool await_ready() const {
      if (!cond_.locked()) throw RuntimeError("cannot wait on un-acquired lock");
      return false;
    }
    void await_suspend(std::coroutine_handle<> h) {
      cond_.lock_->pass_on();
      park_in(cond_.waiters_, h);
    }
    bool await_resume() {
      // The lock is held again here, whatever happened.
      if (cancelled_) {
        // A notification this waiter will not act on goes to another one
        // (Python 3.13); it may wake to a spurious wake-up, which the
        // protocol allows.
        if (notified_) cond_.wake(1);
        task().take_cancel();
        task().throw_cancelled();
      }
      return true;
    }

   private:
    friend class Condition;

    // Notified or cancelled: leave the condition's list and queue for the
    // lock; handed the lock (now, or by Lock::release later), the task is
    // scheduled.
    void reacquire() noexcept {
      in_lock_queue_ = true;
      Lock& lock = *cond_.lock_;
      if (!lock.locked_) {
        lock.locked_ = true;
        wake();
      } else {
        lock.waiters_.push_back(this);
      }
    }
    // Re-acquiring the lock cannot be cancelled (asyncio retries it): the
    // cancellation is thrown once the lock is held again.
    static void on_cancel(detail::Wait* w) noexcept {
      auto* self = static_cast<Awaiter*>(w);
      if (self->cancelled_) return;
      self->cancelled_ = true;
      if (!self->in_lock_queue_ && !self->linked()) {
        // The condition was destroyed while this task waited (its list
        // unlinked everyone): no lock to re-acquire, end the wait.
        self->task().loop().schedule(&self->task());
        return;
      }
      if (!self->in_lock_queue_) {
        self->unlink();
        self->reacquire();
      }
    }

    Condition& cond_;
    bool notified_ = false;
    bool cancelled_ = false;
    bool in_lock_queue_ = false;
  };

  /// A condition with a lock of its own.
  Condition() noexcept : lock_(&own_lock_) {}
  /// A condition using `lock`, which must outlive it.
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  /// Acquires the underlying lock and returns true (asyncio
  /// Condition.acquire); see Lock::acquire.
  /// Throws: CancelledError if cancelled while waiting; the lock is then not
  /// held.
  /// Cancel safety: safe, as Lock::acquire.
  Lock::Awaiter acquire() noexcept { return lock_->acquire(); }
  /// Releases the underlying lock. Throws: RuntimeError if it is not held.
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  /// Releases the lock, waits until notified, re-acquires the lock and
  /// returns true (asyncio Condition.wait). Call it with the lock held.
  /// Throws: RuntimeError if the lock is not held; CancelledError if
  /// cancelled while waiting, thrown only once the lock is held again.
  /// Cancel safety: safe; the lock is always held again when it returns or
  /// throws. A waiter notified and then cancelled before it resumed passes
  /// the notification on to the next waiter.
  Awaiter wait() noexcept { return Awaiter(*this); }

  /// Waits until `predicate()` is true, calling it with the lock held first
  /// and after every wake-up; returns its last result (asyncio
  /// Condition.wait_for). Call it with the lock held.
  /// Throws: as wait(), and whatever `predicate` throws.
  /// Cancel safety: as wait().
  template <class Predicate>
  Task<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate predicate) {
    auto result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }

  /// Wakes up to `n` waiting tasks, those that have waited longest (asyncio
  /// Condition.notify); each returns from wait() once it re-acquired the lock.
  /// Throws: RuntimeError if the lock is not held.
  void notify(std::size_t n = 1) {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    wake(n);
  }
  /// Wakes every waiting task (asyncio Condition.notify_all).
  /// Throws: RuntimeError if the lock is not held.
  void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

  /// `async with cond`: acquires the lock. Throws and cancel safety: as
  /// acquire().
  Task<> aenter() { co_await acquire(); }
  /// Releases the lock; never suppresses the body's exception.
  Task<bool> aexit(std::exception_ptr) {
    release();
    co_return false;
  }

 private:
  void wake(std::size_t n) noexcept {
    for (; n > 0; --n) {
      Awaiter* w = waiters_.pop_front();
      if (w == nullptr) break;
      w->notified_ = true;
      w->reacquire();
    }
  }

  Lock own_lock_;
  Lock* lock_;
  detail::WaiterList<Awaiter> waiters_;
};

}  // namespace aio
