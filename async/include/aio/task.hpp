#pragma once
// aio::Task<T>: the coroutine type of aio (asyncio's `async def`).

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Task;

namespace detail {

struct PromiseBase {
  // A frame is awaited inline by a coroutine or is the root of a task, never
  // both: one pointer for either keeps every frame 8 bytes smaller.
  void* link = nullptr;  // the awaiting coroutine's address, or the TaskBase
  std::exception_ptr exception;
  bool is_root = false;
  bool exception_is_cancel = false;
  bool completed = false;  // the body ended (returned, threw, or failed through FailAwaiter)

  void set_continuation(std::coroutine_handle<> awaiting) noexcept { link = awaiting.address(); }
  void set_root(TaskBase* task) noexcept {
    link = task;
    is_root = true;
  }

  /// The body is over: hand control to the awaiting coroutine, or end the
  /// task (which frees this frame).
  void complete() noexcept {
    completed = true;
    if (is_root) {
      static_cast<TaskBase*>(link)->finish_root();
    } else {
      tls_next_resume = std::coroutine_handle<>::from_address(link);
    }
  }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      h.promise().complete();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept {
    exception = std::current_exception();
    exception_is_cancel = handling_cancelled_error();
  }

  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
};

/// `co_await fail(e)` ends the current coroutine with the exception `e`, as
/// if its body had thrown it, but without throwing: the awaiting coroutine
/// gets `e` from its co_await. An exception costs an unwinding (about 1.3 µs
/// here) per frame it is thrown through; this saves one where the runtime
/// only passes a failure on. The frame stays suspended at this point until
/// its owner destroys it, which then destroys the locals still in scope.
class FailAwaiter {
 public:
  // Not an aggregate: g++ 12 may destroy a co_awaited aggregate temporary twice.
  FailAwaiter(std::exception_ptr e, bool cancelled) noexcept : error(std::move(e)), cancelled(cancelled) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    PromiseBase& p = h.promise();
    // A CancelledError passed on ends the task cancelled, as if thrown.
    p.exception_is_cancel = cancelled;
    p.exception = std::move(error);
    p.complete();
  }
  [[noreturn]] void await_resume() const noexcept { std::terminate(); }  // never resumed

 private:
  std::exception_ptr error;
  bool cancelled;
};

/// `cancelled`: `e` is a CancelledError (the caller knows; no type test).
inline FailAwaiter fail(std::exception_ptr e, bool cancelled = false) noexcept {
  return FailAwaiter(std::move(e), cancelled);
}

/// The runtime's access to a Task's frame.
struct TaskAccess;

template <class T>
struct Promise final : PromiseBase {
  std::optional<T> value;

  Task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  T take_result() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
};

template <>
struct Promise<void> final : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take_result() const {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace detail

/// A coroutine returning T (`aio::Task<>` for none), asyncio's `async def`.
///
/// Lazy: the body does not start until the Task is awaited (`co_await f()`,
/// which runs it inline in the awaiting task, as Python's `await coro()`), or
/// handed to `create_task`, `gather`, `run` or `run_until_complete`. Move-only;
/// destroying a Task that never ran destroys its frame without running it.
///
/// `co_await task` returns the body's result or rethrows its exception.
/// Throws: RuntimeError when the Task is awaited a second time,
/// InvalidStateError when it is empty (moved from).
/// Cancel safety: awaiting adds no suspension point of its own; a cancellation
/// is thrown where the body is suspended.
template <class T = void>
class [[nodiscard]] Task {
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported: return a pointer or a value");

 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(handle_type h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  /// False for a default-constructed or moved-from Task.
  bool valid() const noexcept { return static_cast<bool>(h_); }

  class Awaiter {
   public:
    explicit Awaiter(handle_type h) noexcept : h_(h) {}
    bool await_ready() const {
      if (!h_) throw InvalidStateError("aio::Task: awaiting an empty Task");
      if (h_.promise().completed) throw RuntimeError("aio::Task: cannot reuse an already awaited Task");
      return false;
    }
    void await_suspend(std::coroutine_handle<> awaiting) const noexcept {
      h_.promise().set_continuation(awaiting);
      detail::tls_next_resume = h_;  // the step's trampoline starts the body
    }
    T await_resume() const { return h_.promise().take_result(); }

   private:
    handle_type h_;
  };

  Awaiter operator co_await() const& noexcept { return Awaiter{h_}; }
  Awaiter operator co_await() const&& noexcept { return Awaiter{h_}; }

  /// Gives up ownership of the frame (used by create_task).
  handle_type release() noexcept { return std::exchange(h_, {}); }

 private:
  friend struct detail::TaskAccess;
  void reset() noexcept {
    if (h_) h_.destroy();
    h_ = {};
  }

  handle_type h_;
};

namespace detail {

struct TaskAccess {
  /// Awaits `t` inline like `co_await t`, but leaves its outcome in the
  /// promise (no rethrow): inspect it with cancelled() and take it with result().
  template <class T>
  static auto settle(Task<T>& t) {
    struct Settle : Task<T>::Awaiter {
      using Task<T>::Awaiter::Awaiter;
      void await_resume() const noexcept {}
    };
    return Settle{t.h_};
  }
  /// The body ended by letting a CancelledError escape.
  template <class T>
  static bool cancelled(const Task<T>& t) noexcept {
    return t.h_.promise().exception && t.h_.promise().exception_is_cancel;
  }
  /// The exception the body ended with, null if it returned.
  template <class T>
  static std::exception_ptr error(const Task<T>& t) noexcept {
    return t.h_.promise().exception;
  }
  template <class T>
  static T result(Task<T>& t) {
    return t.h_.promise().take_result();
  }
};

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace aio
