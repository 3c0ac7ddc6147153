#pragma once
// Memory for rings set up with IORING_SETUP_NO_MMAP: the application gives
// the kernel the SQE array and the ring (heads, tails, CQEs, SQ array).
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
// - handed out by bumping a pointer, page-granular (a ring of the default
//   size takes 9 of its 512 pages);
// - never reused in place. The kernel tears a ring down later, in a
//   workqueue, after close() returned, and that teardown still writes into
//   the ring's memory (io_ring_ctx_free republishes the CQ tail; an operation
//   cancelled there posts its CQE). A slot reused at once would have its new
//   ring's tail overwritten by the old one's. Instead, once the block is used
//   up and none of its rings is alive, the whole block is dropped with
//   madvise(MADV_DONTNEED): the thread gets fresh zero pages on the next
//   touch, while the kernel keeps the pages it pinned — and writes into them
//   — until its own teardown ends. A block used up while one of its rings is
//   alive is given up (unmapped when its last ring goes) for a new one.
//
// Rings larger than a block get a mapping of their own, unmapped at teardown.

#include <cstddef>

#include "aio/uring/ring.hpp"  // detail::RingMemory

namespace aio::uring::detail {

/// `bytes` (page-aligned) of zeroed memory that no ring used before.
/// Throws std::system_error (mmap's errno) when no memory can be mapped.
RingMemory acquire_ring_memory(std::size_t bytes);

/// Gives the memory back once the ring's fd is closed. The kernel may still
/// write into it; it is never handed out again while mapped to those pages.
void release_ring_memory(RingMemory& m) noexcept;

/// The system's page size.
std::size_t page_size() noexcept;

}  // namespace aio::uring::detail
