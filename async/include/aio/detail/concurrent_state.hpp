#pragma once
// The shared state behind aio::ConcurrentFuture, and each loop's registry of
// the states still pending, which the loop's close() resolves (cancelled)
// before it waits for its worker threads: a thread blocked in get() is
// released, also a to_thread worker of that very loop. See docs/internals.md.
//
// Locks, always taken in this order: a state's mutex, then the registry's,
// then the loop's RemoteQueue (inside call_soon_threadsafe). The registry's
// close() takes a state's mutex only after it released its own.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>

#include "aio/detail/intrusive_list.hpp"

namespace aio::detail {

class LoopCore;
class TaskBase;
class ConcurrentRegistry;

/// What every ConcurrentState<T> shares: done/cancelled/exception under a
/// mutex, a condition variable for the threads that wait.
///
/// Lifetime rule: while a state is not done, its loop is alive. A pending
/// state is in its loop's registry (or in the batch its close() is
/// resolving), and close() resolves every one of them before it returns, so
/// whoever holds the state's mutex and sees it not done may touch the loop.
class ConcurrentStateBase : public ListHook {
 public:
  explicit ConcurrentStateBase(LoopCore& loop) noexcept : loop_(&loop) {}
  ConcurrentStateBase(const ConcurrentStateBase&) = delete;
  ConcurrentStateBase& operator=(const ConcurrentStateBase&) = delete;

  // -- any thread
  bool done() const;
  bool cancelled() const;
  /// Blocks until done. Throws: RuntimeError when called on the thread that
  /// runs the loop while the state is pending (it could never be resolved).
  void wait() const;
  /// Blocks until done or `ns` passed (saturated: a huge wait has no
  /// deadline); returns done().
  bool wait_for(std::int64_t ns) const;
  /// concurrent.futures.Future.cancel as run_coroutine_threadsafe's future
  /// does it: false when done; else the state is cancelled at once and the
  /// loop is asked (through call_soon_threadsafe) to cancel the task.
  bool cancel(const std::shared_ptr<ConcurrentStateBase>& self);

  /// Resolves the state cancelled or failed unless it is done; then leaves
  /// the registry. Loop side (the submission, the task's frame).
  void resolve_cancelled() noexcept;
  void resolve_failed(std::exception_ptr e) noexcept;
  LoopCore& loop() const noexcept { return *loop_; }

  /// The task running the submission, while its frame exists; read and
  /// written on the loop's thread only.
  TaskBase* task = nullptr;

 protected:
  ~ConcurrentStateBase() = default;

  /// Under the lock, with `done_` false: marks it done and wakes the waiters.
  void finish_locked() noexcept {
    done_ = true;
    cv_.notify_all();
  }
  /// Leaves the loop's registry (after the state was resolved).
  void leave_registry() noexcept;
  /// Called with the lock held once done: throws CancelledError or the
  /// stored exception, or returns (a value is there).
  void rethrow_locked() const;
  /// Blocks until done, with the lock held. Throws: RuntimeError (see wait).
  void wait_locked(std::unique_lock<std::mutex>& lock) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool done_ = false;
  bool cancelled_ = false;
  bool taken_ = false;  // a move-only value was moved out by get()
  std::exception_ptr error_;

 private:
  friend class ConcurrentRegistry;
  // Posted by cancel(): cancels the task on the loop's thread, if it still runs.
  struct CancelTask {
    std::shared_ptr<ConcurrentStateBase> state;
    void operator()() const;
  };
  bool resolve_cancelled_only() noexcept;  // resolves without leaving the registry

  LoopCore* loop_;
  std::shared_ptr<ConcurrentStateBase> registry_ref_;  // held while in the registry (its mutex)
};

/// A loop's pending ConcurrentStates (LoopCore::concurrent).
class ConcurrentRegistry {
 public:
  ConcurrentRegistry() = default;
  ConcurrentRegistry(const ConcurrentRegistry&) = delete;
  ConcurrentRegistry& operator=(const ConcurrentRegistry&) = delete;

  /// Any thread: registers a new pending state; false once closed.
  bool add(std::shared_ptr<ConcurrentStateBase> s);
  /// Any thread (whose loop is alive): removes `s` if it is registered.
  void remove(ConcurrentStateBase& s) noexcept;
  /// The loop's close(): refuses later add()s and resolves every pending
  /// state cancelled, which wakes the threads waiting on them.
  void close() noexcept;

 private:
  friend class ConcurrentStateBase;
  std::mutex mutex_;
  IntrusiveList<ConcurrentStateBase> pending_;
  bool closed_ = false;
};

}  // namespace aio::detail
