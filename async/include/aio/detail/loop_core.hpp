#pragma once
// The engine behind aio::EventLoop: ready queue, timers, live tasks, and the
// io_uring driver (kept out of line so <liburing.h> stays out of this header).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

#include "aio/detail/concurrent_state.hpp"
#include "aio/detail/intrusive_list.hpp"
#include "aio/detail/remote_queue.hpp"
#include "aio/detail/runnable.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"

namespace aio {
struct LoopOptions;
class EventLoop;
}
namespace aio::uring {
struct Completion;
}

namespace aio::detail {

class Driver;
class ThreadPool;

/// Work run once per loop iteration, after the step's tasks ran and just
/// before the loop submits: a connection prepares one send SQE for
/// everything its tasks wrote during the step.
struct PreSubmit {
  void (*run)(PreSubmit* self) noexcept = nullptr;
  PreSubmit* next_presubmit = nullptr;
  bool presubmit_queued = false;
};

/// An object holding kernel resources (a socket, a listener) that the loop
/// must release when it closes. `loop_closed` runs inside close(), after
/// every kernel operation ended and before any task frame is destroyed: the
/// object closes its descriptors and must not touch the loop afterwards.
struct LoopResource : ListHook {
  void (*loop_closed)(LoopResource* self) noexcept = nullptr;
};

/// The loop's engine. Its state is private: the runtime's parts reach it
/// through the operations below, each of which keeps the loop's invariants
/// (a closed loop accepts no work, a timer is in the heap at most once, a
/// task is live until it ends or the loop closes).
class LoopCore {
 public:
  LoopCore(const LoopOptions& options, EventLoop* owner);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  static std::int64_t now() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // --- Running -------------------------------------------------------------

  /// Runs one iteration: what other threads posted, the runnables ready at
  /// its start, then I/O (blocking only when nothing is ready and the run's
  /// goal is not reached yet), then the timers that are due.
  /// The wait ends at a completion, the earliest timer, or a post from
  /// another thread (RemoteQueue); with none of them it lasts forever, as
  /// asyncio's: another thread may still post.
  void run_once();
  /// Runs until `task` is done. Throws: RuntimeError if the loop is closed or
  /// running, or if another loop runs on this thread.
  void run_until_done(TaskBase& task);
  /// asyncio.run's epilogue: cancel every unfinished task and run until they
  /// are done.
  void cancel_remaining();
  /// Cancels every kernel operation and reaps until none is in flight,
  /// destroys the unfinished tasks' frames, waits for the worker threads'
  /// running calls and joins them, then refuses posts from other threads.
  /// Throws RuntimeError if running.
  void close();
  /// When close() cannot run (see EventLoop::~EventLoop): marks the loop
  /// closed, joins the workers and leaks the ring and every unfinished
  /// task, whose memory the kernel may still write into.
  void leak() noexcept;

