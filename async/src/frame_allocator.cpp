#include "aio/detail/frame_allocator.hpp"

#include <new>

namespace aio::detail {

void* allocate_frame(std::size_t size) { return ::operator new(size); }

void deallocate_frame(void* p, std::size_t /*size*/) noexcept { ::operator delete(p); }

}  // namespace aio::detail
