#pragma once
// What `co_await x` resolves to for any awaitable x: its awaiter and result type.

#include <concepts>
#include <type_traits>
#include <utility>

namespace aio::detail {

template <class A>
concept HasMemberCoAwait = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (HasMemberCoAwait<A>) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}

template <class A>
using awaiter_t = decltype(get_awaiter(std::declval<A>()));

/// The type `co_await std::declval<A>()` yields.
template <class A>
using await_result_t = decltype(std::declval<awaiter_t<A>&>().await_resume());

/// An awaiter that can report "ended by cancellation" as a value: once the
/// task resumed, `await_cancelled()` returns true if the await ended by a
/// cancellation, which it consumes from the task (await_resume is then not
/// called), and false otherwise (await_resume gives the result as usual).
/// wait_for uses it to turn its own deadline into a TimeoutError without
/// throwing and catching a CancelledError first.
template <class A>
concept ReportsCancel = requires(A& a) {
  { a.await_cancelled() } noexcept -> std::same_as<bool>;
};

}  // namespace aio::detail
