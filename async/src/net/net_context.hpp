#pragma once
// The loop's networking state, made at its first socket so that a loop that
// never touches the network pays nothing: the provided-buffer ring every
// connection's recv draws from. Internal.

#include <memory>

#include "aio/detail/net_features.hpp"
#include "aio/uring/buffer_ring.hpp"

namespace aio::detail {

class LoopCore;

class NetContext {
 public:
  static constexpr unsigned short kGroup = 1;
  static constexpr unsigned kBuffers = 256;
  static constexpr unsigned kBufferSize = 16 * 1024;

  explicit NetContext(uring::Ring& ring);
  /// The shared buffer ring, null when the kernel refused buffer rings.
  uring::BufferRing* buffers() noexcept { return buffers_.get(); }

 private:
  std::unique_ptr<uring::BufferRing> buffers_;
};

/// The loop's NetContext, made at the first call. Throws: std::system_error
/// when the kernel lacks an opcode networking needs (EOPNOTSUPP).
NetContext& net_context(LoopCore& loop);

}  // namespace aio::detail
