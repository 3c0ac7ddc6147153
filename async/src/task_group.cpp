#include "aio/task_group.hpp"

#include <new>

namespace aio {

TaskGroup::~TaskGroup() {
  if (abort_later_ != nullptr) abort_later_->group = nullptr;
  // Only the loop's close() destroys a group with children left: unhook them.
  for (Child& c : children_) {
    if (c.node.linked()) c.node.unlink();
    if (c.task != nullptr) c.task->release();
  }
}

void TaskGroup::check_open() const {
  if (finished_) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(Child& c, detail::TaskBase* child) noexcept {
  // The group holds a reference: abort() may look at a child whose handle
  // the body dropped and which has finished since.
  child->add_ref();
  c.node.target = this;
  c.task = child;
  child->add_done_waiter(&c.node);
  ++running_;
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (Child& c : children_) {
    if (c.task != nullptr && !c.task->done()) c.task->cancel({});
  }
}

void TaskGroup::on_child_done(detail::DoneTarget* self, detail::TaskBase* t) noexcept {
  TaskGroup& g = *static_cast<TaskGroup*>(self);
  --g.running_;
  if (t->status() == detail::TaskStatus::failed) {
    t->mark_retrieved();
    g.errors_.push_back(t->error());
    if (!g.aborting_ && !g.parent_cancel_requested_ && g.abort_later_ == nullptr) {
      auto* later = new (std::nothrow) AbortLater;
      if (later != nullptr) {
        later->perform = &on_abort_later;
        later->group = &g;
        g.abort_later_ = later;
        g.parent_->loop().schedule(later);
      } else {
        g.start_abort();
      }
    }
  }
  if (g.running_ == 0 && g.waiting_) {
    g.waiting_ = false;
    g.parent_->loop().schedule(g.parent_);
  }
}

void TaskGroup::on_abort_later(detail::Runnable* r, detail::Runnable::Action action) noexcept {
  auto* self = static_cast<AbortLater*>(r);
  if (self->group != nullptr) {
    self->group->abort_later_ = nullptr;
    if (action == detail::Runnable::Action::run) self->group->start_abort();
  }
  delete self;
}

void TaskGroup::start_abort() noexcept {
  if (aborting_ || parent_cancel_requested_) return;
  // Abort whatever the group's body is doing; __aexit__ withdraws this
  // cancellation again (uncancel), so the parent keeps none.
  abort();
  parent_cancel_requested_ = true;
  parent_->cancel({});
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
