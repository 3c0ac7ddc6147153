#pragma once
// Memory for rings set up with IORING_SETUP_NO_MMAP: the application gives
// the kernel the SQE array and the ring (struct io_rings: heads, tails,
// flags, CQEs, SQ array).
//
// Setting up and tearing down kernel-allocated ring memory is much of what a
// fresh ring costs (the kernel allocates and zeroes the pages, the process
// mmap()s them with MAP_POPULATE, and munmap()s them — TLB shootdowns — at
// teardown). Here the memory comes from a per-thread block instead:
//
// - 2 MiB, aligned and madvise(MADV_HUGEPAGE)d, so that it is one transparent
//   huge page when the kernel allows it: the kernel then reaches each region
//   through the folio's linear address instead of vmap()ping the pinned pages
//   (and vunmap()ping them in its teardown);
// - handed out page by page, first fit (a ring of the default size takes 4
//   pages of SQEs and 5 of ring);
// - with one rule, because the kernel tears a ring down later, in a
//   workqueue, after close() returned, and that teardown still writes into
//   the ring's memory: io_ring_ctx_free republishes the CQ tail and clears
//   IORING_SQ_CQ_OVERFLOW in the io_rings header at the start of the ring
//   region; an operation still in flight would also have its CQE posted
//   there. (Linux 6.5 to 6.18; a header reused at once had the new ring's CQ
//   tail overwritten with the old one's: hangs and garbage completions.) So
//   at teardown the ring region's first page — the header — is retired, and
//   so is the whole ring region if an operation was in flight; the rest
//   (SQEs, which the kernel only reads while submitting, and the CQE pages)
//   can serve the next ring at once. Retired pages come back when the block
//   is used up and none of its rings is alive: madvise(MADV_DONTNEED) of the
//   whole block gives the thread fresh zero pages on the next touch, while
//   the kernel keeps the pages it pinned — and may write into them — until
//   its own teardown ends. A block used up while one of its rings is alive
//   is given up (unmapped when its last ring goes) for a new one.
//
// Rings larger than a block get a mapping of their own, unmapped at teardown.

#include <cstddef>

#include "aio/uring/ring.hpp"  // detail::RingMemory

namespace aio::uring::detail {

/// `sqe_bytes` and `ring_bytes` (page multiples) for one ring. The SQE pages
/// hold whatever they held; the ring region's first page is zeroed (the
/// kernel takes the heads and tails there as they are).
/// Throws std::system_error (mmap's errno) when no memory can be mapped.
RingMemory acquire_ring_memory(std::size_t sqe_bytes, std::size_t ring_bytes);

/// Gives the memory back once the ring's fd is closed. `in_flight`: some
/// operation had no CQE reaped yet (the kernel may post it into the ring).
void release_ring_memory(RingMemory& m, bool in_flight) noexcept;

/// The system's page size.
std::size_t page_size() noexcept;

}  // namespace aio::uring::detail
