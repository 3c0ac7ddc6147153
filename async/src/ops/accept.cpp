// IORING_OP_ACCEPT, single-shot (aio::sock_accept).
#include <liburing.h>

#include "aio/net/sock.hpp"

namespace aio::detail {

void AcceptOp::prep(AcceptOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_accept(sqe, self->fd_, self->addr_.data(), &self->len_, SOCK_CLOEXEC);
}

}  // namespace aio::detail
