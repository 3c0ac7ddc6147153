#include "aio/task_group.hpp"

namespace aio {

TaskGroup::~TaskGroup() {
  // Only the loop's close() destroys a group with children left: unhook them.
  for (Child& c : children_) {
    if (c.node.linked()) c.node.unlink();
  }
}

void TaskGroup::check_open() const {
  if (finished_) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(detail::TaskBase* child) {
  Child& c = children_.emplace_back();
  c.node.target = this;
  c.task = child;
  child->add_done_waiter(&c.node);
  ++running_;
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (Child& c : children_) {
    if (!c.task->done()) c.task->cancel({});
  }
}

void TaskGroup::on_child_done(detail::DoneTarget* self, detail::TaskBase* t) noexcept {
  TaskGroup& g = *static_cast<TaskGroup*>(self);
  --g.running_;
  if (t->status() == detail::TaskStatus::failed) {
    t->mark_retrieved();
    g.errors_.push_back(t->error());
    if (!g.aborting_ && !g.parent_cancel_requested_) {
      // Abort whatever the group's body is doing; __aexit__ withdraws this
      // cancellation again (uncancel), so the parent keeps none.
      g.abort();
      g.parent_cancel_requested_ = true;
      g.parent_->cancel({});
    }
  }
  if (g.running_ == 0 && g.waiting_) {
    g.waiting_ = false;
    g.parent_->loop().schedule(g.parent_);
  }
}

void TaskGroup::begin_exit(bool body_failed) noexcept {
  exiting_ = true;
  if (body_failed && !aborting_) abort();
}

void TaskGroup::ExitAwaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  group_.waiting_ = true;
  group_.parent_->park(h, this);
}

void TaskGroup::ExitAwaiter::await_resume() noexcept {
  // A cancel that came after the last child finished, before we resumed.
  if (group_.parent_->take_cancel() && !group_.aborting_) {
    group_.propagate_cancel_ = true;
    group_.abort();
  }
}

void TaskGroup::ExitAwaiter::on_cancel(Wait* w) noexcept {
  TaskGroup& g = static_cast<ExitAwaiter*>(w)->group_;
  if (!g.waiting_) return;  // all done: handled in await_resume
  // The parent is cancelled while it waits for the children: cancel them
  // and keep waiting; the CancelledError is raised once all are done.
  g.parent_->forward_cancel();
  if (!g.aborting_) {
    g.propagate_cancel_ = true;
    g.abort();
  }
}

void TaskGroup::finish(std::exception_ptr body_error, bool body_cancelled) {
  finished_ = true;
  bool propagate = body_cancelled || propagate_cancel_;
  // Python 3.13: withdraw the group's own cancellation of the parent once
  // every child is done, so that none is left behind on the parent.
  if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate = false;
  if (propagate && errors_.empty()) {
    if (body_cancelled) std::rethrow_exception(body_error);
    throw CancelledError(parent_->cancel_message());
  }
  if (body_error && !body_cancelled) errors_.push_back(body_error);
  if (errors_.size() == 1) std::rethrow_exception(errors_.front());
  if (!errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
}

}  // namespace aio
