#pragma once
// One 2 MiB block of anonymous memory, aligned to 2 MiB and advised for a
// transparent huge page: the ring memory's arenas and the frame allocator's.

#include <cstddef>

namespace aio::uring {

inline constexpr std::size_t kHugeBlockBytes = std::size_t{2} << 20;  // one x86-64 huge page

/// Maps kHugeBlockBytes read-write, aligned to kHugeBlockBytes, and asks for
/// a huge page to back it (best effort). Returns null when mmap fails (errno
/// says why). Release with munmap(block, kHugeBlockBytes).
void* map_huge_block() noexcept;

}  // namespace aio::uring
