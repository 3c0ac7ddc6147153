// IORING_OP_SEND with MSG_NOSIGNAL (aio::sock_sendall): a library must not
// raise SIGPIPE in its user's program.
#include <liburing.h>

#include "aio/net/sock.hpp"
#include "rw.hpp"

namespace aio::detail {

void SendOp::prep(SendOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_send(sqe, self->fd_, self->buf_.data(), clamp_len(self->buf_.size()), MSG_NOSIGNAL);
}

}  // namespace aio::detail
