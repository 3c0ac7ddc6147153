#pragma once
// Turning what create_task and gather accept into a Task: a Task as it is, a
// callable that returns a Task (kept alive in the new frame, as folly's
// co_invoke), or any other awaitable (awaited by a small coroutine).

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "aio/detail/awaitable_traits.hpp"
#include "aio/task.hpp"

namespace aio::detail {

template <class A>
inline constexpr bool is_aio_task_v = false;
template <class T>
inline constexpr bool is_aio_task_v<Task<T>> = true;

/// A callable taking no argument whose call returns an aio::Task: a lambda
/// coroutine, `[x]() -> aio::Task<int> { ... }`.
template <class F>
concept TaskFactory = !is_aio_task_v<std::remove_cvref_t<F>> && std::invocable<std::decay_t<F>&> &&
                      is_aio_task_v<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>;

template <class F>
using factory_task_t = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>;

/// Something `co_await` accepts that is neither a Task nor a callable:
/// `aio::sleep(d)`, `q.get()`, `aio::read(fd, buf)`, a gather...
template <class A>
concept OtherAwaitable = !is_aio_task_v<std::remove_cvref_t<A>> && !TaskFactory<A> && requires(awaiter_t<A&&>& a) {
  a.await_ready();
  a.await_resume();
};

/// `f` is a parameter, so it lives in this coroutine's frame until the Task
/// its call returned has finished: a lambda's captures never dangle.
template <class F, class T = typename factory_task_t<F>::value_type>
Task<T> invoke_owned(F f) {
  if constexpr (std::is_void_v<T>) {
    co_await std::invoke(f);
  } else {
    co_return co_await std::invoke(f);
  }
}

template <class A>
using owned_await_result_t = std::remove_cvref_t<await_result_t<A&&>>;

/// Awaits `aw`, held by value in the frame.
template <class A, class T = owned_await_result_t<A>>
Task<T> await_owned(A aw) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(aw);
  } else {
    co_return co_await std::move(aw);
  }
}

/// The Task create_task and gather run for `x`.
template <class X>
auto as_task(X&& x) {
  using D = std::remove_cvref_t<X>;
  if constexpr (is_aio_task_v<D>) {
    return D(std::forward<X>(x));
  } else if constexpr (TaskFactory<X>) {
    return invoke_owned<std::decay_t<X>>(std::forward<X>(x));
  } else {
    static_assert(!std::is_lvalue_reference_v<X>,
                  "aio: pass an awaitable such as aio::sleep(d) by value (it is awaited once)");
    static_assert(std::is_move_constructible_v<D>,
                  "aio: the awaitable must be movable; wrap it in a coroutine (a Task)");
    return await_owned<D>(D(std::forward<X>(x)));
  }
}

template <class X>
using as_task_t = decltype(as_task(std::declval<X>()));

}  // namespace aio::detail
