// IORING_OP_RECV into the caller's buffer (aio::sock_recv_into, sock_recv).
#include <liburing.h>

#include "aio/net/sock.hpp"
#include "rw.hpp"

namespace aio::detail {

void RecvOp::prep(RecvOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_recv(sqe, self->fd_, self->buf_.data(), clamp_len(self->buf_.size()), 0);
}

}  // namespace aio::detail
