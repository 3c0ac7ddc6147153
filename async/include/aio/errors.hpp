#pragma once
// The exceptions of aio, named after asyncio's.

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aio {

/// Thrown at the await where a cancelled task is suspended (asyncio.CancelledError).
///
/// Deliberately not derived from `std::exception`, as asyncio's is a
/// `BaseException`: `catch (const std::exception&)` never swallows a
/// cancellation. Catch it only to clean up, then rethrow.
class CancelledError final {
 public:
  CancelledError() = default;
  explicit CancelledError(std::string message) : message_(std::move(message)) {}
  /// The message given to `TaskHandle::cancel(msg)`, empty if none.
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept { return message_.empty() ? "CancelledError" : message_.c_str(); }

 private:
  std::string message_;
};

/// Python's KeyboardInterrupt: aio::run ended because of Ctrl-C (SIGINT).
///
/// Like CancelledError not derived from `std::exception` (Python's is a
/// `BaseException`): `catch (const std::exception&)` does not swallow it.
class KeyboardInterrupt final {
 public:
  const char* what() const noexcept { return "KeyboardInterrupt"; }
};

/// asyncio's RuntimeError: a misuse of the loop (nested run, no running loop, closed loop).
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// asyncio.InvalidStateError: e.g. `result()` of a task that is not done.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Python's ValueError: e.g. `task_done()` called more times than items were put.
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// asyncio.TimeoutError (TimeoutError): a `wait_for` whose deadline passed first.
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError() : std::runtime_error("TimeoutError") {}
  using std::runtime_error::runtime_error;
};

/// asyncio.QueueFull: `put_nowait` on a full queue.
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("QueueFull") {}
};

/// asyncio.QueueEmpty: `get_nowait` on an empty queue.
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("QueueEmpty") {}
};

/// asyncio.QueueShutDown: `put` after `shutdown()`, or `get` once a shut-down queue is empty.
class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("QueueShutDown") {}
};

/// Python's ExceptionGroup: several children of a TaskGroup failed.
class ExceptionGroup : public std::runtime_error {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
      : std::runtime_error(std::move(message)), exceptions_(std::move(exceptions)) {}
  /// The failures, in the order they happened; never a CancelledError.
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

}  // namespace aio
