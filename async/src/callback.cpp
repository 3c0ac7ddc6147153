#include <cstdint>
#include <cstdio>
#include <exception>

#include "aio/callback_handle.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/task_base.hpp"

namespace aio::detail {

void CallbackBase::perform_fn(Runnable* r, Runnable::Action action) noexcept {
  auto* self = static_cast<CallbackBase*>(r);
  if (action == Runnable::Action::run && !self->cancelled_) {
    LoopCore& loop = *self->loop_;
    const bool timed = loop.debug();
    const std::int64_t start = timed ? LoopCore::now() : 0;
    // asyncio's default exception handler: report and keep the loop going.
    self->running_ = true;
    try {
      self->invoke_(self);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aio: exception in callback: %s\n", e.what());
    } catch (...) {
      std::fputs("aio: exception in callback\n", stderr);
    }
    self->running_ = false;
    // Debug mode: asyncio reports every slow handle, not only task steps.
    if (timed) report_if_slow(loop, start, nullptr);
  }
  self->release();  // the loop's reference
}

void CallbackBase::cancel() noexcept {
  if (cancelled_) return;
  cancelled_ = true;
  if (running_) return;  // the callable is running: dropped with the node
  drop_(this);
  if (TimerNode::queued()) {
    // A pending call_later: out of the timers now, not at its deadline.
    loop_->remove_timer(this);
    release();  // the loop's reference
  }
}

void CallbackBase::on_due_fn(TimerNode* n, TimerNode::Action action) noexcept {
  auto* self = static_cast<CallbackBase*>(n);
  if (action == TimerNode::Action::fire && !self->cancelled_) {
    self->loop_->schedule(self);
  } else {
    self->release();
  }
}

}  // namespace aio::detail
