#pragma once
// aio::gather and aio::gather_settled: asyncio.gather (return_exceptions=False/True).

#include <coroutine>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {

/// Waits for a set of tasks: counts those still running and wakes the
/// awaiting task once the gather is decided (all done, or, unless settled,
/// the first failure). The tasks are kept alive by the typed owner.
class GatherCore : Wait {
 public:
  GatherCore(std::size_t count, bool settled);
  GatherCore(const GatherCore&) = delete;
  GatherCore& operator=(const GatherCore&) = delete;
  ~GatherCore();  // detaches from children still running; they go on

  /// Links the gather to its children (once, at the first await_ready).
  void attach(TaskBase* const* tasks) noexcept;
  bool attached() const noexcept { return children_ != nullptr || count_ == 0; }
  bool decided() const noexcept { return remaining_ == 0 || (!settled_ && failed_ != nullptr); }
  void suspend(std::coroutine_handle<> h);
  /// After the wake-up: throws CancelledError if the awaiting task was
  /// cancelled, or (unless settled) the first child's failure.
  void check();

 private:
  struct Child : DoneWaiter {
    GatherCore* owner;
    TaskBase* task;
  };
  static void on_child_done(DoneWaiter* w) noexcept;
  static void on_cancel(Wait* w) noexcept;
  void count_done(TaskBase* task) noexcept;

  std::unique_ptr<Child[]> children_;
  std::size_t count_;
  std::size_t remaining_;
  TaskBase* waiter_ = nullptr;
  TaskBase* failed_ = nullptr;
  bool settled_;
  bool woken_ = false;
  bool cancel_requested_ = false;
};

template <class A>
struct GatherArg;
template <class T>
struct GatherArg<Task<T>> {
  using value_type = T;
};
template <class T>
struct GatherArg<TaskHandle<T>> {
  using value_type = T;
};
template <class A>
using gather_value_t = typename GatherArg<std::remove_cvref_t<A>>::value_type;
template <class A>
concept GatherAwaitable = requires { typename GatherArg<std::remove_cvref_t<A>>::value_type; };

/// One child: its handle, and whether the gather made it (then its result is
/// moved out; a task the caller passed in keeps its result for the caller).
template <class T>
struct GatherChild {
  TaskHandle<T> handle;
  bool owned;
};

template <class T>
GatherChild<T> to_child(Task<T>&& task) {
  return {TaskHandle<T>(spawn(running_loop(), std::move(task), {})), true};
}
template <class T>
GatherChild<T> to_child(const TaskHandle<T>& handle) {
  return {handle, false};
}

