#pragma once
// Internal: the 8-byte read of an eventfd counter, for owner-held ops.

#include <cstdint>

struct io_uring_sqe;

namespace aio::detail {

void prep_counter_read(io_uring_sqe* sqe, int fd, std::uint64_t* into) noexcept;  // ops/counter_read.cpp

}  // namespace aio::detail
