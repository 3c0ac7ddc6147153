// IORING_OP_POLL_ADD, single-shot (aio::poll).
#include <liburing.h>

#include "aio/fd.hpp"

namespace aio::detail {

void PollOp::prep(PollOp* self, io_uring_sqe* sqe) noexcept {
  io_uring_prep_poll_add(sqe, self->fd_, static_cast<unsigned short>(self->events_));
}

}  // namespace aio::detail
