#include "aio/to_thread.hpp"

#include "aio/detail/loop_core.hpp"
#include "thread_pool.hpp"

namespace aio::detail {

void JobBase::on_returned(Runnable* self, Action action) noexcept {
  auto* job = static_cast<JobBase*>(self);
  job->finished = true;
  if (job->waiter == nullptr) {
    delete job;  // its task was cancelled or freed: the outcome is discarded here
    return;
  }
  // Dropped (the loop is closing): the awaiter's frame is about to be freed,
  // and its destructor frees the finished job.
  if (action == Action::run) job->waiter->task->loop().schedule(job->waiter->task);
}

JobWait::~JobWait() {
  if (job != nullptr) give_up();
}

void JobWait::start(std::coroutine_handle<> h) {
  task = &current_task();
  LoopCore& loop = task->loop();
  job->waiter = this;
  try {
    loop.pool().submit(job);
  } catch (...) {
    job->waiter = nullptr;
    throw;  // not started: ~JobWait frees the job
  }
  task->park(h, this);
}

void JobWait::check() {
  if (job == nullptr) {
    // Given up on cancellation: the call's outcome is not ours any more.
    task->take_cancel();
    task->throw_cancelled();
  }
}

void JobWait::give_up() noexcept {
  JobBase* j = std::exchange(job, nullptr);
  // A job has a waiter from its submission on (never submitted: none).
  if (j->waiter == nullptr || j->finished || task->loop().pool().withdraw(j)) {
    delete j;
  } else {
    j->waiter = nullptr;  // running, or on its way back: the loop frees it on return
  }
}

void JobWait::on_cancel(Wait* w) noexcept {
  auto* self = static_cast<JobWait*>(w);
  // Finished: the result stands and the cancellation stays pending.
  if (self->job == nullptr || self->job->finished) return;
  self->give_up();
  self->task->loop().schedule(self->task);
}

}  // namespace aio::detail
