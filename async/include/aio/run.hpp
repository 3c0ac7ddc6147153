#pragma once
// aio::run: asyncio.run.

#include <type_traits>
#include <utility>

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/runner.hpp"
#include "aio/task.hpp"

namespace aio {

/// Runs `main` on a new event loop and returns its result (asyncio.run,
/// which is `with Runner() as r: return r.run(main)`): when `main` is done,
/// every task still unfinished is cancelled and awaited, then the loop is
/// closed; main's result is returned or its exception rethrown
/// (CancelledError if it was cancelled). A CancelledError that then leaves
/// the program uncaught is named on stderr ("aio::run: the main task was
/// cancelled: aio::CancelledError('msg')...") before it aborts: aio::run
/// installs a terminate handler for that, the first time it throws one,
/// which hands every other case to the handler it replaced.
/// Ctrl-C (asyncio.Runner's rule, see Runner::run): on the main thread, when
/// SIGINT has its default disposition, the first SIGINT cancels `main`; its
/// cleanup runs (catch blocks, async_with's aexit, TaskGroups) and, if
/// `main` ends cancelled, run throws aio::KeyboardInterrupt (not a
/// std::exception). SIG_DFL is back from the first SIGINT on, and while the
/// leftover tasks are cancelled: a second one ends the program as SIGINT does.
/// Throws: RuntimeError if a loop is already running on this thread (no loop
/// is made); std::system_error if the ring cannot be set up (see EventLoop);
/// aio::KeyboardInterrupt after Ctrl-C (above).
template <class T>
T run(Task<T> main, LoopOptions options = {}) {
  if (detail::tls_running_loop != nullptr) {
    throw RuntimeError("aio::run() cannot be called from a running event loop");
  }
  Runner runner(std::move(options));
  // On an exception the Runner's destructor cancels the leftovers and closes.
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(main));
    runner.close();
  } else {
    T result = runner.run(std::move(main));
    runner.close();
    return result;
  }
}

}  // namespace aio