  EventLoop& owner() const noexcept { return *owner_; }
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  /// False once the loop is closed, except while close() destroys what is
  /// left: what a destructor schedules then is accepted and dropped.
  bool accepts_work() const noexcept { return !closed_ || closing_; }
  /// Whether the calling thread is the one running the loop now (any thread may ask).
  bool runs_on_this_thread() const noexcept {
    return running_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  // --- Work of this thread ---------------------------------------------------

  void schedule(Runnable* r) noexcept { ready_.push(r); }
  /// Runs `p->run` before this iteration's submit (once, however often asked).
  void before_submit(PreSubmit* p) noexcept {
    if (p->presubmit_queued) return;
    p->presubmit_queued = true;
    p->next_presubmit = presubmit_;
    presubmit_ = p;
  }
  /// Arms `n` for its deadline (`n->when`). Throws: std::bad_alloc.
  void add_timer(TimerNode* n) { timers_.push(n); }
  /// Disarms `n`, which must be armed; its slot is compacted away.
  void remove_timer(TimerNode* n) noexcept { timers_.remove(n); }
  std::size_t timer_count() const noexcept { return timers_.size(); }
  /// The heap's slots, live or not (bounded by a constant factor of timer_count()).
  std::size_t timer_footprint() const noexcept { return timers_.footprint(); }

  /// The task whose step is running, or null between steps.
  TaskBase* current() const noexcept { return current_; }
  /// Makes `t` one of the loop's unfinished tasks (it leaves the list when it ends).
  void add_task(TaskBase* t) noexcept { live_.push_back(t); }
  template <class F>
  void for_each_task(F&& f) const {
    const_cast<IntrusiveList<TaskBase>&>(live_).for_each(std::forward<F>(f));
  }
  /// `r` is released (loop_closed) when the loop closes, unless it unlinks itself first.
  void add_resource(LoopResource* r) noexcept { resources_.push_back(r); }
  /// The io_uring driver; only while the loop is not closed.
  Driver& driver() noexcept { return *driver_; }
  const Driver& driver() const noexcept { return *driver_; }
  bool has_driver() const noexcept { return driver_ != nullptr; }

  std::uint64_t next_task_id() noexcept { return next_task_id_++; }

  // --- Other threads ---------------------------------------------------------

  /// Hands `r` to the loop from any thread; it runs at the next iteration.
  /// Returns false (and keeps nothing) once the loop is closed.
  bool post(Runnable* r) noexcept { return remote_.post(r); }
  /// Whether a post is waiting for the next iteration (any thread may ask).
  bool has_posts() const noexcept { return remote_.pending(); }
  /// run_coroutine_threadsafe's pending futures, resolved at close.
  ConcurrentRegistry& concurrent() noexcept { return concurrent_; }
  /// to_thread's workers, started at the first call. Throws: std::bad_alloc.
  ThreadPool& pool();

  /// The Ctrl-C rule (SigintGuard): after `interrupt_flag()` was set (from
  /// a signal handler, which also writes wake_fd() to end a wait), the loop
  /// clears it and runs `hook(ctx)` when the running step ends, or at the
  /// start of the next iteration. A null hook disarms it. Loop thread only.
  void set_interrupt_hook(void (*hook)(void*), void* ctx) noexcept {
    interrupt_hook_ = hook;
    interrupt_ctx_ = ctx;
    interrupted_.store(false, std::memory_order_relaxed);
  }
  std::atomic<bool>& interrupt_flag() noexcept { return interrupted_; }
  int wake_fd() const noexcept { return remote_.wake_fd(); }

  // --- Debug mode ------------------------------------------------------------

  bool debug() const noexcept { return debug_; }
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  std::chrono::nanoseconds slow_step() const noexcept { return slow_step_; }
  void set_slow_step(std::chrono::nanoseconds d) noexcept { slow_step_ = d; }

  /// Debug mode (asyncio's _check_thread): throws RuntimeError when a
  /// non-thread-safe operation comes from a thread other than the one
  /// running the loop. Nothing is checked while the loop is not running.
  void check_thread() const {
    if (!debug_) return;
    const std::thread::id t = running_thread_.load(std::memory_order_relaxed);
    if (t != std::thread::id() && t != std::this_thread::get_id()) {
      throw RuntimeError(
          "Non-thread-safe operation invoked on an event loop other than the current one "
          "(use call_soon_threadsafe)");
    }
  }

 private:
  friend class TaskBase;  // sets current_ around each step
  class RunningScope;

  void drop_ready() noexcept;
  void run_presubmit() noexcept;
  void check_interrupt() {
    if (interrupt_hook_ != nullptr && interrupted_.load(std::memory_order_relaxed)) [[unlikely]] {
      interrupted_.store(false, std::memory_order_relaxed);
      interrupt_hook_(interrupt_ctx_);
    }
  }
  void wait_for_work();
  void cancel_in_flight();
  bool goal_reached() const noexcept { return goal_ != nullptr ? goal_->done() : live_.empty(); }

  EventLoop* owner_;
  ReadyQueue ready_;
  TaskBase* current_ = nullptr;
  TimerHeap timers_;
  IntrusiveList<TaskBase> live_;  // unfinished tasks
  IntrusiveList<LoopResource> resources_;  // sockets and listeners, released at close
  std::unique_ptr<Driver> driver_;
  RemoteQueue remote_;                // posts from other threads
  ConcurrentRegistry concurrent_;
  std::unique_ptr<ThreadPool> pool_;
  std::chrono::nanoseconds slow_step_{std::chrono::milliseconds(100)};
  bool debug_ = false;
  bool running_ = false;
  std::atomic<std::thread::id> running_thread_{};  // the thread running the loop, while it runs
  bool closed_ = false;
  bool closing_ = false;  // close() is destroying what is left (see accepts_work)
  std::thread::id creator_ = std::this_thread::get_id();  // the ring is bound to it
  void (*interrupt_hook_)(void*) = nullptr;
  void* interrupt_ctx_ = nullptr;
  std::atomic<bool> interrupted_{false};
  TaskBase* goal_ = nullptr;  // run_until_done's task; null: until no task is left
  PreSubmit* presubmit_ = nullptr;
  std::uint64_t next_task_id_ = 1;
};

LoopCore& core_of(EventLoop& loop) noexcept;  // defined in event_loop.hpp

inline thread_local LoopCore* tls_running_loop = nullptr;

/// Throws: RuntimeError when no loop runs on this thread.
LoopCore& running_loop();

/// The task whose step is running. Throws: RuntimeError outside a task.
TaskBase& current_task();

// Kernel operations, prepared on the loop's ring (submitted at the next
// iteration at the latest).
void submit_cancel(LoopCore& loop, const uring::Completion* target);

}  // namespace aio::detail
