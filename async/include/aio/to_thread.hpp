#pragma once
// aio::to_thread: asyncio.to_thread, on a small pool of worker threads owned
// by the loop.

#include <concepts>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "aio/detail/intrusive_list.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/runnable.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {

struct JobWait;

/// One call handed to the loop's worker threads. Heap-allocated, never in a
/// coroutine frame: a task cancelled while its call runs leaves the job
/// behind, and the loop frees it once the worker hands it back.
///
/// Who touches what: a worker runs `run()` (the call and its outcome); the
/// hand-over through the pool's and the loop's queues (both under a mutex)
/// orders that before and after everything the loop's thread does. Every
/// other member is the loop thread's only, and the job is always freed there.
class JobBase : public Runnable, public ListHook /* the pool's queue, under its mutex */ {
 public:
  JobBase(const JobBase&) = delete;
  JobBase& operator=(const JobBase&) = delete;
  virtual ~JobBase() = default;

  /// Worker thread: calls the function and stores its result or exception.
  virtual void run() noexcept = 0;

  JobWait* waiter = nullptr;  // the awaiter, null once it gave the job up
  bool finished = false;      // the worker handed the job back to the loop

 protected:
  JobBase() noexcept { Runnable::perform = &on_returned; }
  std::exception_ptr error_;

 private:
  // The loop received the job back from its worker (posted by the worker,
  // run from the ready queue): wake the awaiter, or free an orphan.
  static void on_returned(Runnable* self, Action action) noexcept;
};

template <class R>
class JobResult : public JobBase {
 public:
  R take() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 protected:
  std::optional<VoidToUnit<R>> value_;
};

template <class R, class F, class... Args>
class Job final : public JobResult<R> {
 public:
  template <class F2, class... A2>
  explicit Job(F2&& f, A2&&... args) : f_(std::forward<F2>(f)), args_(std::forward<A2>(args)...) {}

  void run() noexcept override {
    try {
      // As std::thread: the decayed copies are passed as rvalues.
      if constexpr (std::is_void_v<R>) {
        std::apply([this](Args&... a) { std::invoke(std::move(f_), std::move(a)...); }, args_);
      } else {
        this->value_.emplace(
            std::apply([this](Args&... a) -> R { return std::invoke(std::move(f_), std::move(a)...); }, args_));
      }
    } catch (...) {
      this->error_ = std::current_exception();
    }
  }

 private:
  F f_;
  std::tuple<Args...> args_;
};

/// The untyped part of the awaiter (docs/internals.md's protocol): it owns
/// the job until the job is finished or it gives the job up.
struct JobWait : Wait {
  explicit JobWait(JobBase* j) noexcept : job(j) { Wait::cancel = &on_cancel; }
  JobWait(const JobWait&) = delete;
  JobWait& operator=(const JobWait&) = delete;
  ~JobWait();  // gives up a job still running: the loop frees it when it comes back

  /// await_suspend: hands the job to the pool, then parks the task.
  void start(std::coroutine_handle<> h);
  /// await_resume's first half: throws the cancellation if the job was given up.
  void check();
  /// Detaches from an unfinished job: a job still queued is withdrawn and
  /// freed (it never runs), a running one is left to the loop to free.
  void give_up() noexcept;
  static void on_cancel(Wait* w) noexcept;

  JobBase* job;
  TaskBase* task = nullptr;
};

template <class R>
class [[nodiscard]] JobAwaiter : JobWait {
 public:
  explicit JobAwaiter(JobResult<R>* j) noexcept : JobWait(j) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { start(h); }
  R await_resume() {
    check();
    std::unique_ptr<JobResult<R>> owned(static_cast<JobResult<R>*>(std::exchange(job, nullptr)));
    return owned->take();
  }
};

template <class R>
Task<R> await_job(std::unique_ptr<JobResult<R>> job) {
  if constexpr (std::is_void_v<R>) {
    co_await JobAwaiter<R>(job.release());
  } else {
    co_return co_await JobAwaiter<R>(job.release());
  }
}

template <class F, class... Args>
using to_thread_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;

}  // namespace detail

/// Runs `f(args...)` on a worker thread and returns its result
/// (asyncio.to_thread), while the loop goes on running other tasks.
///
/// `f` and `args` are decay-copied when to_thread is called (as by
/// std::thread; use std::ref to pass a reference) and the call happens when
/// the returned Task is awaited (or run by create_task / gather). The worker
/// threads belong to the loop: started at the first call (at most
/// max(4, min(32, cores + 4)) of them, as Python's default executor), they
/// stay until `close()`, which waits for the calls still running.
/// The function runs on another thread: it must not touch the loop or its
/// tasks, except through `EventLoop::call_soon_threadsafe`.
///
/// Throws: whatever `f` throws, rethrown in the awaiting task;
/// std::system_error if no worker thread can be started; RuntimeError
/// outside a running task; whatever copying `f` or `args` throws, at the call.
/// Cancel safety: a thread cannot be stopped. Cancelling the awaiting task
/// throws CancelledError at once; a call that has not started yet never
/// starts, a running one runs to its end and its result (or exception) is
/// discarded on the loop's thread. If the call had already finished when
/// the cancellation came, its result is returned and the cancellation is
/// delivered at the task's next suspending await (as for an I/O operation).
template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
Task<detail::to_thread_result_t<F, Args...>> to_thread(F&& f, Args&&... args) {
  using R = detail::to_thread_result_t<F, Args...>;
  static_assert(!std::is_reference_v<R>,
                "aio::to_thread: the function returns a reference; return a value or a pointer");
  using Job = detail::Job<R, std::decay_t<F>, std::decay_t<Args>...>;
  return detail::await_job<R>(
      std::unique_ptr<detail::JobResult<R>>(new Job(std::forward<F>(f), std::forward<Args>(args)...)));
}

}  // namespace aio
