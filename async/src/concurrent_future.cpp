// run_coroutine_threadsafe's shared state and each loop's registry of the
// pending ones (see aio/detail/concurrent_state.hpp for the lock order).

#include "aio/concurrent_future.hpp"

#include <limits>
#include <type_traits>
#include <thread>

namespace aio::detail {

bool ConcurrentStateBase::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

bool ConcurrentStateBase::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

void ConcurrentStateBase::wait_locked(std::unique_lock<std::mutex>& lock) const {
  if (done_) return;
  // Pending: the loop is alive (the lifetime rule). On its running thread
  // nothing could ever resolve the state.
  if (loop_->runs_on_this_thread()) {
    throw RuntimeError(
        "aio::ConcurrentFuture: get()/wait() on the thread that runs the future's loop would wait forever "
        "(co_await the task instead)");
  }
  cv_.wait(lock, [this] { return done_; });
}

void ConcurrentStateBase::wait() const {
  std::unique_lock lock(mutex_);
  wait_locked(lock);
}

bool ConcurrentStateBase::wait_for(std::int64_t ns) const {
  using clock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  if (done_ || ns <= 0) return done_;
  const std::int64_t now = clock::now().time_since_epoch().count();
  static_assert(std::is_same_v<clock::duration, std::chrono::nanoseconds>);
  if (ns > std::numeric_limits<std::int64_t>::max() - now) {  // no deadline a clock can hold
    cv_.wait(lock, [this] { return done_; });
    return true;
  }
  const clock::time_point deadline{clock::duration(now + ns)};
  return cv_.wait_until(lock, deadline, [this] { return done_; });
}

void ConcurrentStateBase::rethrow_locked() const {
  if (cancelled_) throw CancelledError();
  if (error_) std::rethrow_exception(error_);
}

bool ConcurrentStateBase::cancel(const std::shared_ptr<ConcurrentStateBase>& self) {
  std::shared_ptr<ConcurrentStateBase> dropped;  // released after both locks
  std::lock_guard lock(mutex_);
  if (done_) return false;
  cancelled_ = true;
  finish_locked();
  // Pending until a moment ago: the loop is alive while we hold our lock.
  LoopCore& loop = *loop_;
  std::lock_guard registry_lock(loop.concurrent().mutex_);
  if (loop.concurrent().closed_) return true;  // close() is resolving us; it drops the task itself
  if (ListHook::linked()) {
    ListHook::unlink();
    dropped = std::move(registry_ref_);
  }
  // The task learns of it on its loop (asyncio: call_soon_threadsafe(task.cancel)).
  auto* cb = new (std::nothrow) Callback<CancelTask>(loop, CancelTask{self});
  if (cb != nullptr && !loop.post(cb)) cb->release();
  return true;
}

void ConcurrentStateBase::CancelTask::operator()() const {
  if (state->task != nullptr) state->task->cancel({});
}

bool ConcurrentStateBase::resolve_cancelled_only() noexcept {
  std::lock_guard lock(mutex_);
  if (done_) return false;
  cancelled_ = true;
  finish_locked();
  return true;
}

void ConcurrentStateBase::resolve_cancelled() noexcept {
  if (resolve_cancelled_only()) leave_registry();
}

void ConcurrentStateBase::resolve_failed(std::exception_ptr e) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    error_ = std::move(e);
    finish_locked();
  }
  leave_registry();
}

void ConcurrentStateBase::leave_registry() noexcept { loop_->concurrent().remove(*this); }

bool ConcurrentRegistry::add(std::shared_ptr<ConcurrentStateBase> s) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  ConcurrentStateBase* raw = s.get();
  raw->registry_ref_ = std::move(s);
  pending_.push_back(raw);
  return true;
}

void ConcurrentRegistry::remove(ConcurrentStateBase& s) noexcept {
  std::shared_ptr<ConcurrentStateBase> dropped;  // released after the lock
  std::lock_guard lock(mutex_);
  if (closed_ || !s.ListHook::linked()) return;  // closed: close() owns the batch
  s.ListHook::unlink();
  dropped = std::move(s.registry_ref_);
}

void ConcurrentRegistry::close() noexcept {
  IntrusiveList<ConcurrentStateBase> batch;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    while (ConcurrentStateBase* s = pending_.pop_front()) batch.push_back(s);
  }
  // From here on nobody else touches the batch's hooks and references.
  while (ConcurrentStateBase* s = batch.pop_front()) {
    std::shared_ptr<ConcurrentStateBase> ref = std::move(s->registry_ref_);
    s->resolve_cancelled_only();
  }
}

}  // namespace aio::detail
