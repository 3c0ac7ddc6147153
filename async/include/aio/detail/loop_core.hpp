#pragma once
// The engine behind aio::EventLoop: ready queue, timers, live tasks, and the
// io_uring driver (kept out of line so <liburing.h> stays out of this header).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

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

struct LoopCore {
  explicit LoopCore(const LoopOptions& options);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  static std::int64_t now() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void schedule(Runnable* r) noexcept { ready.push(r); }
  /// Runs `p->run` before this iteration's submit (once, however often asked).
  void before_submit(PreSubmit* p) noexcept {
    if (p->presubmit_queued) return;
    p->presubmit_queued = true;
    p->next_presubmit = presubmit_;
    presubmit_ = p;
  }

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

  std::uint64_t next_task_id() noexcept { return next_task_id_++; }

  /// Debug mode (asyncio's _check_thread): throws RuntimeError when a
  /// non-thread-safe operation comes from a thread other than the one
  /// running the loop. Nothing is checked while the loop is not running.
  void check_thread() const {
    if (!debug) return;
    const std::thread::id t = running_thread.load(std::memory_order_relaxed);
    if (t != std::thread::id() && t != std::this_thread::get_id()) {
      throw RuntimeError(
          "Non-thread-safe operation invoked on an event loop other than the current one "
          "(use call_soon_threadsafe)");
    }
  }

  EventLoop* owner = nullptr;
  ReadyQueue ready;
  TaskBase* current = nullptr;  // the task whose step is running
  TimerHeap timers;
  IntrusiveList<TaskBase> live;  // unfinished tasks
  IntrusiveList<LoopResource> resources;  // sockets and listeners, released at close
  std::unique_ptr<Driver> driver;
  RemoteQueue remote;                // posts from other threads
  ConcurrentRegistry concurrent;     // run_coroutine_threadsafe's pending futures, resolved at close
  std::unique_ptr<ThreadPool> pool;  // to_thread's workers, from the first call
  std::chrono::nanoseconds slow_step{std::chrono::milliseconds(100)};
  bool debug = false;
  bool running = false;
  std::atomic<std::thread::id> running_thread{};  // the thread running the loop, while it runs
  bool closed = false;
  /// close() is destroying what is left: what a destructor schedules then
  /// (call_soon, create_task, call_later) is accepted and dropped, not thrown.
  bool closing = false;
  std::thread::id creator = std::this_thread::get_id();  // the ring is bound to it

 private:
  void drop_ready() noexcept;
  void run_presubmit() noexcept;
  void wait_for_work();
  void cancel_in_flight();
  bool goal_reached() const noexcept { return goal_ != nullptr ? goal_->done() : live.empty(); }

  TaskBase* goal_ = nullptr;  // run_until_done's task; null: until no task is left
  PreSubmit* presubmit_ = nullptr;
  std::uint64_t next_task_id_ = 1;
};

inline thread_local LoopCore* tls_running_loop = nullptr;

/// Throws: RuntimeError when no loop runs on this thread.
LoopCore& running_loop();

/// The task whose step is running. Throws: RuntimeError outside a task.
TaskBase& current_task();

// Kernel operations, prepared on the loop's ring (submitted at the next
// iteration at the latest).
void submit_cancel(LoopCore& loop, const uring::Completion* target);

}  // namespace aio::detail
