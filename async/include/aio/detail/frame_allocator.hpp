#pragma once
// Where coroutine frames and task states come from. One place, so that a
// pooling allocator can replace the global one without touching the types.

#include <cstddef>

namespace aio::detail {

/// Memory for a coroutine frame: aligned as ::operator new aligns (16).
void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

/// Memory for a small object aligned to at most 8 (a task's state): sized
/// to 8 bytes, not 16, so that a void task's state takes 104 bytes, not 112.
void* allocate_object(std::size_t size);
void deallocate_object(void* p, std::size_t size) noexcept;

}  // namespace aio::detail
