#pragma once
// aio::EventLoop: asyncio's event loop, on one io_uring ring.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/callback_handle.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/signals.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"
#include "aio/uring/setup_options.hpp"

namespace aio {

struct LoopOptions {
  /// How the kernel runs completion work for the ring (automatic, defer,
  /// cooperative, plain; see aio/uring/setup_options.hpp).
  using TaskRun = uring::TaskRun;
  /// Whether an optional io_uring setup flag is used (automatic, required:
  /// a kernel that refuses it makes the constructor throw EINVAL, disabled).
  using Feature = uring::Feature;

  /// The ring's submission queue size (1..32768). A full queue is flushed,
  /// never an error, so this bounds only how much one submit carries.
  unsigned entries = 256;
  /// The completion queue size; 0: 4 × entries. Completions beyond it are
  /// kept by the kernel (IORING_FEAT_NODROP) and delivered later.
  unsigned cq_entries = 0;
  TaskRun taskrun = TaskRun::automatic;
  /// IORING_SETUP_NO_MMAP (Linux 6.5): the loop provides the ring's memory,
  /// from a per-thread cache reused from loop to loop (one 2 MiB block,
  /// a transparent huge page where available), instead of the kernel
  /// allocating it and the loop mmap()ing it: the cheapest setup and teardown.
  Feature no_mmap = Feature::automatic;
  /// IORING_SETUP_NO_SQARRAY (Linux 6.6): the kernel takes SQEs in ring
  /// order, without the SQ index array.
  Feature no_sqarray = Feature::automatic;
  /// Debug mode; unset: on when the environment variable AIO_DEBUG is 1.
  std::optional<bool> debug{};
  /// Reuse the ring: a loop closed on its creating thread with its ring
  /// quiesced (nothing in flight, nothing registered, CQ empty) leaves the
  /// ring, and its wake-up eventfd, in a per-thread cache of one, which the
  /// same thread's next loop with the same sizes and flags takes instead of
  /// setting up a fresh ring (no syscall). Closed at thread exit; never
  /// used by a forked child. `false`: always a fresh ring (paced so that
  /// the rings the kernel is still tearing down stay bounded).
  bool reuse_ring = true;
  /// A signal number (e.g. SIGUSR1) that makes the loop write dump_tasks()
  /// to stderr, on its own thread, each time the signal arrives: for a
  /// program that hangs (`kill -USR1 <pid>`; asyncio's `python -m asyncio
  /// pstree`). Registered as add_signal_handler(sig) is, with its rules; 0:
  /// off. The constructor throws ValueError for an invalid number, SIGKILL
  /// or SIGSTOP, RuntimeError if another loop handles the signal.
  int dump_tasks_on = 0;
};

/// asyncio's event loop on one io_uring ring. Create, run and close it on
/// one thread (the ring is single-issuer); from other threads, only
/// call_soon_threadsafe may be used. Not movable.
class EventLoop {
 public:
  using clock = std::chrono::steady_clock;

  /// Sets up the ring (or takes this thread's cached one, see
  /// LoopOptions::reuse_ring) and the wake-up eventfd. Throws:
  /// std::system_error naming the cause when they cannot be created
  /// (io_uring missing: ENOSYS; disabled by kernel.io_uring_disabled or
  /// seccomp: EPERM; memory or memlock: ENOMEM, after a bounded wait for
  /// the kernel to free rings closed earlier; bad sizes: EINVAL; kernel too
  /// old, naming the missing operation or flag: EOPNOTSUPP; no descriptor
  /// left for the eventfd: EMFILE).
  explicit EventLoop(LoopOptions options = {});
  /// Closes the loop (see close()). Never throws nor terminates: when
  /// close() cannot run here (another thread, operations in flight on a
  /// single-issuer ring) it reports on stderr and leaks the loop's memory
  /// and ring instead (the kernel may still write into it).
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs the loop until `task` is done and returns its result or rethrows
  /// its exception (CancelledError if it was cancelled). Other tasks stay as
  /// they are. As in asyncio, a task that waits for something that never
  /// happens keeps the loop waiting (another thread may still call
  /// call_soon_threadsafe). Throws: RuntimeError if the loop is closed or
  /// already running, or if another loop runs on this thread.
  template <class T>
  T run_until_complete(Task<T> task) {
    TaskHandle<T> handle = create_task(std::move(task));
    return run_until_complete(std::move(handle));
  }
  template <class T>
  T run_until_complete(TaskHandle<T> handle) {
    if (!handle) throw InvalidStateError("run_until_complete: empty TaskHandle");
    if (&handle.state_ptr()->loop() != &core_) {
      throw RuntimeError("run_until_complete: the task belongs to another event loop");
    }
    core_.run_until_done(*handle.state_ptr());
    return handle.state_ptr()->read_result(1);  // other copies of the handle keep it
  }

