#pragma once
// aio::async_with: Python's `async with resource as r: body`.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {

template <class R, class F>
using with_body_t = std::invoke_result_t<F&, R&>;

template <class R, class F, class T = typename with_body_t<R, F>::value_type>
Task<T> async_with_impl(R resource, F body) {
  co_await resource.aenter();
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await body(resource);
    } else {
      result.emplace(co_await body(resource));
    }
  } catch (...) {
    error = std::current_exception();
  }
  // aexit runs on return, on exception and on cancellation alike; the
  // CancelledError was consumed by the throw, so aexit's own awaits run.
  const bool suppress = co_await resource.aexit(error);
  if (error && !suppress) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) {
    if (result) co_return std::move(*result);
    // The body's exception was suppressed: its result is value-initialised.
    if constexpr (std::is_default_constructible_v<T>) {
      co_return T{};
    } else {
      throw RuntimeError("aio::async_with: aexit suppressed the body's exception, and its result type has no default");
    }
  }
}

}  // namespace detail

/// `async with resource as r: body(r)`.
///
/// `resource` has `aio::Task<> aenter()` and `aio::Task<bool>
/// aexit(std::exception_ptr)`. Awaits `aenter()`, then `body(resource)` (a
/// callable returning `aio::Task<T>`), then always `aexit(e)` — with a null
/// `e` when the body returned, the body's exception when it threw, the
/// CancelledError when it was cancelled. If `aexit` returns true the
/// exception is suppressed (and a non-void result is value-initialised, or,
/// if its type has no default, RuntimeError is thrown);
/// otherwise it propagates after `aexit`, a cancellation included. If
/// `aenter` throws, neither the body nor `aexit` runs. An rvalue resource
/// is moved into the operation; an lvalue is used in place. `body` is kept
/// alive (moved in) until it finished.
/// Throws: whatever aenter, the body or aexit throw.
/// Cancel safety: aexit always runs once aenter succeeded.
template <class R, class F>
auto async_with(R&& resource, F body) {
  return detail::async_with_impl<R>(std::forward<R>(resource), std::move(body));
}

}  // namespace aio
