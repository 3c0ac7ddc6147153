#pragma once
// aio::Task<T>: the coroutine type of aio (asyncio's `async def`).

#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/detail/awaitable_traits.hpp"
#include "aio/detail/call_site.hpp"
#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Task;

namespace detail {

/// What a Task's promise returns from await_transform for an awaiter that
/// has no operator co_await: the awaiter by address. (g++ 12 copies an
/// awaiter that await_transform returns by reference, which a non-copyable
/// awaiter refuses; this pointer is what it copies instead.)
template <class A>
class AwaitRef {
 public:
  explicit AwaitRef(A& a) noexcept : a_(&a) {}
  decltype(auto) await_ready() { return a_->await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return a_->await_suspend(h);
  }
  decltype(auto) await_resume() { return a_->await_resume(); }

 private:
  A* a_;
};

template <class A>
concept HasFreeCoAwait = requires(A&& a) { operator co_await(static_cast<A&&>(a)); };

struct PromiseBase {
  // A frame is awaited inline by a coroutine or is the root of a task, never
  // both: one word for either keeps every frame small. Both are aligned to
  // at least 8, so the word's low bits carry the frame's three flags.
  std::uintptr_t link = 0;  // the awaiting coroutine's address, or the TaskBase; | flags
  // While the body runs: the co_await the frame is suspended in (call graphs,
  // slow-step reports). Once it ended (kCompleted): how, null if it returned.
  // Never both, so one word holds either.
  union {
    AwaitSite site;
    std::exception_ptr error_;
  };

  static constexpr std::uintptr_t kRoot = 1;       // link is the TaskBase
  static constexpr std::uintptr_t kCancelled = 2;  // error_ is a CancelledError
  static constexpr std::uintptr_t kCompleted = 4;  // the body ended (returned, threw, or failed through FailAwaiter)
  static constexpr std::uintptr_t kFlags = 7;

  PromiseBase() noexcept : site() {}
  PromiseBase(const PromiseBase&) = delete;
  PromiseBase& operator=(const PromiseBase&) = delete;
  // Every way out of the body sets error_ (set_error) and then completes
  // without a suspension in between: a completed frame holds error_.
  ~PromiseBase() {
    if (completed()) error_.~exception_ptr();
  }

  bool is_root() const noexcept { return (link & kRoot) != 0; }
  bool completed() const noexcept { return (link & kCompleted) != 0; }
  bool exception_is_cancel() const noexcept { return (link & kCancelled) != 0; }
  /// The exception the body ended with (null: it returned). Only once completed().
  const std::exception_ptr& exception() const noexcept { return error_; }
  /// The body ended, by returning (null) or with `e`: error_ replaces site.
  void set_error(std::exception_ptr e, bool cancelled) noexcept {
    ::new (static_cast<void*>(&error_)) std::exception_ptr(std::move(e));
    link = (link & ~kCancelled) | (cancelled ? kCancelled : 0);
  }
  /// The awaiting coroutine's frame (null for a root).
  void* parent() const noexcept { return is_root() ? nullptr : reinterpret_cast<void*>(link & ~kFlags); }
  TaskBase* root_task() const noexcept { return is_root() ? reinterpret_cast<TaskBase*>(link & ~kFlags) : nullptr; }

  void set_continuation(std::coroutine_handle<> awaiting) noexcept {
    link = reinterpret_cast<std::uintptr_t>(awaiting.address()) | (link & kFlags);
  }
  void set_root(TaskBase* task) noexcept { link = reinterpret_cast<std::uintptr_t>(task) | kRoot; }

  /// Every co_await in a Task body passes here: the site is recorded (one
  /// store), then the awaitable's awaiter is what it would have been.
  template <class A>
  decltype(auto) await_transform(A&& awaitable, AwaitSite::Arg where = AIO_AWAIT_SITE_HERE) {
    site = AwaitSite(where);
    if constexpr (HasMemberCoAwait<A>) {
      return static_cast<A&&>(awaitable).operator co_await();
    } else if constexpr (HasFreeCoAwait<A>) {
      return operator co_await(static_cast<A&&>(awaitable));
    } else {
      return AwaitRef<std::remove_reference_t<A>>(awaitable);
    }
  }

  /// The body is over: hand control to the awaiting coroutine, or end the
  /// task (which frees this frame).
  void complete() noexcept {
    link |= kCompleted;
    if (is_root()) {
      root_task()->finish_root();
    } else {
      tls_next_resume = std::coroutine_handle<>::from_address(parent());
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
  void unhandled_exception() noexcept { set_error(std::current_exception(), handling_cancelled_error()); }

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
    p.set_error(std::move(error), cancelled);
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
    set_error(nullptr, false);
  }
  T take_result() {
    if (exception()) std::rethrow_exception(exception());
    return std::move(*value);
  }
};

template <>
struct Promise<void> final : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept { set_error(nullptr, false); }
  void take_result() const {
    if (exception()) std::rethrow_exception(exception());
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
      if (h_.promise().completed()) throw RuntimeError("aio::Task: cannot reuse an already awaited Task");
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
    return t.h_.promise().exception() && t.h_.promise().exception_is_cancel();
  }
  /// The exception the body ended with, null if it returned.
  template <class T>
  static std::exception_ptr error(const Task<T>& t) noexcept {
    return t.h_.promise().exception();
  }
  template <class T>
  static T result(Task<T>& t) {
    return t.h_.promise().take_result();
  }
};

/// The promise of any Task frame, from the frame's address (the call graph
/// walks frames of unknown result type). Every Promise<T> is a PromiseBase at
/// offset 0, and g++ and clang place the promise right after the frame's
/// resume and destroy pointers for any alignment up to 16.
inline PromiseBase& promise_of(void* frame) noexcept {
  return std::coroutine_handle<PromiseBase>::from_address(frame).promise();
}

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  static_assert(alignof(Promise<T>) <= 16, "promise_of needs the promise at the frame's offset 16");
  return Task<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace aio
