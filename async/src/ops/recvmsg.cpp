// IORING_OP_RECVMSG with the source address (sock_recvfrom, DatagramEndpoint).
#include <liburing.h>

#include "aio/net/sock.hpp"

namespace aio::detail {

RecvMsgOp::RecvMsgOp(int fd, std::span<std::byte> buf) noexcept : fd_(fd), buf_(buf) {}

void RecvMsgOp::prep(RecvMsgOp* self, io_uring_sqe* sqe) noexcept {
  // The msghdr points into this op, which stays put once awaited.
  self->iov_ = {self->buf_.data(), self->buf_.size()};
  self->msg_ = {};
  self->msg_.msg_name = self->from_.data();
  self->msg_.msg_namelen = SockAddr::capacity();
  self->msg_.msg_iov = &self->iov_;
  self->msg_.msg_iovlen = 1;
  io_uring_prep_recvmsg(sqe, self->fd_, &self->msg_, 0);
}

}  // namespace aio::detail
