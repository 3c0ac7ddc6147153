#pragma once
// aio::async_with: Python's `async with resource as r: body`.

#include <exception>
#include <optional>
#include <tuple>
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

/// The resource is a local of this frame, built from the stored arguments:
/// no temporary of it exists in any co_await expression.
template <class Res, class Args, class F, std::size_t... I>
Task<typename with_body_t<Res, F>::value_type> async_with_in_place(Args args, F body, std::index_sequence<I...>) {
  if constexpr (std::is_constructible_v<Res, std::tuple_element_t<I, Args>&&...>) {
    Res resource(std::get<I>(std::move(args))...);
    co_return co_await async_with_impl<Res&>(resource, std::move(body));
  } else {
    Res resource{std::get<I>(std::move(args))...};  // an aggregate (clang 14 has no Res(...) for those)
    co_return co_await async_with_impl<Res&>(resource, std::move(body));
  }
}

template <class... A>
using last_t = std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>;

}  // namespace detail

/// `async with Res(args...) as r: body(r)` with the resource built in place:
/// `co_await aio::async_with<Res>(args..., body)` - the last argument is the
/// body, the others construct `Res` (by its constructor, or as an aggregate)
/// inside the operation. Prefer it to `async_with(Res{...}, body)`, whose
/// temporary g++ 12 destroys twice when Res is an aggregate.
/// The arguments are decay-copied (use std::ref to pass a reference).
/// Otherwise as async_with(resource, body).
template <class Res, class... A>
  requires(sizeof...(A) >= 1 && !std::is_reference_v<Res> &&
           std::is_invocable_v<std::decay_t<detail::last_t<A...>>&, Res&>)
auto async_with(A&&... args_then_body) {
  auto all = std::forward_as_tuple(std::forward<A>(args_then_body)...);
  constexpr std::size_t n = sizeof...(A) - 1;
  return [&]<std::size_t... I>(std::index_sequence<I...> seq) {
    using Args = std::tuple<std::decay_t<std::tuple_element_t<I, std::tuple<A...>>>...>;
    using F = std::decay_t<detail::last_t<A...>>;
    return detail::async_with_in_place<Res, Args, F>(Args(std::get<I>(std::move(all))...),
                                                     F(std::get<n>(std::move(all))), seq);
  }(std::make_index_sequence<n>{});
}

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
