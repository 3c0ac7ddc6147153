// IORING_OP_READ / IORING_OP_WRITE at an offset (aio::File).
#include <liburing.h>

#include "aio/file.hpp"
#include "rw.hpp"

namespace aio::detail {

void ReadAtOp::prep(ReadAtOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_read(sqe, self->fd_, self->buf_.data(), clamp_len(self->buf_.size()), self->offset_);
}

void WriteAtOp::prep(WriteAtOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_write(sqe, self->fd_, self->buf_.data(), clamp_len(self->buf_.size()), self->offset_);
}

}  // namespace aio::detail
