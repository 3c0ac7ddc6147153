// IORING_OP_STATX of an open descriptor (aio::File::stat).
#include <fcntl.h>
#include <liburing.h>

#include "aio/file.hpp"

namespace aio::detail {

void StatxOp::prep(StatxOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_statx(sqe, self->fd_, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &self->stx_);
}

}  // namespace aio::detail
