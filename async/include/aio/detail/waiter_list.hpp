#pragma once
// The one intrusive FIFO of parked tasks behind Queue, Event, Lock, Semaphore
// and Condition. The node (`Waiter`) lives in the awaiter, inside the waiting
// coroutine's frame, so waiting allocates nothing and leaving is O(1).

#include <coroutine>
#include <cstdint>

#include "aio/detail/intrusive_list.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"

namespace aio::detail {

/// A task parked in a WaiterList, following the suspension protocol of
/// docs/internals.md: it is scheduled exactly once per park, either by the
/// primitive that wakes it (`wake`) or by its cancel hook ending the wait.
///
/// A primitive that hands something to the waiter when it wakes it (a queue
/// item, the lock, a permit) gives a `give_back` function: if the task is
/// cancelled after the wake-up but before it resumed, the cancel hook calls it
/// at once to pass the thing on to the next waiter, and the await throws
/// CancelledError. Once the hook ended or undid the wait, the await throws
/// CancelledError even if the cancellation was withdrawn (`uncancel`) before
/// the task resumed, as asyncio does for a cancelled future.
struct Waiter : ListHook, Wait {
  enum class State : std::uint8_t {
    idle,       // not suspended (the await completed at once, or never ran)
    waiting,    // linked in a list, parked
    woken,      // unlinked and scheduled by the primitive; holds what it was given
    cancelled,  // the cancel hook ended the wait or gave back what it held
  };
  using GiveBack = void (*)(Waiter* self) noexcept;

  explicit Waiter(GiveBack give_back = nullptr) noexcept : give_back_(give_back) {
    Wait::cancel = &on_cancel;
  }
  /// Movable until awaited (so that wait_for can hold the awaiter by value);
  /// the new node starts idle and unlinked, with the same hooks (a derived
  /// awaiter may have its own cancel hook).
  Waiter(Waiter&& other) noexcept : Waiter(other.give_back_) { Wait::cancel = other.Wait::cancel; }
  Waiter& operator=(const Waiter&) = delete;
  /// A frame can be destroyed with the waiter still linked (EventLoop::close
  /// destroys unfinished tasks): leave the list. Nothing else is touched, as
  /// the primitive may already be gone.
  ~Waiter() {
    if (linked()) unlink();
  }

  State state() const noexcept { return state_; }
  /// The await suspended (false when it completed at once).
  bool suspended() const noexcept { return task_ != nullptr; }
  TaskBase& task() const noexcept { return *task_; }

  /// Appends this waiter to `list` and parks the current task on it. Call
  /// last in `await_suspend`: a pending cancellation is applied at once.
  template <class List>
  void park_in(List& list, std::coroutine_handle<> h) {
    task_ = &current_task();
    state_ = State::waiting;
    list.push_back(this);
    task_->park(h, this);
  }

  /// The primitive wakes this waiter: unlinks it and schedules its task.
  /// Precondition: waiting.
  void wake() noexcept {
    if (linked()) unlink();
    state_ = State::woken;
    task_->loop().schedule(task_);
  }

  /// For `await_resume`: throws CancelledError if the hook ended the wait.
  void throw_if_cancelled() const {
    if (state_ == State::cancelled) {
      task_->take_cancel();
      task_->throw_cancelled();
    }
  }

 private:
  static void on_cancel(Wait* w) noexcept {
    auto* self = static_cast<Waiter*>(w);
    switch (self->state_) {
      case State::waiting:  // end the wait early
        // Not linked when the primitive was destroyed while the task waited
        // (its list unlinked everyone): nothing to leave.
        if (self->linked()) self->unlink();
        self->state_ = State::cancelled;
        self->task_->loop().schedule(self->task_);
        break;
      case State::woken:  // already scheduled: pass on what it was given
        self->state_ = State::cancelled;
        if (self->give_back_ != nullptr) self->give_back_(self);
        break;
      default:
        break;
    }
  }

  TaskBase* task_ = nullptr;
  GiveBack give_back_;
  State state_ = State::idle;
};

/// FIFO of waiters of type W (derived from Waiter). Destroying the list
/// unlinks whoever is left, so their later destruction stays safe.
template <class W = Waiter>
class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;

  bool empty() const noexcept { return list_.empty(); }
  void push_back(Waiter* w) noexcept { list_.push_back(w); }
  /// The waiter that has waited longest, null if none.
  W* front() noexcept { return static_cast<W*>(list_.front()); }

  /// Unlinks the waiter that has waited longest without waking it; null if none.
  W* pop_front() noexcept { return static_cast<W*>(list_.pop_front()); }

  /// Wakes the waiter that has waited longest; returns false if none.
  bool wake_first() noexcept {
    Waiter* w = list_.pop_front();
    if (w == nullptr) return false;
    w->wake();
    return true;
  }
  /// Wakes every waiter, in order.
  void wake_all() noexcept {
    while (wake_first()) {
    }
  }

 private:
  IntrusiveList<Waiter> list_;
};

/// An await that waits until woken and is given nothing back to pass on
/// (Event.wait, Queue.join). Whether it must wait is asked when it is
/// awaited, not when it is made: `auto w = ev.wait(); ev.set(); co_await w;`
/// (or a wait_for that starts later) does not miss the set().
class [[nodiscard]] SignalAwaiter : Waiter {
 public:
  using ReadyFn = bool (*)(const void* owner) noexcept;
  SignalAwaiter(WaiterList<>& list, ReadyFn ready, const void* owner) noexcept
      : list_(list), ready_(ready), owner_(owner) {}

  bool await_ready() const noexcept { return ready_(owner_); }
  void await_suspend(std::coroutine_handle<> h) { park_in(list_, h); }
  void await_resume() const { throw_if_cancelled(); }

 private:
  WaiterList<>& list_;
  ReadyFn ready_;
  const void* owner_;
};

}  // namespace aio::detail
