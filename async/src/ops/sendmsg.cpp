// IORING_OP_SENDMSG to an address, MSG_NOSIGNAL (sock_sendto, DatagramEndpoint).
#include <liburing.h>

#include "aio/net/sock.hpp"

namespace aio::detail {

SendMsgOp::SendMsgOp(int fd, std::span<const std::byte> buf, const SockAddr* to) noexcept
    : fd_(fd), buf_(buf) {
  if (to != nullptr) to_ = *to;
}

void SendMsgOp::prep(SendMsgOp* self, io_uring_sqe* sqe) noexcept {
  self->iov_ = {const_cast<std::byte*>(self->buf_.data()), self->buf_.size()};
  self->msg_ = {};
  if (!self->to_.empty()) {
    self->msg_.msg_name = self->to_.data();
    self->msg_.msg_namelen = self->to_.size();
  }
  self->msg_.msg_iov = &self->iov_;
  self->msg_.msg_iovlen = 1;
  io_uring_prep_sendmsg(sqe, self->fd_, &self->msg_, MSG_NOSIGNAL);
}

}  // namespace aio::detail
