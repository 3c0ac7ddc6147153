#include "ring_memory.hpp"

#include "aio/uring/huge_block.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace aio::uring {

void* map_huge_block() noexcept {
  constexpr std::size_t block = kHugeBlockBytes;
  // Twice the size, then the unaligned head and tail given back.
  void* p = ::mmap(nullptr, 2 * block, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto raw = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t base = (raw + block - 1) & ~(block - 1);
  if (base > raw) ::munmap(p, base - raw);
  if (raw + 2 * block > base + block) ::munmap(reinterpret_cast<void*>(base + block), raw + 2 * block - base - block);
  (void)::madvise(reinterpret_cast<void*>(base), block, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(base);
}

}  // namespace aio::uring

namespace aio::uring::detail {

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

namespace {

constexpr std::size_t kBlock = kHugeBlockBytes;

[[noreturn]] void throw_mmap_error(int err, std::size_t bytes) {
  throw std::system_error(err, std::system_category(),
                          "io_uring: mapping " + std::to_string(bytes) +
                              " bytes for the ring's memory (IORING_SETUP_NO_MMAP) failed");
}

char* map_anonymous(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (p == MAP_FAILED) throw_mmap_error(errno, bytes);
  return static_cast<char*>(p);
}

}  // namespace

class Arena {
 public:
  /// Maps a 2 MiB-aligned block and asks for a huge page to back it.
  // Without a huge page the ring still works (the kernel vmap()s the pinned
  // small pages, or, before Linux 6.13, refuses memory that is not one folio
  // with EINVAL, and the ring falls back to kernel-allocated memory).
  static Arena* create() {
    void* base = map_huge_block();
    if (base == nullptr) throw_mmap_error(errno, kBlock);
    return new Arena(static_cast<char*>(base));
  }

  /// Free runs of `sqe_pages` and `ring_pages` pages; false when the block
  /// has none and one of its rings is still alive.
  bool take(std::size_t sqe_pages, std::size_t ring_pages, std::size_t& sqe_first, std::size_t& ring_first) {
    std::lock_guard<std::mutex> lock(mu_);
    if (retired_) return false;
    if (!find(sqe_pages, sqe_first, ring_pages, ring_first)) {
      if (live_ != 0) return false;
      // Every ring of the block is gone (their fds closed): fresh pages for
      // the whole block. The kernel keeps, and may still write, the old ones.
      (void)::madvise(base_, kBlock, MADV_DONTNEED);
      std::memset(state_.data(), kFree, state_.size());
      if (!find(sqe_pages, sqe_first, ring_pages, ring_first)) return false;
    }
    mark(sqe_first, sqe_pages, kUsed);
    mark(ring_first, ring_pages, kUsed);
    ++live_;
    refs_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void give_back(std::size_t sqe_first, std::size_t sqe_pages, std::size_t ring_first, std::size_t ring_pages,
                 bool in_flight) noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
      mark(sqe_first, sqe_pages, kFree);
      if (in_flight) {
        mark(ring_first, ring_pages, kRetired);
      } else {
        mark(ring_first, 1, kRetired);  // the io_rings header
        mark(ring_first + 1, ring_pages - 1, kFree);
      }
      --live_;
    }
    unref();
  }

  /// The thread gives the block up (used up with a ring alive, or thread exit).
  void retire() noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
      retired_ = true;
    }
    unref();
  }

  char* base() const noexcept { return base_; }

 private:
  enum : unsigned char { kFree, kUsed, kRetired };

  explicit Arena(char* base) : base_(base), state_(kBlock / page_size(), kFree) {}
  ~Arena() = default;

  bool find_run(std::size_t pages, std::size_t& first, std::size_t skip_first, std::size_t skip_pages) const {
    std::size_t run = 0;
    for (std::size_t i = 0; i < state_.size(); ++i) {
      const bool skipped = i >= skip_first && i < skip_first + skip_pages;
      run = state_[i] == kFree && !skipped ? run + 1 : 0;
      if (run == pages) {
        first = i + 1 - pages;
        return true;
      }
    }
    return false;
  }
  bool find(std::size_t sqe_pages, std::size_t& sqe_first, std::size_t ring_pages, std::size_t& ring_first) const {
    return find_run(sqe_pages, sqe_first, 0, 0) && find_run(ring_pages, ring_first, sqe_first, sqe_pages);
  }
  void mark(std::size_t first, std::size_t pages, unsigned char s) noexcept {
    std::memset(state_.data() + first, s, pages);
  }

  void unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      ::munmap(base_, kBlock);
      delete this;
    }
  }

  char* base_;
  std::mutex mu_;  // a ring may be torn down on another thread than its creator
  std::vector<unsigned char> state_;  // per page
  std::size_t live_ = 0;              // rings using the block
  std::atomic<unsigned> refs_{1};     // the thread's, and one per ring
  bool retired_ = false;
};

namespace {

/// The calling thread's block; given up at thread exit (unmapped once the
/// thread's last ring is gone too).
struct ThreadArena {
  Arena* arena = nullptr;
  ThreadArena() = default;
  ThreadArena(const ThreadArena&) = delete;
  ThreadArena& operator=(const ThreadArena&) = delete;
  ~ThreadArena() {
    if (arena != nullptr) arena->retire();
  }
};

thread_local ThreadArena tls_arena;

}  // namespace

RingMemory acquire_ring_memory(std::size_t sqe_bytes, std::size_t ring_bytes) {
  const std::size_t page = page_size();
  RingMemory m;
  m.sqe_bytes = sqe_bytes;
  m.ring_bytes = ring_bytes;
  if (sqe_bytes + ring_bytes <= kBlock) {
    ThreadArena& t = tls_arena;
    std::size_t s = 0, r = 0;
    if (t.arena == nullptr || !t.arena->take(sqe_bytes / page, ring_bytes / page, s, r)) {
      if (t.arena != nullptr) t.arena->retire();
      t.arena = nullptr;
      t.arena = Arena::create();
      t.arena->take(sqe_bytes / page, ring_bytes / page, s, r);  // a fresh block fits any ring this size
    }
    m.arena = t.arena;
    m.sqes = t.arena->base() + s * page;
    m.rings = t.arena->base() + r * page;
    std::memset(m.rings, 0, page);  // may have been a CQE page of an earlier ring
  } else {
    // Larger than a block: a mapping of its own (fresh zero pages).
    m.sqes = map_anonymous(sqe_bytes + ring_bytes);
    m.rings = m.sqes + sqe_bytes;
  }
  return m;
}

void release_ring_memory(RingMemory& m, bool in_flight) noexcept {
  if (m.sqes == nullptr) return;
  if (m.arena != nullptr) {
    const std::size_t page = page_size();
    const char* base = m.arena->base();
    m.arena->give_back(static_cast<std::size_t>(m.sqes - base) / page, m.sqe_bytes / page,
                       static_cast<std::size_t>(m.rings - base) / page, m.ring_bytes / page, in_flight);
  } else {
    ::munmap(m.sqes, m.sqe_bytes + m.ring_bytes);
  }
  m = RingMemory{};
}

}  // namespace aio::uring::detail
