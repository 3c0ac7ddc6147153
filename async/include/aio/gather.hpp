#pragma once
// aio::gather and aio::gather_settled: asyncio.gather (return_exceptions=False/True).

#include <array>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/detail/as_task.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {

/// Waits for a set of tasks: counts those still running and wakes the
/// awaiting task once the gather is decided (all done, or, unless settled,
/// the first failure). It holds a reference on each child; a child it made
/// itself (from a Task) is "owned": its result is moved out, while a task
/// the caller passed in keeps its result for the caller.
class GatherCore : Wait, DoneTarget {
 public:
  GatherCore(std::size_t count, bool settled);
  /// Movable until awaited (so that wait_for can hold a gather by value);
  /// moving one that was awaited is a bug.
  GatherCore(GatherCore&& other) noexcept;
  GatherCore(const GatherCore&) = delete;
  GatherCore& operator=(const GatherCore&) = delete;
  ~GatherCore();  // detaches from children still running (they go on) and drops its references

  /// Sets child `i`, adopting one reference of `task`.
  void set(std::size_t i, TaskBase* task) noexcept { slots_[i].task = task; }
  TaskBase* task(std::size_t i) const noexcept { return slots_[i].task; }
  std::size_t size() const noexcept { return count_; }

  /// Links the gather to its children (done once, by the first await_ready)
  /// and tells whether it is decided already.
  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> h);
  /// After the wake-up: throws CancelledError if the awaiting task was
  /// cancelled, or (unless settled) the first child's failure.
  void check();

 private:
  struct Slot {  // 32 bytes a child
    DoneWaiter node;  // linked into the child's waiters; its target is this gather
    TaskBase* task = nullptr;
  };
  bool decided() const noexcept { return remaining_ == 0 || (!settled_ && failed_ != nullptr); }
  static void on_child_done(DoneTarget* self, DoneWaiter* node, TaskBase* finished) noexcept;
  static void on_cancel(Wait* w) noexcept;
  void count_done(TaskBase* task) noexcept;

  Slot* slots_;  // count_ of them, from allocate_object
  std::size_t count_;
  std::size_t remaining_;
  TaskBase* waiter_ = nullptr;
  TaskBase* failed_ = nullptr;
  bool settled_;
  bool attached_ = false;
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
inline constexpr bool is_task_handle_v = false;
template <class T>
inline constexpr bool is_task_handle_v<TaskHandle<T>> = true;
/// Neither a Task nor a TaskHandle: a callable returning a Task (kept alive
/// in its child task) or another awaitable (awaited by its child task).
template <class A>
concept GatherWrapped = !is_task_handle_v<std::remove_cvref_t<A>> && (TaskFactory<A> || OtherAwaitable<A>);
template <class A>
  requires GatherWrapped<A>
struct GatherArg<A> {
  using value_type = typename as_task_t<A>::value_type;
};
template <class A>
using gather_value_t = typename GatherArg<std::remove_cvref_t<A>>::value_type;
template <class A>
concept GatherAwaitable = requires { typename GatherArg<std::remove_cvref_t<A>>::value_type; };

/// Child `i` of `core`, from a Task (a new task of the running loop, owned
/// by the gather) or a TaskHandle (the caller's). Returns whether it is owned.
template <class T>
bool set_child(GatherCore& core, std::size_t i, Task<T>&& task) {
  core.set(i, spawn(running_loop(), std::move(task), {}));
  return true;
}
template <class A>
  requires GatherWrapped<A>
bool set_child(GatherCore& core, std::size_t i, A&& aw) {
  core.set(i, spawn(running_loop(), as_task(std::forward<A>(aw)), {}));
  return true;
}
template <class T>
bool set_child(GatherCore& core, std::size_t i, const TaskHandle<T>& handle) {
  TaskState<T>* state = handle.state_ptr();
  if (state == nullptr) throw InvalidStateError("aio::gather: empty TaskHandle");
  state->add_ref();
  core.set(i, state);
  return false;
}

