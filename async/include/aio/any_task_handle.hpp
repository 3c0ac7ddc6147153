#pragma once
// aio::AnyTaskHandle, aio::current_task, aio::all_tasks: a task of any result
// type (asyncio's Task object seen without its result), and the task registry.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "aio/detail/task_base.hpp"
#include "aio/task_handle.hpp"

namespace aio {

/// A cheap, copyable reference to a task of any result type. Every
/// TaskHandle<T> converts to it. Equal (and hashed) by task. Use it on the
/// loop's thread only.
class AnyTaskHandle {
 public:
  AnyTaskHandle() noexcept = default;
  /// Adds a reference to `task` (null: an empty handle).
  explicit AnyTaskHandle(detail::TaskBase* task) noexcept : task_(task) {
    if (task_ != nullptr) task_->add_ref();
  }
  template <class T>
  AnyTaskHandle(const TaskHandle<T>& h) noexcept : AnyTaskHandle(h.state_ptr()) {}  // NOLINT: implicit by design
  AnyTaskHandle(const AnyTaskHandle& o) noexcept : AnyTaskHandle(o.task_) {}
  AnyTaskHandle(AnyTaskHandle&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
  AnyTaskHandle& operator=(AnyTaskHandle o) noexcept {
    std::swap(task_, o.task_);
    return *this;
  }
  ~AnyTaskHandle() {
    if (task_ != nullptr) task_->release();
  }

  explicit operator bool() const noexcept { return task_ != nullptr; }
  friend bool operator==(const AnyTaskHandle& a, const AnyTaskHandle& b) noexcept { return a.task_ == b.task_; }

  /// As TaskHandle::cancel (asyncio Task.cancel). Throws: InvalidStateError if empty.
  bool cancel(std::string msg = {}) const { return task().cancel(msg); }
  bool done() const { return task().done(); }
  bool cancelled() const { return task().status() == detail::TaskStatus::cancelled; }
  /// The task's exception, null if it succeeded. Throws: InvalidStateError
  /// if not done, CancelledError if it was cancelled.
  std::exception_ptr exception() const;
  std::string get_name() const { return task().name(); }
  void set_name(std::string name) const { task().set_name(std::move(name)); }
  /// Cancellation requests not yet withdrawn (asyncio Task.cancelling).
  int cancelling() const { return task().cancelling(); }
  /// Withdraws one cancellation request (asyncio Task.uncancel); returns the rest.
  int uncancel() const { return task().uncancel(); }

  using DoneCallback = std::function<void(AnyTaskHandle)>;
  /// Runs `f(handle)` on the loop (at the iteration after the task ends, or
  /// the next one if it already ended), in the order the callbacks were
  /// added (asyncio Task.add_done_callback). Returns an id for
  /// remove_done_callback. An exception from `f` is reported on stderr.
  /// Throws: InvalidStateError if empty; std::bad_alloc.
  std::uintptr_t add_done_callback(DoneCallback f) const;
  /// Removes a callback the task has not yet scheduled; returns how many
  /// were removed (0 or 1, asyncio Task.remove_done_callback).
  std::size_t remove_done_callback(std::uintptr_t id) const;

  /// Writes the task's call graph (aio::format_call_graph) and a newline to
  /// `os`: its suspended coroutines innermost first, each with the file:line
  /// of the co_await it waits in, then the tasks awaiting it (asyncio's
  /// Task.print_stack, in 3.14's call-graph shape). Call it on the loop's
  /// thread. Throws: InvalidStateError if empty.
  void print_stack(std::ostream& os, detail::CallSite where = detail::CallSite::current()) const;

  /// The task (for the runtime). Null if empty.
  detail::TaskBase* task_ptr() const noexcept { return task_; }

 private:
  detail::TaskBase& task() const;
  detail::TaskBase* task_ = nullptr;
};

/// The task running now (asyncio.current_task); empty outside a task.
AnyTaskHandle current_task() noexcept;

/// The running loop's unfinished tasks, oldest first (asyncio.all_tasks).
/// Throws: RuntimeError when no loop is running.
std::vector<AnyTaskHandle> all_tasks();

}  // namespace aio

template <>
struct std::hash<aio::AnyTaskHandle> {
  std::size_t operator()(const aio::AnyTaskHandle& h) const noexcept {
    return std::hash<const void*>()(h.task_ptr());
  }
};
