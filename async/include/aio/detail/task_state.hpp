#pragma once
// TaskState<T>: a task's shared state (what a TaskHandle refers to): the
// untyped TaskBase plus the result, which outlives the coroutine frame.

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/errors.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"

namespace aio::detail {

template <class T>
class TaskState final : public TaskBase {
 public:
  using handle_type = std::coroutine_handle<Promise<T>>;

  TaskState(LoopCore& loop, handle_type h) noexcept : TaskBase(loop, h, &perform_fn) {
    h.promise().set_root(this);
  }

  /// The result; rethrows the task's exception, throws CancelledError if it
  /// was cancelled, InvalidStateError if it is not done.
  std::add_lvalue_reference_t<T> result_ref() {
    check_outcome();
    if constexpr (!std::is_void_v<T>) return *value_;
  }
  /// As result_ref, moving the value out (for the task's only consumer).
  T take_result() {
    check_outcome();
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }
  /// As result_ref, by value: moved out only when the caller holds every
  /// reference (`own` of them) or T cannot be copied; otherwise copied, as
  /// asyncio's result() can be read any number of times.
  T read_result(std::uint32_t own) {
    if constexpr (std::is_copy_constructible_v<VoidToUnit<T>>) {
      if (!sole_reader(own)) return result_ref();
    }
    return take_result();
  }
  Outcome<T> take_outcome() {
    mark_retrieved();
    switch (status_) {
      case TaskStatus::succeeded:
        if constexpr (std::is_void_v<T>) {
          return Outcome<T>::success(Void{});
        } else {
          return Outcome<T>::success(std::move(*value_));
        }
      case TaskStatus::cancelled:
        return Outcome<T>::failure(cancelled_error(), true);
      default:
        return Outcome<T>::failure(error_, false);
    }
  }

  static void* operator new(std::size_t size) {
    static_assert(alignof(TaskState) <= 16, "an over-aligned task result is not supported");
    if constexpr (alignof(TaskState) <= 8) return allocate_object(size);
    return allocate_frame(size);
  }
  static void operator delete(void* p, std::size_t size) noexcept {
    if constexpr (alignof(TaskState) <= 8) {
      deallocate_object(p, size);
    } else {
      deallocate_frame(p, size);
    }
  }

 private:
  void check_outcome() {
    if (status_ == TaskStatus::pending) throw InvalidStateError("Result is not set.");
    mark_retrieved();
    if (status_ == TaskStatus::failed) std::rethrow_exception(error_);
    if (status_ == TaskStatus::cancelled) std::rethrow_exception(cancelled_error());
  }
  std::exception_ptr cancelled_error() const {
    if (error_) return error_;
    return std::make_exception_ptr(CancelledError(cancel_message()));
  }

  static void perform_fn(Runnable* r, Action action) noexcept {
    auto* self = static_cast<TaskState*>(static_cast<TaskBase*>(r));
    switch (action) {
      case Action::harvest:
        harvest(self);
        break;
      case Action::destroy:
        delete self;
        break;
      default:
        step_or_drop(r, action);
    }
  }

  static void harvest(TaskBase* base) noexcept {
    auto* self = static_cast<TaskState*>(base);
    Promise<T>& p = handle_type::from_address(self->frame_.address()).promise();
    if (p.exception()) {
      self->error_ = p.exception();
      self->status_ = p.exception_is_cancel() ? TaskStatus::cancelled : TaskStatus::failed;
    } else if (self->must_cancel_) {
      // Cancelled right before the body returned: asyncio ends such a task
      // cancelled too, so that the cancellation is never lost.
      self->status_ = TaskStatus::cancelled;
    } else {
      if constexpr (!std::is_void_v<T>) {
        try {
          self->value_.emplace(std::move(*p.value));
        } catch (...) {
          self->error_ = std::current_exception();
          self->status_ = TaskStatus::failed;
          return;
        }
      }
      self->status_ = TaskStatus::succeeded;
    }
  }
  // Nothing to store for a void task.
  struct NoValue {};
  [[no_unique_address]] std::conditional_t<std::is_void_v<T>, NoValue, std::optional<T>> value_;
};

/// Makes `task` the root of a new task of `loop`, scheduled to start at the
/// next iteration. The returned state carries one reference for the caller.
/// Throws: RuntimeError if the loop is closed; InvalidStateError if `task` is empty.
template <class T>
TaskState<T>* spawn(LoopCore& loop, Task<T>&& task, std::string name) {
  if (!loop.accepts_work()) throw RuntimeError("aio: the event loop is closed");
  if (!task.valid()) throw InvalidStateError("aio::create_task: empty Task");
  auto* state = new TaskState<T>(loop, task.release());
  if (!name.empty()) state->set_name(std::move(name));
  state->add_ref();  // the caller's
  loop.add_task(state);
  loop.schedule(state);
  return state;
}

}  // namespace aio::detail
