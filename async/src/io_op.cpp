#include "aio/detail/io_op.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "aio/detail/loop_core.hpp"
#include "driver.hpp"

namespace aio::detail {

io_uring_sqe* prepare_sqe(LoopCore& loop, uring::Completion* c) {
  return loop.driver().ring.prepare(c);
}

IoOp::~IoOp() {
  if (in_flight_) {
    std::fputs("aio: fatal: an io_uring operation's memory is being freed while the kernel may still "
               "write to it\n",
               stderr);
    std::abort();
  }
}

io_uring_sqe* IoOp::begin() {
  task_ = &current_task();
  // A cancellation already pending is delivered here, before the operation
  // exists: submitted with its cancel, an operation that can complete at
  // once (data waiting) always would, and the cancellation never land.
  if (task_->take_cancel()) task_->throw_cancelled();
  return prepare_sqe(task_->loop(), this);
}

void IoOp::park(std::coroutine_handle<> h) noexcept {
  in_flight_ = true;
  task_->park(h, this);
}

bool IoOp::await_cancelled() const noexcept {
  // An operation that io-wq was already running ends with -EINTR when cancelled.
  if (!cancel_sent_ || (res_ != -ECANCELED && res_ != -EINTR)) return false;
  task_->take_cancel();
  return true;
}

int IoOp::result(const char* what) const {
  if (await_cancelled()) {
    // Ended by our cancel: CancelledError, also if the request was withdrawn
    // (uncancel) meanwhile, as a primitive's waiter does; never an errno a
    // catch (std::exception&) would swallow.
    task_->throw_cancelled();
  }
  if (res_ < 0) throw std::system_error(-res_, std::system_category(), what);
  return res_;
}

void IoOp::on_complete(uring::Completion* c, int res, unsigned flags) noexcept {
  auto* self = static_cast<IoOp*>(c);
  self->res_ = res;
  self->flags_ = flags;
  self->in_flight_ = false;
  self->task_->loop().schedule(self->task_);
}

void IoOp::on_cancel(Wait* w) noexcept {
  auto* self = static_cast<IoOp*>(w);
  // Once completed the result stands: the cancellation stays pending on the task.
  if (!self->in_flight_ || self->cancel_sent_) return;
  self->cancel_sent_ = true;
  try {
    submit_cancel(self->task_->loop(), self);
  } catch (...) {
    // The ring refused even after flushing: the operation completes on its own.
    self->cancel_sent_ = false;
  }
}

io_uring_sqe* OwnedOp::arm(LoopCore& loop) {
  io_uring_sqe* sqe = prepare_sqe(loop, this);
  armed_ = true;
  cancel_sent_ = false;
  return sqe;
}

void OwnedOp::cancel(LoopCore& loop) {
  if (!armed_ || cancel_sent_) return;
  cancel_sent_ = true;
  try {
    submit_cancel(loop, this);
  } catch (...) {
    cancel_sent_ = false;  // the op ends on its own (or at the loop's close)
  }
}

void OwnedOp::dispatch(uring::Completion* c, int res, unsigned flags) noexcept {
  auto* self = static_cast<OwnedOp*>(c);
  const bool final = (flags & uring::kCqeMore) == 0;
  if (final) self->armed_ = false;
  self->on_cqe_(self, res, flags, final);
}

}  // namespace aio::detail
