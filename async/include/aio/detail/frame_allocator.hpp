#pragma once
// Where coroutine frames come from. One place, so that a pooling allocator
// can replace the global one without touching the coroutine types.

#include <cstddef>

namespace aio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

}  // namespace aio::detail
