#pragma once
// The object an SQE's user_data points at. Kept free of <liburing.h> so that
// the runtime's public headers can embed completions in their awaiters.

#include <cstdint>

namespace aio::uring {

/// CQE flag bits the completions read (the kernel's values, from
/// <linux/io_uring.h>, restated here to keep <liburing.h> out).
inline constexpr unsigned kCqeBuffer = 1U << 0;  ///< IORING_CQE_F_BUFFER: upper 16 bits are the buffer id
inline constexpr unsigned kCqeMore = 1U << 1;    ///< IORING_CQE_F_MORE: more CQEs of this operation follow
inline constexpr unsigned kCqeBufferShift = 16;  ///< IORING_CQE_BUFFER_SHIFT

/// Receives the CQEs of one submitted operation.
///
/// The ring calls `complete` once per CQE carrying this object's address,
/// from inside `Ring::reap()` (or from the ring's own flush when the SQ is
/// full). A single-shot operation has one CQE; a multishot one (IORING_CQE_F_MORE
/// set on all but the last) has many, and ends at the first CQE without
/// `kCqeMore`, whatever its `res`. The object must stay alive until that
/// final CQE, also after the operation was cancelled: the kernel may still
/// write into the operation's buffers until then. `complete` must not throw;
/// it may prepare new SQEs (the ring may then flush and reap in place, which
/// dispatches other completions: nothing the callback holds may be left
/// half-updated at that point; `Ring::reap` advances past each CQE before
/// dispatching it, so a nested reap never sees it twice).
struct Completion {
  void (*complete)(Completion* self, int res, unsigned flags) noexcept = nullptr;
};

}  // namespace aio::uring
