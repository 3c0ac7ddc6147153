#include "aio/wait.hpp"

namespace aio::detail {

WaitCore::WaitCore(std::vector<TaskBase*> tasks, ReturnWhen when, std::optional<std::int64_t> deadline)
    : tasks_(std::move(tasks)),
      nodes_(new DoneWaiter[tasks_.size()]),
      deadline_(deadline),
      remaining_(tasks_.size()),
      when_(when) {
  Wait::cancel = &on_cancel;
  DoneTarget::on_done = &on_child_done;
  TimerNode::on_due = &on_due_fn;
}

WaitCore::~WaitCore() {
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (nodes_[i].linked()) nodes_[i].unlink();
  }
  if (queued() && waiter_ != nullptr) waiter_->loop().remove_timer(this);
}

bool WaitCore::decided() const noexcept {
  switch (when_) {
    case ReturnWhen::first_completed:
      return remaining_ < tasks_.size();
    case ReturnWhen::first_exception:
      return failed_ || remaining_ == 0;
    default:
      return remaining_ == 0;
  }
}

bool WaitCore::await_ready() noexcept {
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    TaskBase* t = tasks_[i];
    if (t->done()) {
      --remaining_;
      if (t->status() == TaskStatus::failed) failed_ = true;
    } else {
      nodes_[i].target = this;
      t->add_done_waiter(&nodes_[i]);
    }
  }
  // asyncio.wait(timeout=0) returns at once, split as things are.
  return decided() || (deadline_ && *deadline_ <= LoopCore::now());
}

void WaitCore::await_suspend(std::coroutine_handle<> h) {
  waiter_ = &current_task();
  DoneTarget::waiting = waiter_;
  if (deadline_) {
    TimerNode::deadline = *deadline_;
    waiter_->loop().add_timer(this);
  }
  waiter_->park(h, this);
}

void WaitCore::await_resume() {
  if (waiter_ == nullptr) return;
  const bool pending = waiter_->take_cancel();
  if (pending || cancelled_) waiter_->throw_cancelled();
}

void WaitCore::wake() noexcept {
  woken_ = true;
  if (queued()) waiter_->loop().remove_timer(this);
  waiter_->loop().schedule(waiter_);
}

void WaitCore::on_child_done(DoneTarget* target, DoneWaiter* /*node*/, TaskBase* finished) noexcept {
  auto* self = static_cast<WaitCore*>(target);
  --self->remaining_;
  if (finished->status() == TaskStatus::failed) self->failed_ = true;
  if (!self->woken_ && self->waiter_ != nullptr && self->decided()) self->wake();
}

void WaitCore::on_cancel(Wait* w) noexcept {
  auto* self = static_cast<WaitCore*>(w);
  if (self->woken_) return;  // decided: the pending cancellation is thrown at resume
  self->cancelled_ = true;
  self->wake();
}

void WaitCore::on_due_fn(TimerNode* node, TimerNode::Action action) noexcept {
  auto* self = static_cast<WaitCore*>(node);
  if (action != TimerNode::Action::fire || self->woken_) return;
  self->woken_ = true;
  self->waiter_->loop().schedule(self->waiter_);
}

}  // namespace aio::detail
