#pragma once
// aio::Runner: asyncio.Runner, one event loop that runs many main tasks.

#include <utility>

#include "aio/detail/signals.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {
/// Installs (once) a terminate handler that names an uncaught CancelledError
/// and its message on stderr, then calls the handler it replaced.
void report_uncaught_cancel() noexcept;
}  // namespace detail

/// Owns one event loop and runs tasks on it one after the other
/// (asyncio.Runner): `Runner r; r.run(setup()); r.run(serve());`.
/// aio::run(main) is `Runner r(options); return r.run(main)` then close().
/// Unlike asyncio's, the loop is set up by the constructor, not at first use:
/// create the Runner on the thread that runs it (the ring is single-issuer).
/// Not copyable, not movable.
class Runner {
 public:
  /// Creates the loop. Throws: std::system_error if the ring cannot be set
  /// up (see EventLoop::EventLoop).
  explicit Runner(LoopOptions options = {});
  /// close(); an error there is reported on stderr, not thrown.
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Runs `main` as a task of the loop until it is done, and returns its
  /// result or rethrows its exception (CancelledError if it was cancelled;
  /// aio::run then names an uncaught one on stderr, see aio::run). Tasks
  /// that `main` created and left running stay as they are: the next run()
  /// runs them on, close() cancels them.
  /// Ctrl-C (asyncio.Runner's rule): on the main thread, when SIGINT has its
  /// default disposition and the loop has no SIGINT handler, the first
  /// SIGINT cancels `main`; its cleanup runs and, if `main` ends cancelled
  /// with no other cancellation outstanding (uncancel() reaches 0), run
  /// throws aio::KeyboardInterrupt (not a std::exception). SIG_DFL is back
  /// from that SIGINT on (a second one ends the program as SIGINT does), and
  /// when run returns.
  /// The SIGINT is acted on when the step that was running ends (or when the
  /// loop wakes), not inside the step as in CPython; so a main already
  /// cancelled by another task and then interrupted ends with CancelledError
  /// as in asyncio (test_interrupt_cancelled_task). Known divergence: a
  /// SIGINT raised in the very step in which `main` returns is too late to
  /// cancel it, and run returns the result where asyncio throws
  /// KeyboardInterrupt.
  /// Throws: RuntimeError "Runner.run() cannot be called from a running event
  /// loop" when a loop runs on this thread (`main` is destroyed unrun);
  /// RuntimeError "Runner is closed" after close(); what the loop's run
  /// throws (e.g. RuntimeError on another thread than the loop's creator).
  template <class T>
  T run(Task<T> main) {
    if (detail::tls_running_loop != nullptr) {
      throw RuntimeError("Runner.run() cannot be called from a running event loop");
    }
    if (closed_) throw RuntimeError("Runner is closed");
    TaskHandle<T> handle = loop_.create_task(std::move(main));
    detail::TaskState<T>& state = *handle.state_ptr();
    {
      detail::SigintGuard sigint(detail::core_of(loop_), state);
      detail::core_of(loop_).run_until_done(state);
      sigint.restore();
      sigint.rethrow_if_interrupted(state);
    }
    if (handle.cancelled()) detail::report_uncaught_cancel();
    return state.read_result(1);  // moved out unless `main` handed its handle on
  }

  /// The loop (asyncio.Runner.get_loop). Throws: RuntimeError "Runner is
  /// closed" after close().
  EventLoop& get_loop();

  /// Cancels every task still unfinished and runs the loop until they are
  /// done (their cleanup runs), then closes the loop (EventLoop::close).
  /// Idempotent; later run() and get_loop() throw RuntimeError. Throws:
  /// RuntimeError when called while the loop runs (from one of its tasks;
  /// the Runner stays open); what EventLoop::close throws (the Runner is
  /// closed then, as asyncio's).
  void close();

 private:
  EventLoop loop_;
  bool closed_ = false;
};

}  // namespace aio
