#pragma once
// The loop's io_uring side: the ring, the one armed kernel timeout that
// wakes the loop for its earliest timer, and the read of the eventfd through
// which other threads wake it. Internal (includes <liburing.h>).

#include <cstdint>
#include <memory>

#include "aio/uring/ring.hpp"

namespace aio::detail {

class NetContext;

class Driver {
 public:
  explicit Driver(const uring::RingOptions& options);
  ~Driver();  // unregisters the networking state's buffer ring before the ring goes

  /// Makes sure the kernel wakes the loop no later than `deadline`
  /// (CLOCK_MONOTONIC ns): arms the timeout SQE, or moves an armed one
  /// earlier with IORING_TIMEOUT_UPDATE. A timeout armed earlier than needed
  /// is left alone: it wakes the loop once, spuriously, and is re-armed.
  void arm_timer(std::int64_t deadline);

  /// Makes sure a read of the eventfd `fd` is armed, so that a write to it
  /// (RemoteQueue::post) ends the loop's wait in io_uring_enter. Other
  /// threads cannot submit to the ring (SINGLE_ISSUER): they write the
  /// eventfd, the kernel completes this read. Once completed, it is re-armed
  /// at the next wait.
  void arm_wake(int fd);

  uring::Ring ring;
  std::unique_ptr<NetContext> net;  // from the first socket (net/net_context.hpp)

 private:
  // A completion that finds its Driver: the timer's and the eventfd read's.
  struct DriverCompletion : uring::Completion {
    Driver* driver;
  };
  static void on_timer(uring::Completion* c, int res, unsigned flags) noexcept;
  static void on_wake(uring::Completion* c, int res, unsigned flags) noexcept;

  DriverCompletion wake_;
  std::uint64_t wake_count_ = 0;  // the eventfd's counter, written by the kernel
  bool wake_armed_ = false;

  DriverCompletion timer_;
  // Read by the kernel when the SQE is submitted; kept here until then.
  __kernel_timespec arm_ts_{};
  __kernel_timespec update_ts_{};
  std::int64_t armed_deadline_ = 0;
  bool armed_ = false;
};

}  // namespace aio::detail
