// IORING_OP_CLOSE (aio::File::close).
#include <liburing.h>

#include "aio/file.hpp"

namespace aio::detail {

void CloseOp::prep(CloseOp* self, io_uring_sqe* sqe) noexcept { io_uring_prep_close(sqe, self->fd_); }

}  // namespace aio::detail