  /// Schedules `task` to start at the next iteration (loop.create_task).
  /// Throws: RuntimeError if the loop is closed, or in debug mode when
  /// called from another thread while the loop runs.
  template <class T>
  TaskHandle<T> create_task(Task<T> task, std::string name = {},
                            detail::CallSite where = detail::CallSite::current()) {
    core_.check_thread();
    TaskHandle<T> handle(detail::spawn(core_, std::move(task), std::move(name)));
    detail::note_creation_site(handle.state_ptr(), where);
    return handle;
  }
  /// create_task of a callable returning a Task (kept alive inside the task)
  /// or of any awaitable; see aio::create_task.
  template <class X>
    requires(detail::TaskFactory<X> || detail::OtherAwaitable<X>)
  auto create_task(X&& x, std::string name = {}, detail::CallSite where = detail::CallSite::current()) {
    return create_task(detail::as_task(std::forward<X>(x)), std::move(name), where);
  }

  /// Cancels every kernel operation still in flight and waits for all their
  /// completions, then destroys the frames of unfinished tasks (they end
  /// cancelled; their handles stay valid), waits for the to_thread calls
  /// still running on worker threads (a thread cannot be stopped; their
  /// results are discarded) and joins the workers, and tears the ring down.
  /// Scheduled callbacks, also those posted by call_soon_threadsafe, are
  /// dropped; later call_soon_threadsafe calls throw. Idempotent. An
  /// operation that ignores its cancellation is waited for (its memory may
  /// still be written), with a report on stderr every 5 s naming how many.
  /// Throws: RuntimeError while running, or when called on a thread other
  /// than the loop's creator while kernel operations are in flight on a
  /// single-issuer ring (the kernel accepts the cancels only from there).
  /// Then the loop stays open: close it on its thread.
  void close() { core_.close(); }
  bool is_closed() const noexcept { return core_.is_closed(); }
  bool is_running() const noexcept { return core_.is_running(); }

  /// The loop's monotonic clock (loop.time()).
  clock::time_point time() const noexcept { return clock::now(); }

  /// Runs `f()` at the next iteration, after the callbacks and task steps
  /// already scheduled (FIFO). An exception from `f` is reported on stderr
  /// and the loop goes on. Not thread-safe: see call_soon_threadsafe.
  /// Throws: RuntimeError if the loop is closed, or in debug mode when
  /// called from another thread while the loop runs (as call_later, call_at).
  template <class F>
  CallbackHandle call_soon(F&& f) {
    auto* cb = make_callback(std::forward<F>(f));
    core_.schedule(cb);
    return CallbackHandle(cb);
  }
  /// Runs `f()` on the loop's thread at its next iteration; callable from
  /// any thread (loop.call_soon_threadsafe). Calls from one thread run in
  /// the order they were made. A loop blocked waiting for I/O or timers is
  /// woken at once, through its ring (an eventfd read armed on it), also when
  /// the caller got the loop before it ran. `f` is moved into the loop
  /// before this returns; it runs, and is destroyed, on the loop's thread.
  /// An exception from `f` is reported on stderr and the loop goes on.
  /// Unlike asyncio's, returns no handle: a CallbackHandle is not thread-safe.
  /// The EventLoop object must outlive the call (the loop may be closed).
  /// Throws: RuntimeError if the loop is closed; std::bad_alloc.
  template <class F>
  void call_soon_threadsafe(F&& f) {
    auto* cb = new detail::Callback<std::decay_t<F>>(core_, std::forward<F>(f));
    if (!core_.post(cb)) {
      cb->release();
      throw RuntimeError("aio: the event loop is closed");
    }
  }

  /// Runs `f()` once `delay` has passed (never earlier); equal deadlines run
  /// in the order they were scheduled.
  template <class Rep, class Period, class F>
  CallbackHandle call_later(std::chrono::duration<Rep, Period> delay, F&& f) {
    auto* cb = make_callback(std::forward<F>(f));
    cb->deadline = detail::deadline_after(detail::LoopCore::now(), detail::to_ns_ceil(delay));
    core_.add_timer(cb);
    return CallbackHandle(cb);
  }
  /// Runs `f()` once the loop's clock reaches `when` (`loop.time() + d`, of
  /// any precision, e.g. `std::chrono::duration<double>(0.5)`; rounded up).
  template <class Duration, class F>
  CallbackHandle call_at(std::chrono::time_point<clock, Duration> when, F&& f) {
    auto* cb = make_callback(std::forward<F>(f));
    cb->deadline = detail::to_ns_ceil(when.time_since_epoch());
    core_.add_timer(cb);
    return CallbackHandle(cb);
  }

