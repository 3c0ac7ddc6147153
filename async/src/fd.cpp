#include "aio/fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace aio::detail {
namespace {

unsigned clamp_len(std::size_t n) { return n > INT_MAX ? INT_MAX : static_cast<unsigned>(n); }

}  // namespace

IoOp::~IoOp() {
  if (in_flight_) {
    std::fputs("aio: fatal: an io_uring operation's memory is being freed while the kernel may still "
               "write to it\n",
               stderr);
    std::abort();
  }
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

void IoOp::on_complete(uring::Completion* c, int res, unsigned /*flags*/) noexcept {
  auto* self = static_cast<IoOp*>(c);
  self->res_ = res;
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

void ReadOp::await_suspend(std::coroutine_handle<> h) {
  task_ = &current_task();
  submit_read(task_->loop(), fd_, buf_.data(), clamp_len(buf_.size()), this);
  in_flight_ = true;
  park(h);
}

void WriteOp::await_suspend(std::coroutine_handle<> h) {
  task_ = &current_task();
  submit_write(task_->loop(), fd_, buf_.data(), clamp_len(buf_.size()), this);
  in_flight_ = true;
  park(h);
}

void PollOp::await_suspend(std::coroutine_handle<> h) {
  task_ = &current_task();
  submit_poll(task_->loop(), fd_, static_cast<unsigned short>(events_), this);
  in_flight_ = true;
  park(h);
}

}  // namespace aio::detail
