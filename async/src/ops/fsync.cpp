// IORING_OP_FSYNC (aio::File::fsync / fdatasync).
#include <liburing.h>

#include "aio/file.hpp"

namespace aio::detail {

void FsyncOp::prep(FsyncOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_fsync(sqe, self->fd_, self->datasync_ ? IORING_FSYNC_DATASYNC : 0);
}

}  // namespace aio::detail
