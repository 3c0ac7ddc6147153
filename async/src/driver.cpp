#include "driver.hpp"

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
  static_cast<TimerCompletion*>(c)->driver->armed_ = false;
}

}  // namespace aio::detail