template <class T>
VoidToUnit<T> take_value(GatherChild<T>& child) {
  TaskState<T>& s = *child.handle.state_ptr();
  if constexpr (std::is_void_v<T>) {
    s.take_result();
    return Void{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    if (!child.owned) return s.result_ref();
    return s.take_result();
  } else {
    return s.take_result();
  }
}

template <class T>
Outcome<T> take_outcome(GatherChild<T>& child) {
  return child.handle.state_ptr()->take_outcome();
}

template <bool Settled, class... Ts>
class GatherPack {
 public:
  explicit GatherPack(GatherChild<Ts>... children)
      : children_(std::move(children)...), core_(sizeof...(Ts), Settled) {}

  bool await_ready() {
    if (!core_.attached()) attach_all(std::index_sequence_for<Ts...>{});
    return core_.decided();
  }
  void await_suspend(std::coroutine_handle<> h) { core_.suspend(h); }
  auto await_resume() {
    core_.check();
    return results(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  void attach_all(std::index_sequence<I...>) {
    TaskBase* tasks[] = {std::get<I>(children_).handle.state_ptr()...};
    core_.attach(tasks);
  }
  template <std::size_t... I>
  auto results(std::index_sequence<I...>) {
    if constexpr (Settled) {
      return std::tuple<Outcome<Ts>...>{take_outcome(std::get<I>(children_))...};
    } else {
      return std::tuple<VoidToUnit<Ts>...>{take_value(std::get<I>(children_))...};
    }
  }

  std::tuple<GatherChild<Ts>...> children_;  // declared before core_: outlives it
  GatherCore core_;
};

template <bool Settled, class T>
class GatherRange {
 public:
  explicit GatherRange(std::vector<GatherChild<T>> children)
      : children_(std::move(children)), core_(children_.size(), Settled) {}

  bool await_ready() {
    if (!core_.attached()) {
      std::vector<TaskBase*> tasks;
      tasks.reserve(children_.size());
      for (auto& c : children_) tasks.push_back(c.handle.state_ptr());
      core_.attach(tasks.data());
    }
    return core_.decided();
  }
  void await_suspend(std::coroutine_handle<> h) { core_.suspend(h); }
  auto await_resume() {
    core_.check();
    if constexpr (Settled) {
      std::vector<Outcome<T>> out;
      out.reserve(children_.size());
      for (auto& c : children_) out.push_back(take_outcome(c));
      return out;
    } else {
      std::vector<VoidToUnit<T>> out;
      out.reserve(children_.size());
      for (auto& c : children_) out.push_back(take_value(c));
      return out;
    }
  }

 private:
  std::vector<GatherChild<T>> children_;
  GatherCore core_;
};

template <bool Settled, class T>
GatherRange<Settled, T> gather_range(std::vector<Task<T>>&& tasks) {
  std::vector<GatherChild<T>> children;
  children.reserve(tasks.size());
  for (auto& t : tasks) children.push_back(to_child(std::move(t)));
  return GatherRange<Settled, T>(std::move(children));
}

template <bool Settled, class T>
GatherRange<Settled, T> gather_range(const std::vector<TaskHandle<T>>& handles) {
  std::vector<GatherChild<T>> children;
  children.reserve(handles.size());
  for (auto& h : handles) children.push_back(to_child(h));
  return GatherRange<Settled, T>(std::move(children));
}

template <class A>
constexpr bool gather_arg_ok = !std::is_lvalue_reference_v<A> ||
                               !std::is_same_v<std::remove_cvref_t<A>, Task<gather_value_t<A>>>;

}  // namespace detail

/// Runs the awaitables concurrently and returns their results in argument
/// order (asyncio.gather): `co_await gather(a(), b(), handle)` yields a
/// std::tuple, `void` results as aio::Void. Each `Task` becomes a task of the
/// running loop at once (scheduled for the next iteration); a TaskHandle is
/// awaited as it is.
///
/// Throws: the first failure among the children (their exception, or
/// CancelledError if one was cancelled) as soon as it happens; the other
/// children keep running. RuntimeError outside a running loop.
/// Cancel safety: cancelling the awaiting task cancels every child still
/// running; the gather then ends with CancelledError.
template <detail::GatherAwaitable... As>
  requires(sizeof...(As) > 0)
auto gather(As&&... aws) {
  static_assert((detail::gather_arg_ok<As> && ...),
                "aio::gather: pass a Task by value (std::move it, or call the coroutine inline)");
  // Braces: the children become tasks left to right, so they start in argument order.
  return detail::GatherPack<false, detail::gather_value_t<As>...>{
      detail::to_child(std::forward<As>(aws))...};
}

/// asyncio.gather on a list: `co_await gather(std::move(tasks))` yields a
/// std::vector of the results in order. As the pack form otherwise.
template <class T>
auto gather(std::vector<Task<T>> tasks) {
  return detail::gather_range<false>(std::move(tasks));
}
template <class T>
auto gather(const std::vector<TaskHandle<T>>& handles) {
  return detail::gather_range<false>(handles);
}

/// asyncio.gather(..., return_exceptions=True): waits for every child and
/// yields one aio::Outcome<T> per child (value, exception or cancellation),
/// in argument order. Never throws a child's failure.
/// Throws: CancelledError if the awaiting task is cancelled.
/// Cancel safety: cancelling the awaiting task cancels every child still
/// running and waits for all of them before the CancelledError is thrown.
template <detail::GatherAwaitable... As>
  requires(sizeof...(As) > 0)
auto gather_settled(As&&... aws) {
  static_assert((detail::gather_arg_ok<As> && ...),
                "aio::gather_settled: pass a Task by value (std::move it)");
  return detail::GatherPack<true, detail::gather_value_t<As>...>{
      detail::to_child(std::forward<As>(aws))...};
}
template <class T>
auto gather_settled(std::vector<Task<T>> tasks) {
  return detail::gather_range<true>(std::move(tasks));
}
template <class T>
auto gather_settled(const std::vector<TaskHandle<T>>& handles) {
  return detail::gather_range<true>(handles);
}

}  // namespace aio
