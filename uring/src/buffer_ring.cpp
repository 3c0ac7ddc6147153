#include "aio/uring/buffer_ring.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <system_error>

namespace aio::uring {

BufferRing::BufferRing(Ring& ring, unsigned short group, unsigned count, unsigned size)
    : ring_(ring), count_(count), size_(size), mask_(io_uring_buf_ring_mask(count)), group_(group) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768) {
    throw std::system_error(EINVAL, std::system_category(), "io_uring buffer ring: count must be a power of two");
  }
  // The ring of buffer descriptors must be page-aligned memory of ours.
  ring_bytes_ = sizeof(io_uring_buf) * count;
  void* m = ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::system_error(errno, std::system_category(), "io_uring buffer ring: mmap");
  ring_mem_ = static_cast<io_uring_buf_ring*>(m);
  buffer_bytes_ = std::size_t{count} * size;
  m = ::mmap(nullptr, buffer_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    const int err = errno;
    ::munmap(ring_mem_, ring_bytes_);
    throw std::system_error(err, std::system_category(), "io_uring buffer ring: mmap of the buffers");
  }
  buffers_ = static_cast<char*>(m);
  io_uring_buf_ring_init(ring_mem_);
  const int r = ring_.register_buf_ring(ring_mem_, count, group);
  if (r < 0) {
    ::munmap(buffers_, buffer_bytes_);
    ::munmap(ring_mem_, ring_bytes_);
    throw std::system_error(-r, std::system_category(),
                            "io_uring: registering a provided-buffer ring (IORING_REGISTER_PBUF_RING, "
                            "Linux 5.19) failed");
  }
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(ring_mem_, buffers_ + std::size_t{i} * size, size, static_cast<unsigned short>(i),
                          mask_, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(ring_mem_, static_cast<int>(count));
}

BufferRing::~BufferRing() {
  ring_.unregister_buf_ring(group_);
  ::munmap(buffers_, buffer_bytes_);
  ::munmap(ring_mem_, ring_bytes_);
}

}  // namespace aio::uring