/// The result of child `i`: moved out of a task the gather owns; copied from
/// a caller's task, which keeps it for its own handles (moved only if T
/// cannot be copied).
template <class T>
VoidToUnit<T> take_value(GatherCore& core, std::size_t i, bool owned) {
  auto& s = *static_cast<TaskState<T>*>(core.task(i));
  if constexpr (std::is_void_v<T>) {
    s.take_result();
    return Void{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    if (!owned) return s.result_ref();
    return s.take_result();
  } else {
    return s.take_result();
  }
}

template <class T>
Outcome<T> take_outcome(GatherCore& core, std::size_t i) {
  return static_cast<TaskState<T>*>(core.task(i))->take_outcome();
}

template <bool Settled, class... Ts>
class [[nodiscard]] GatherPack {
 public:
  /// Braces at the call site: the children become tasks left to right.
  template <class... As>
    requires(sizeof...(As) == sizeof...(Ts) && (!std::is_same_v<std::remove_cvref_t<As>, GatherPack> && ...))
  explicit GatherPack(As&&... aws) : core_(sizeof...(Ts), Settled) {
    std::size_t i = 0;
    ((owned_[i] = set_child(core_, i, std::forward<As>(aws)), ++i), ...);
  }

  /// gather() with nothing to wait for: ready at once, an empty tuple.
  GatherPack() noexcept
    requires(sizeof...(Ts) == 0)
      : core_(0, Settled) {}

  bool await_ready() noexcept { return core_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { core_.await_suspend(h); }
  auto await_resume() {
    core_.check();
    return results(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  auto results(std::index_sequence<I...>) {
    if constexpr (Settled) {
      return std::tuple<Outcome<Ts>...>{take_outcome<Ts>(core_, I)...};
    } else {
      return std::tuple<VoidToUnit<Ts>...>{take_value<Ts>(core_, I, owned_[I])...};
    }
  }

  GatherCore core_;
  std::array<bool, sizeof...(Ts)> owned_ = {};
};

template <bool Settled, class T>
class [[nodiscard]] GatherRange {
 public:
  /// Takes the vector's buffer and frees it once the tasks exist: a
  /// gather of a million tasks does not keep a million empty Tasks around.
  explicit GatherRange(std::vector<Task<T>> tasks) : core_(tasks.size(), Settled), owned_(true) {
    for (std::size_t i = 0; i < tasks.size(); ++i) set_child(core_, i, std::move(tasks[i]));
  }
  explicit GatherRange(const std::vector<TaskHandle<T>>& handles) : core_(handles.size(), Settled), owned_(false) {
    for (std::size_t i = 0; i < handles.size(); ++i) set_child(core_, i, handles[i]);
  }

  bool await_ready() noexcept { return core_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { core_.await_suspend(h); }
  auto await_resume() {
    core_.check();
    const std::size_t n = core_.size();
    if constexpr (Settled) {
      std::vector<Outcome<T>> out;
      out.reserve(n);
      for (std::size_t i = 0; i < n; ++i) out.push_back(take_outcome<T>(core_, i));
      return out;
    } else {
      std::vector<VoidToUnit<T>> out;
      out.reserve(n);
      for (std::size_t i = 0; i < n; ++i) out.push_back(take_value<T>(core_, i, owned_));
      return out;
    }
  }

 private:
  GatherCore core_;
  bool owned_;
};

/// A range of Tasks or of TaskHandles (std::vector, std::array, std::list...).
template <class R>
concept GatherRangeArg = std::ranges::input_range<R> && GatherAwaitable<std::ranges::range_value_t<R>>;

template <bool Settled, class R>
auto make_gather_range(R&& range) {
  using E = std::remove_cvref_t<std::ranges::range_value_t<R>>;
  using T = gather_value_t<E>;
  if constexpr (std::is_same_v<E, Task<T>>) {
    static_assert(!std::is_lvalue_reference_v<R> && !std::is_const_v<std::remove_reference_t<R>>,
                  "aio::gather: pass a range of Tasks as an rvalue (std::move it)");
    if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::vector<Task<T>>>) {
      return GatherRange<Settled, T>(std::move(range));
    } else {
      std::vector<Task<T>> tasks;
      for (auto& t : range) tasks.push_back(std::move(t));
      return GatherRange<Settled, T>(std::move(tasks));
    }
  } else {
    if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::vector<TaskHandle<T>>>) {
      return GatherRange<Settled, T>(range);
    } else {
      const std::vector<TaskHandle<T>> handles(std::ranges::begin(range), std::ranges::end(range));
      return GatherRange<Settled, T>(handles);
    }
  }
}

template <class A>
constexpr bool gather_arg_ok = !std::is_lvalue_reference_v<A> ||
                               !std::is_same_v<std::remove_cvref_t<A>, Task<gather_value_t<A>>>;

}  // namespace detail

/// Runs the awaitables concurrently and returns their results in argument
/// order (asyncio.gather): `co_await gather(a(), b(), handle)` yields a
/// std::tuple, `void` results as aio::Void. Each `Task` becomes a task of the
/// running loop at once (scheduled for the next iteration); a TaskHandle is
/// awaited as it is; a callable returning a Task (`[x]() -> aio::Task<int>
/// {...}`) is called in a task that keeps it alive; any other awaitable
/// (`aio::sleep(10ms)`, `q.get()`) is awaited in a task of its own.
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
  return detail::GatherPack<false, detail::gather_value_t<As>...>(std::forward<As>(aws)...);
}

/// asyncio.gather() with no arguments: `co_await gather()` yields an empty
/// std::tuple at once, without suspending. Throws: nothing.
inline detail::GatherPack<false> gather() noexcept { return {}; }
/// gather_settled() with no arguments: an empty std::tuple at once.
inline detail::GatherPack<true> gather_settled() noexcept { return {}; }

/// asyncio.gather on a list: `co_await gather(std::move(tasks))` yields a
/// std::vector of the results in order; `tasks` is any range of Tasks
/// (passed as an rvalue) or of TaskHandles. As the pack form otherwise.
template <detail::GatherRangeArg R>
auto gather(R&& range) {
  return detail::make_gather_range<false>(std::forward<R>(range));
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
  return detail::GatherPack<true, detail::gather_value_t<As>...>(std::forward<As>(aws)...);
}
template <detail::GatherRangeArg R>
auto gather_settled(R&& range) {
  return detail::make_gather_range<true>(std::forward<R>(range));
}

}  // namespace aio
