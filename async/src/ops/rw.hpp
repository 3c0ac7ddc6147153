#pragma once
// Shared by the op files: the length clamp of read/write-like ops.

#include <climits>
#include <cstddef>

namespace aio::detail {

inline unsigned clamp_len(std::size_t n) noexcept { return n > INT_MAX ? INT_MAX : static_cast<unsigned>(n); }

}  // namespace aio::detail
