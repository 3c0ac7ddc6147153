// IORING_OP_READ of an eventfd's 8-byte counter (the signal wake-up).
#include "counter_read.hpp"

#include <liburing.h>

namespace aio::detail {

void prep_counter_read(io_uring_sqe* sqe, int fd, std::uint64_t* into) noexcept {
  io_uring_prep_read(sqe, fd, into, sizeof *into, 0);
}

}  // namespace aio::detail
