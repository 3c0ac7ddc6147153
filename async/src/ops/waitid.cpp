// IORING_OP_WAITID on a pidfd, or IORING_OP_POLL_ADD of it (Process::wait).
#include <liburing.h>
#include <poll.h>
#include <sys/wait.h>

#include "../process/wait_op.hpp"

namespace aio::detail {

void ChildWaitOp::prep_waitid(ChildWaitOp* self, io_uring_sqe* sqe) noexcept {
  // As liburing's io_uring_prep_waitid (2.5): id in fd, idtype in len,
  // options in file_index, the siginfo in addr2.
  io_uring_prep_rw(kOpWaitid, sqe, self->pidfd_, nullptr, P_PIDFD, 0);
  sqe->file_index = WEXITED | WNOWAIT;
  sqe->addr2 = reinterpret_cast<unsigned long>(&self->info_);
}

void ChildWaitOp::prep_poll(ChildWaitOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_poll_add(sqe, self->pidfd_, POLLIN);
}

}  // namespace aio::detail
