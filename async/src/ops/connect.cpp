// IORING_OP_CONNECT (aio::sock_connect).
#include <liburing.h>

#include "aio/net/sock.hpp"

namespace aio::detail {

void ConnectOp::prep(ConnectOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_connect(sqe, self->fd_, self->addr_.data(), self->addr_.size());
}

}  // namespace aio::detail
