#include "driver.hpp"

#include "net/net_context.hpp"

namespace aio::detail {
namespace {

void to_timespec(std::int64_t ns, __kernel_timespec& ts) noexcept {
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
}

}  // namespace

Driver::Driver(const uring::RingOptions& options) : ring(options) {
  timer_.complete = &on_timer;
  timer_.driver = this;
  wake_.complete = &on_wake;
  wake_.driver = this;
}

Driver::~Driver() = default;

void Driver::arm_wake(int fd) {
  if (wake_armed_) return;
  ring.read(fd, &wake_count_, sizeof wake_count_, 0, &wake_);
  wake_armed_ = true;
}

void Driver::on_wake(uring::Completion* c, int /*res: 8, or -ECANCELED at close*/,
                     unsigned /*flags*/) noexcept {
  // Nothing else to do: the loop drains RemoteQueue at its next iteration.
  static_cast<DriverCompletion*>(c)->driver->wake_armed_ = false;
}

void Driver::arm_timer(std::int64_t deadline) {
  if (!armed_) {
    to_timespec(deadline, arm_ts_);
    ring.timeout_at(&arm_ts_, &timer_);
    armed_ = true;
    armed_deadline_ = deadline;
  } else if (deadline < armed_deadline_) {
    // If the armed timeout fired meanwhile, the update fails with -ENOENT
    // and the timeout's own CQE clears armed_: the next idle iteration re-arms.
    to_timespec(deadline, update_ts_);
    ring.timeout_update(&update_ts_, &timer_);
    armed_deadline_ = deadline;
  }
}

void Driver::on_timer(uring::Completion* c, int /*res: -ETIME fired, -ECANCELED at close*/,
                      unsigned /*flags*/) noexcept {
  static_cast<DriverCompletion*>(c)->driver->armed_ = false;
}

}  // namespace aio::detail
