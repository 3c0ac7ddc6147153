#pragma once
// Internal: the wait for a child's end on the ring, IORING_OP_WAITID with
// WNOWAIT (the reap is a waitid(WNOHANG) after it) or a POLLIN poll of the
// child's pidfd where the kernel lacks WAITID (before Linux 6.7).

#include <signal.h>

#include <cerrno>
#include <coroutine>

#include "aio/detail/io_op.hpp"

namespace aio::detail {

// liburing 2.3 predates it; the value is the kernel's (include/uapi/linux/io_uring.h, 6.7).
inline constexpr int kOpWaitid = 50;

class [[nodiscard]] ChildWaitOp final : public IoOp {
 public:
  ChildWaitOp(int pidfd, bool use_waitid) noexcept : pidfd_(pidfd), waitid_(use_waitid) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, waitid_ ? &prep_waitid : &prep_poll); }
  /// 0 once the child ended (or -ECHILD: reaped meanwhile by another wait).
  int await_resume() const {
    if (raw_result() == -ECHILD) return -ECHILD;
    result("aio::Process::wait");
    return 0;
  }

 private:
  static void prep_waitid(ChildWaitOp* self, io_uring_sqe* sqe) noexcept;  // ops/waitid.cpp
  static void prep_poll(ChildWaitOp* self, io_uring_sqe* sqe) noexcept;    // ops/waitid.cpp
  int pidfd_;
  bool waitid_;
  siginfo_t info_{};  // written by the kernel (WAITID)
};

}  // namespace aio::detail
