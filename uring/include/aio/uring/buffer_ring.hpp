#pragma once
// A provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): buffers
// the kernel picks from when a recv completes, so an idle connection holds
// no buffer of its own. liburing 2.3 has the register call and the
// io_uring_buf_ring_* helpers but not io_uring_setup_buf_ring (2.4): the
// ring memory is mapped here. Internal to the library (<liburing.h>).

#include <liburing.h>

#include <cstddef>
#include <cstdint>

#include "aio/uring/ring.hpp"

namespace aio::uring {

class BufferRing {
 public:
  /// Maps `count` (a power of two, at most 32768) buffers of `size` bytes
  /// and registers them with `ring` as buffer group `group`.
  /// Throws: std::system_error with the errno (EINVAL: the kernel has no
  /// buffer rings; ENOMEM).
  BufferRing(Ring& ring, unsigned short group, unsigned count, unsigned size);
  /// Unregisters and unmaps. Only once no operation that may pick a buffer
  /// is in flight.
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  unsigned short group() const noexcept { return group_; }
  unsigned buffer_size() const noexcept { return size_; }
  /// The buffer a CQE with IORING_CQE_F_BUFFER names (flags >> 16).
  const char* buffer(unsigned id) const noexcept { return buffers_ + std::size_t{id} * size_; }
  /// Hands buffer `id` back to the kernel (after its bytes were copied out).
  void recycle(unsigned id) noexcept {
    io_uring_buf_ring_add(ring_mem_, buffers_ + std::size_t{id} * size_, size_,
                          static_cast<unsigned short>(id), mask_, 0);
    io_uring_buf_ring_advance(ring_mem_, 1);
  }

 private:
  Ring& ring_;
  io_uring_buf_ring* ring_mem_ = nullptr;
  char* buffers_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t buffer_bytes_ = 0;
  unsigned count_;
  unsigned size_;
  int mask_;
  unsigned short group_;
};

}  // namespace aio::uring
