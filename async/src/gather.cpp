#include "aio/gather.hpp"

#include <exception>
#include <memory>
#include <utility>

#include "aio/detail/frame_allocator.hpp"

namespace aio::detail {

GatherCore::GatherCore(std::size_t count, bool settled)
    // From the loop's pooled allocator: a gather of a few tasks costs no malloc.
    : slots_(count > 0 ? static_cast<Slot*>(allocate_object(count * sizeof(Slot))) : nullptr),
      count_(count),
      remaining_(count),
      settled_(settled) {
  std::uninitialized_default_construct_n(slots_, count);
  Wait::cancel = &on_cancel;
  DoneTarget::on_done = &on_child_done;
}

GatherCore::GatherCore(GatherCore&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      count_(std::exchange(other.count_, 0)),
      remaining_(other.remaining_),
      settled_(other.settled_) {
  if (other.attached_) std::terminate();  // its children point at it
  Wait::cancel = &on_cancel;
  DoneTarget::on_done = &on_child_done;
}

GatherCore::~GatherCore() {
  for (std::size_t i = 0; i < count_; ++i) {
    Slot& s = slots_[i];
    if (s.task == nullptr) continue;  // the constructor failed before this child
    if (s.node.linked()) s.node.unlink();
    // asyncio's gather marks every child's exception retrieved, also of those
    // it left running after an early failure.
    s.task->mark_retrieved();
    s.task->release();
  }
  if (slots_ != nullptr) {
    std::destroy_n(slots_, count_);
    deallocate_object(slots_, count_ * sizeof(Slot));
  }
}

bool GatherCore::await_ready() noexcept {
  if (!attached_) {
    attached_ = true;
    for (std::size_t i = 0; i < count_; ++i) {
      Slot& s = slots_[i];
      s.node.target = this;
      if (s.task->done()) {
        count_done(s.task);
      } else {
        s.task->add_done_waiter(&s.node);
      }
    }
  }
  return decided();
}

void GatherCore::count_done(TaskBase* task) noexcept {
  --remaining_;
  if (!settled_ && failed_ == nullptr && task->status() != TaskStatus::succeeded) failed_ = task;
}

void GatherCore::await_suspend(std::coroutine_handle<> h) {
  waiter_ = &current_task();
  DoneTarget::waiting = waiter_;
  waiter_->park(h, this);
}

void GatherCore::on_child_done(DoneTarget* target, DoneWaiter* /*node*/, TaskBase* finished) noexcept {
  auto* self = static_cast<GatherCore*>(target);
  self->count_done(finished);
  if (!self->woken_ && self->waiter_ != nullptr && self->decided()) {
    self->woken_ = true;
    self->waiter_->loop().schedule(self->waiter_);
  }
}

void GatherCore::on_cancel(Wait* w) noexcept {
  auto* self = static_cast<GatherCore*>(w);
  if (self->woken_) return;  // decided: the pending cancellation is thrown at resume
  self->waiter_->forward_cancel();
  self->cancel_requested_ = true;
  const std::string message = self->waiter_->cancel_message();
  for (std::size_t i = 0; i < self->count_; ++i) {
    TaskBase* t = self->slots_[i].task;
    if (!t->done()) t->cancel(message);
  }
}

void GatherCore::check() {
  if (waiter_ != nullptr && waiter_->take_cancel()) waiter_->throw_cancelled();
  if (!settled_ && failed_ != nullptr) {
    failed_->mark_retrieved();
    if (failed_->error()) std::rethrow_exception(failed_->error());
    throw CancelledError(failed_->cancel_message());
  }
  if (cancel_requested_) throw CancelledError(waiter_->cancel_message());
}

}  // namespace aio::detail
