#include "aio/gather.hpp"

namespace aio::detail {

GatherCore::GatherCore(std::size_t count, bool settled)
    : count_(count), remaining_(count), settled_(settled) {
  Wait::cancel = &on_cancel;
}

GatherCore::~GatherCore() {
  if (children_ == nullptr) return;
  for (std::size_t i = 0; i < count_; ++i) {
    Child& c = children_[i];
    if (c.linked()) {
      // Left running after an early failure: as asyncio's gather does, its
      // eventual exception counts as retrieved.
      c.unlink();
      c.task->mark_retrieved();
    }
  }
}

void GatherCore::attach(TaskBase* const* tasks) noexcept {
  if (count_ == 0) return;
  children_.reset(new Child[count_]);
  for (std::size_t i = 0; i < count_; ++i) {
    Child& c = children_[i];
    c.owner = this;
    c.task = tasks[i];
    c.notify = &on_child_done;
    if (c.task->done()) {
      count_done(c.task);
    } else {
      c.task->add_done_waiter(&c);
    }
  }
}

void GatherCore::count_done(TaskBase* task) noexcept {
  --remaining_;
  // asyncio's gather calls exception() on every child that ends: only the
  // first failure propagates (or, settled, all are returned), but none of
  // them counts as never retrieved.
  task->mark_retrieved();
  if (!settled_ && failed_ == nullptr && task->status() != TaskStatus::succeeded) failed_ = task;
}

void GatherCore::suspend(std::coroutine_handle<> h) {
  waiter_ = &current_task();
  waiter_->park(h, this);
}

void GatherCore::on_child_done(DoneWaiter* w) noexcept {
  auto* child = static_cast<Child*>(w);
  GatherCore* self = child->owner;
  self->count_done(child->task);
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
    TaskBase* t = self->children_[i].task;
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
