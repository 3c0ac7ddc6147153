#pragma once
// The object an SQE's user_data points at. Kept free of <liburing.h> so that
// the runtime's public headers can embed completions in their awaiters.

namespace aio::uring {

/// Receives the CQE of one submitted operation.
///
/// The ring calls `complete` exactly once per SQE carrying this object's
/// address, from inside `Ring::reap()` (or `Ring::get_sqe()` when the SQ is
/// full). The object must stay alive until then, also after the operation was
/// cancelled: the kernel may still write into the operation's buffers until
/// this CQE is posted. `complete` must not throw. It may prepare new SQEs
/// (a verb may submit and reap when the SQ is full: `Ring::reap` advances
/// past each CQE before dispatching it, so a nested reap never sees it
/// twice), but scheduling work for later is what it is for.
struct Completion {
  void (*complete)(Completion* self, int res, unsigned flags) noexcept = nullptr;
};

}  // namespace aio::uring
