#pragma once
// aio::run: asyncio.run.

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

/// Runs `main` on a new event loop and returns its result (asyncio.run):
/// when `main` is done, every task still unfinished is cancelled and awaited,
/// then the loop is closed; then main's result is returned or its exception
/// rethrown (CancelledError if it was cancelled). A CancelledError that
/// then leaves the program uncaught is named on stderr ("aio::run: the main
/// task was cancelled: aio::CancelledError('msg')...") before it aborts:
/// aio::run installs a terminate handler for that, the first time it throws
/// one, which hands every other case to the handler it replaced.
/// Ctrl-C (asyncio.Runner's rule): on the main thread, when SIGINT has its
/// default disposition, the first SIGINT cancels `main`; its cleanup runs
/// (catch blocks, async_with's aexit, TaskGroups) and, if `main` ends
/// cancelled, run throws aio::KeyboardInterrupt (not a std::exception).
/// SIG_DFL is back from the first SIGINT on: a second one during the
/// cleanup ends the program as SIGINT does.
/// Throws: RuntimeError if a loop is already running on this thread;
/// std::system_error if the ring cannot be set up (see EventLoop);
/// aio::KeyboardInterrupt after Ctrl-C (above).
template <class T>
T run(Task<T> main, LoopOptions options = {}) {
  if (detail::tls_running_loop != nullptr) {
    throw RuntimeError("aio::run() cannot be called from a running event loop");
  }
  EventLoop loop(std::move(options));
  TaskHandle<T> handle = loop.create_task(std::move(main));
  detail::SigintGuard sigint(loop.core(), *handle.state_ptr());
  try {
    loop.core().run_until_done(*handle.state_ptr());
  } catch (...) {
    loop.core().cancel_remaining();
    throw;
  }
  loop.core().cancel_remaining();
  loop.close();  // also puts SIGINT's disposition back
  sigint.rethrow_if_interrupted(*handle.state_ptr());
  if (handle.cancelled()) detail::report_uncaught_cancel();
  return handle.state_ptr()->read_result(1);
}

}  // namespace aio