  /// Debug mode (asyncio's): every task step or callback that holds the loop
  /// at least slow_callback_duration() is reported on stderr
  /// ("Executing <Task name=...> took 0.153 seconds"); a task that failed
  /// while debug mode was on, and whose exception nobody retrieved (by
  /// awaiting it, result(), exception() or gather), is reported when its
  /// last reference goes ("Task exception was never retrieved: <Task
  /// finished name=... exception=std::runtime_error('...')>"); and
  /// call_soon, call_later, call_at and create_task from a thread other than
  /// the running loop's throw RuntimeError instead of corrupting the loop.
  /// Off by default; on when LoopOptions::debug says so or, if unset, when
  /// the environment variable AIO_DEBUG is 1.
  void set_debug(bool enabled) noexcept { core_.set_debug(enabled); }

  /// Writes every live (unfinished) task of this loop to `os`, oldest first:
  /// its name, its state (not started, ready, running, waiting; the pending
  /// cancellation requests), and its call graph (aio::format_call_graph:
  /// where each of its coroutines waits, and the tasks awaiting it). Call it
  /// on the loop's thread (LoopOptions::dump_tasks_on does it for a signal).
  /// Throws: std::bad_alloc; what `os` throws.
  void dump_tasks(std::ostream& os) const;
  bool get_debug() const noexcept { return core_.debug(); }
  template <class Rep, class Period>
  void set_slow_callback_duration(std::chrono::duration<Rep, Period> d) noexcept {
    core_.set_slow_step(std::chrono::nanoseconds(detail::to_ns_ceil(d)));
  }
  std::chrono::nanoseconds slow_callback_duration() const noexcept { return core_.slow_step(); }

  /// Runs `f()` on this loop's thread, at its next iteration, each time the
  /// signal `sig` arrives (loop.add_signal_handler); replaces this loop's
  /// earlier handler for `sig`. Whatever thread the kernel delivers the
  /// signal to (a to_thread worker, a thread of the program's), the
  /// process-wide handler installed here records it and wakes this loop
  /// through its ring. Rule: while a handler is registered, the program must
  /// not change the signal's disposition itself (signal, sigaction) and must
  /// not block the signal in every thread. Signals arriving together before
  /// the loop looks are coalesced (as the kernel coalesces them). Interrupted
  /// system calls restart (SA_RESTART). The disposition replaced is restored
  /// by remove_signal_handler and when the loop closes.
  /// Throws: ValueError for an invalid number, SIGKILL or SIGSTOP;
  /// RuntimeError if the loop is closed or another loop handles `sig`;
  /// std::system_error if eventfd or sigaction fails.
  template <class F>
  void add_signal_handler(int sig, F&& f) {
    core_.check_thread();
    detail::add_signal_handler(core_, sig, std::function<void()>(std::forward<F>(f)), false);
  }
  /// Removes the handler for `sig` and restores the disposition it replaced;
  /// returns whether one was registered (loop.remove_signal_handler).
  /// Throws: ValueError for an invalid number.
  bool remove_signal_handler(int sig) { return detail::remove_signal_handler(core_, sig); }

  /// The io_uring setup flags in use, e.g. "SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG|...".
  std::string ring_flags() const;

 private:
  friend detail::LoopCore& detail::core_of(EventLoop& loop) noexcept;

  template <class F>
  detail::CallbackBase* make_callback(F&& f) {
    core_.check_thread();
    // While close() destroys frames a destructor may still schedule: it is dropped.
    if (!core_.accepts_work()) throw RuntimeError("aio: the event loop is closed");
    return new detail::Callback<std::decay_t<F>>(core_, std::forward<F>(f));
  }

  detail::LoopCore core_;
};

namespace detail {
/// The engine behind `loop`, for the runtime's own parts (Runner,
/// run_coroutine_threadsafe) and white-box tests; not part of the API.
inline LoopCore& core_of(EventLoop& loop) noexcept { return loop.core_; }
}  // namespace detail

/// The loop running on this thread (asyncio.get_running_loop).
/// Throws: RuntimeError when none is running.
EventLoop& get_running_loop();

}  // namespace aio
