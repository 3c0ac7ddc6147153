#pragma once
// aio::as_completed: asyncio.as_completed.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/detail/task_state.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/task_handle.hpp"

namespace aio {

namespace detail {

/// The tasks of one as_completed() in the order they finish: each finished
/// task is queued once, and each await takes the next one from the queue.
/// Shared by the range and every awaitable it yields.
class AsCompletedCore : DoneTarget, TimerNode {
 public:
  AsCompletedCore(std::vector<TaskBase*> tasks, std::optional<std::int64_t> deadline);  // adopts a reference of each
  AsCompletedCore(const AsCompletedCore&) = delete;
  AsCompletedCore& operator=(const AsCompletedCore&) = delete;
  ~AsCompletedCore();

  std::size_t size() const noexcept { return tasks_.size(); }

  /// An await of the next finished task.
  class Next : public Waiter {
   public:
    explicit Next(AsCompletedCore& core) noexcept : Waiter(&give_back), core_(core) {}
    bool await_ready() const noexcept { return core_.head_ < core_.finished_.size() || core_.timed_out_; }
    void await_suspend(std::coroutine_handle<> h) { park_in(core_.waiters_, h); }
    /// The next finished task. Throws: CancelledError; TimeoutError once
    /// the deadline passed and no finished task is left.
    TaskBase* take() {
      throw_if_cancelled();
      if (core_.head_ < core_.finished_.size()) return core_.finished_[core_.head_++];
      throw TimeoutError();
    }

   private:
    static void give_back(Waiter* w) noexcept { static_cast<Next*>(w)->core_.waiters_.wake_first(); }
    AsCompletedCore& core_;
  };

 private:
  static void on_child_done(DoneTarget* self, DoneWaiter* node, TaskBase* finished) noexcept;
  static void on_due_fn(TimerNode* node, TimerNode::Action action) noexcept;
  void detach() noexcept;

  std::vector<TaskBase*> tasks_;
  std::unique_ptr<DoneWaiter[]> nodes_;
  std::vector<TaskBase*> finished_;  // in the order they finished
  std::size_t head_ = 0;             // the next one to hand out
  WaiterList<> waiters_;
  LoopCore* loop_;
  bool timed_out_ = false;
};

/// One `co_await` of as_completed's range: the next task to finish.
template <class T>
class [[nodiscard]] AsCompletedNext {
 public:
  explicit AsCompletedNext(std::shared_ptr<AsCompletedCore> core) noexcept : core_(std::move(core)) {}

  class Awaiter : AsCompletedCore::Next {
   public:
    explicit Awaiter(AsCompletedCore& core) noexcept : Next(core) {}
    // Not movable: its node is what the core wakes.
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    using Next::await_ready;
    using Next::await_suspend;
    T await_resume() {
      // The range holds a reference too: moved out only if no handle is left.
      return static_cast<TaskState<T>*>(take())->read_result(1);
    }
  };
  Awaiter operator co_await() const noexcept { return Awaiter(*core_); }

 private:
  std::shared_ptr<AsCompletedCore> core_;
};

}  // namespace detail

/// The range as_completed() returns: size() awaitables, each yielding the
/// next task to finish.
template <class T>
class AsCompleted {
 public:
  class iterator {
   public:
    using value_type = detail::AsCompletedNext<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const std::shared_ptr<detail::AsCompletedCore>* core, std::size_t i) noexcept : core_(core), i_(i) {}
    value_type operator*() const { return value_type(*core_); }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++i_;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

   private:
    const std::shared_ptr<detail::AsCompletedCore>* core_ = nullptr;
    std::size_t i_ = 0;
  };

  explicit AsCompleted(std::shared_ptr<detail::AsCompletedCore> core) noexcept : core_(std::move(core)) {}
  iterator begin() const noexcept { return iterator(&core_, 0); }
  iterator end() const noexcept { return iterator(&core_, core_->size()); }
  std::size_t size() const noexcept { return core_->size(); }

 private:
  std::shared_ptr<detail::AsCompletedCore> core_;
};

namespace detail {
template <class T>
AsCompleted<T> make_as_completed(const std::vector<TaskHandle<T>>& handles, std::optional<std::int64_t> timeout_ns) {
  running_loop();  // throws outside a running loop
  std::vector<TaskBase*> tasks;
  tasks.reserve(handles.size());
  for (const auto& h : handles) {
    if (!h) throw InvalidStateError("aio::as_completed: empty TaskHandle");
    tasks.push_back(h.state_ptr());
  }
  for (TaskBase* t : tasks) t->add_ref();
  std::optional<std::int64_t> deadline;
  if (timeout_ns) deadline = deadline_after(LoopCore::now(), *timeout_ns);
  return AsCompleted<T>(std::make_shared<AsCompletedCore>(std::move(tasks), deadline));
}
}  // namespace detail

/// `for f in asyncio.as_completed(aws, timeout=t): v = await f` is
/// `for (auto next : aio::as_completed(handles, t)) { T v = co_await next; }`.
///
/// The k-th await yields the k-th of the tasks to finish: a copy of its
/// value, or it rethrows its exception (CancelledError if it was cancelled).
/// The deadline (`timeout` from this call) cancels nothing: past it, each
/// remaining await throws TimeoutError once the tasks that finished in
/// time were handed out.
/// Throws: (the call) RuntimeError outside a running loop; (each await) the
/// task's exception, TimeoutError, CancelledError if the awaiting task is
/// cancelled.
/// Cancel safety: safe: a cancelled await takes no task from the queue;
/// the next await gets it.
template <class T>
[[nodiscard]] AsCompleted<T> as_completed(const std::vector<TaskHandle<T>>& handles) {
  return detail::make_as_completed(handles, std::nullopt);
}
template <class T, class Rep, class Period>
[[nodiscard]] AsCompleted<T> as_completed(const std::vector<TaskHandle<T>>& handles,
                                          std::chrono::duration<Rep, Period> timeout) {
  return detail::make_as_completed(handles, detail::to_ns_ceil(timeout));
}

}  // namespace aio
