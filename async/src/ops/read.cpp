// IORING_OP_READ at the file's position (aio::read).
#include <liburing.h>

#include "aio/fd.hpp"
#include "rw.hpp"

namespace aio::detail {

void ReadOp::prep(ReadOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_read(sqe, self->fd_, self->buf_.data(), clamp_len(self->buf_.size()),
                     static_cast<std::uint64_t>(-1));
}

}  // namespace aio::detail
