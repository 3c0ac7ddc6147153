#include "aio/task_group.hpp"

#include <new>

namespace aio {

TaskGroup::~TaskGroup() {
  // Only the loop's close() destroys a group with children left: unhook them.
  while (Child* c = children_.pop_front()) {
    if (c->DoneWaiter::linked()) c->DoneWaiter::unlink();
    free_child(c);
  }
}

void TaskGroup::check_open() const {
  if (exiting_ && running_ == 0) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

TaskGroup::Child* TaskGroup::new_child() {
  return new (detail::allocate_object(sizeof(Child))) Child();
}

void TaskGroup::free_child(Child* c) noexcept {
  c->~Child();
  detail::deallocate_object(c, sizeof(Child));
}

void TaskGroup::adopt(Child* c, detail::TaskBase* child) noexcept {
  c->target = this;
  c->task = child;
  child->add_done_waiter(c);
  children_.push_back(c);
  ++running_;
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  // cancel() only schedules: no child finishes (and leaves the list) here.
  children_.for_each([](Child* c) { c->task->cancel({}); });
}

void TaskGroup::on_child_done(detail::DoneTarget* self, detail::DoneWaiter* node, detail::TaskBase* t) noexcept {
  TaskGroup& g = *static_cast<TaskGroup*>(self);
  // Forget the task, whose state goes with its last handle.
  Child* c = static_cast<Child*>(node);
  static_cast<detail::ListHook*>(c)->unlink();
  free_child(c);
  --g.running_;
  if (t->status() == detail::TaskStatus::failed) {
    t->mark_retrieved();
    g.errors_.push_back(t->error());
    if (!g.aborting_ && !g.parent_cancel_requested_ && !g.abort_step_.queued) {
      g.abort_step_.queued = true;
      g.parent_->loop().schedule(&g.abort_step_);
    }
  }
  g.wake_parent_if_done();
}

void TaskGroup::wake_parent_if_done() noexcept {
  if (running_ == 0 && waiting_ && !abort_step_.queued) {
    waiting_ = false;
    parent_->loop().schedule(parent_);
  }
}

void TaskGroup::on_abort_step(detail::Runnable* r, detail::Runnable::Action action) noexcept {
  TaskGroup& g = *static_cast<AbortStep*>(r)->group;
  g.abort_step_.queued = false;
  if (action != detail::Runnable::Action::run) return;  // the loop is closing
  if (!g.aborting_ && !g.parent_cancel_requested_) {
    // Abort whatever the group's body is doing; __aexit__ withdraws this
    // cancellation again (uncancel), so the parent keeps none.
    g.abort();
    g.parent_cancel_requested_ = true;
    g.parent_->cancel({});
  }
  g.wake_parent_if_done();
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
  bool propagate = body_cancelled || propagate_cancel_;
  // Python 3.13: withdraw the group's own cancellation of the parent once
  // every child is done, so that none is left behind on the parent.
  if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate = false;
  if (propagate && errors_.empty()) {
    if (body_cancelled) std::rethrow_exception(body_error);
    throw CancelledError(parent_->cancel_message());
  }
  if (body_error && !body_cancelled) errors_.push_back(body_error);
  // Python 3.13 (gh-116720): a parent still being cancelled from outside the
  // group (an enclosing group, say) is cancelled anew, so the cancellation
  // the group's error replaces reaches the parent's next await.
  if (!errors_.empty() && parent_->cancelling() > 0) {
    parent_->uncancel();
    parent_->cancel(parent_->cancel_message());
  }
  if (errors_.size() == 1) std::rethrow_exception(errors_.front());
  if (!errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
}

}  // namespace aio
