// IORING_OP_OPENAT (aio::open_file).
#include <fcntl.h>
#include <liburing.h>

#include "aio/file.hpp"

namespace aio::detail {

void OpenOp::prep(OpenOp* self, io_uring_sqe* sqe) noexcept {
  // The kernel copies the path when it takes the SQE; the op keeps it until then.
  io_uring_prep_openat(sqe, AT_FDCWD, self->path_.c_str(), self->flags_ | O_CLOEXEC, self->mode_);
}

}  // namespace aio::detail
