#include "aio/as_completed.hpp"

namespace aio::detail {

AsCompletedCore::AsCompletedCore(std::vector<TaskBase*> tasks, std::optional<std::int64_t> deadline)
    : tasks_(std::move(tasks)), nodes_(new DoneWaiter[tasks_.size()]), loop_(&running_loop()) {
  DoneTarget::on_done = &on_child_done;
  TimerNode::on_due = &on_due_fn;
  finished_.reserve(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    TaskBase* t = tasks_[i];
    if (t->done()) {
      finished_.push_back(t);
    } else {
      nodes_[i].target = this;
      t->add_done_waiter(&nodes_[i]);
    }
  }
  if (deadline && finished_.size() < tasks_.size()) {
    TimerNode::deadline = *deadline;
    loop_->add_timer(this);
  }
}

AsCompletedCore::~AsCompletedCore() {
  detach();
  if (queued()) loop_->remove_timer(this);
  for (TaskBase* t : tasks_) {
    t->mark_retrieved();
    t->release();
  }
}

void AsCompletedCore::detach() noexcept {
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (nodes_[i].linked()) nodes_[i].unlink();
  }
}

void AsCompletedCore::on_child_done(DoneTarget* target, DoneWaiter* /*node*/, TaskBase* finished) noexcept {
  auto* self = static_cast<AsCompletedCore*>(target);
  self->finished_.push_back(finished);  // reserved: no allocation
  if (self->finished_.size() == self->tasks_.size() && self->queued()) self->loop_->remove_timer(self);
  self->waiters_.wake_first();
}

void AsCompletedCore::on_due_fn(TimerNode* node, TimerNode::Action action) noexcept {
  if (action != TimerNode::Action::fire) return;
  auto* self = static_cast<AsCompletedCore*>(node);
  // asyncio: the tasks go on; only the waits end.
  self->timed_out_ = true;
  self->detach();
  self->waiters_.wake_all();
}

}  // namespace aio::detail
