#pragma once
// aio::CallbackHandle: what call_soon / call_later / call_at return
// (asyncio's Handle and TimerHandle).

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/detail/runnable.hpp"
#include "aio/detail/timer_heap.hpp"

namespace aio {

namespace detail {

class LoopCore;

/// A callback scheduled on the loop, shared by the loop (until it ran or was
/// dropped) and by its handles.
class CallbackBase : public Runnable, public TimerNode {
 public:
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy_(this);
  }
  /// Marks the callback cancelled and, as asyncio does, drops the callable
  /// (and what it captured) at once and takes a pending call_later/call_at
  /// out of the loop's timers, unless the callback is running right now.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }

 protected:
  using Invoke = void (*)(CallbackBase*);
  using Destroy = void (*)(CallbackBase*) noexcept;
  CallbackBase(LoopCore& loop, Invoke invoke, Destroy destroy, Destroy drop) noexcept
      : loop_(&loop), invoke_(invoke), destroy_(destroy), drop_(drop) {
    Runnable::perform = &perform_fn;
    TimerNode::on_due = &on_due_fn;
  }
  ~CallbackBase() = default;

 private:
  static void perform_fn(Runnable* r, Runnable::Action action) noexcept;
  static void on_due_fn(TimerNode* n, TimerNode::Action action) noexcept;

  LoopCore* loop_;
  Invoke invoke_;
  Destroy destroy_;
  Destroy drop_;  // destroys the callable only
  unsigned refs_ = 1;  // the loop's
  bool cancelled_ = false;
  bool running_ = false;
};

template <class F>
class Callback final : public CallbackBase {
 public:
  Callback(LoopCore& loop, F f) : CallbackBase(loop, &invoke, &destroy, &drop), f_(std::move(f)) {}

 private:
  static void invoke(CallbackBase* self) { (*static_cast<Callback*>(self)->f_)(); }
  static void destroy(CallbackBase* self) noexcept { delete static_cast<Callback*>(self); }
  static void drop(CallbackBase* self) noexcept { static_cast<Callback*>(self)->f_.reset(); }
  std::optional<F> f_;
};

}  // namespace detail

/// Cancels a scheduled callback (asyncio Handle / TimerHandle). Copyable;
/// dropping it does not cancel anything.
class CallbackHandle {
 public:
  CallbackHandle() noexcept = default;
  explicit CallbackHandle(detail::CallbackBase* node) noexcept : node_(node) { node_->add_ref(); }
  CallbackHandle(const CallbackHandle& o) noexcept : node_(o.node_) {
    if (node_ != nullptr) node_->add_ref();
  }
  CallbackHandle(CallbackHandle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  CallbackHandle& operator=(CallbackHandle o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~CallbackHandle() {
    if (node_ != nullptr) node_->release();
  }

  /// The callback will not run (no effect if it already ran).
  void cancel() noexcept {
    if (node_ != nullptr) node_->cancel();
  }
  bool cancelled() const noexcept { return node_ != nullptr && node_->cancelled(); }

 private:
  detail::CallbackBase* node_ = nullptr;
};

}  // namespace aio
