#include "ring_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace aio::uring::detail {

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

namespace {

constexpr std::size_t kBlock = std::size_t{2} << 20;  // one x86-64 transparent huge page

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
  static Arena* create() {
    char* raw = map_anonymous(2 * kBlock);
    const auto addr = reinterpret_cast<std::uintptr_t>(raw);
    char* base = raw + ((kBlock - addr % kBlock) % kBlock);
    if (base != raw) ::munmap(raw, static_cast<std::size_t>(base - raw));
    if (char* tail = base + kBlock; tail != raw + 2 * kBlock) {
      ::munmap(tail, static_cast<std::size_t>(raw + 2 * kBlock - tail));
    }
    // Best effort: without a huge page the ring still works (the kernel
    // vmap()s the pinned small pages, or, before Linux 6.13, refuses
    // memory that is not one folio with EINVAL, and the ring falls back to
    // kernel-allocated memory).
    (void)::madvise(base, kBlock, MADV_HUGEPAGE);
    return new Arena(base);
  }

  /// The next `pages` pages nobody used since the block was last fresh;
  /// false when the block is used up and one of its rings is still alive.
  bool take(std::size_t pages, std::size_t& first) {
    std::lock_guard<std::mutex> lock(mu_);
    if (retired_) return false;
    if (next_ + pages > kBlock / page_size()) {
      if (live_ != 0) return false;
      // Every ring of the block is gone (their fds closed): new pages for the
      // whole block. The kernel keeps, and may still write, the old ones.
      (void)::madvise(base_, kBlock, MADV_DONTNEED);
      next_ = 0;
    }
    first = next_;
    next_ += pages;
    ++live_;
    refs_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void give_back() noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
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

  void unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      ::munmap(base_, kBlock);
      delete this;
    }
  }

  char* base() const noexcept { return base_; }

 private:
  explicit Arena(char* base) : base_(base) {}
  ~Arena() = default;

  char* base_;
  std::mutex mu_;  // a ring may be torn down on another thread than its creator
  std::size_t next_ = 0;  // first page never handed out since the block was fresh
  std::size_t live_ = 0;  // rings using the block
  std::atomic<unsigned> refs_{1};  // the thread's, and one per ring
  bool retired_ = false;
};

namespace {

/// The calling thread's arena; its reference is dropped at thread exit (the
/// mapping goes once the thread's last ring is gone too).
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

RingMemory acquire_ring_memory(std::size_t bytes) {
  const std::size_t pages = bytes / page_size();
  if (bytes <= kBlock) {
    ThreadArena& t = tls_arena;
    std::size_t first = 0;
    if (t.arena == nullptr || !t.arena->take(pages, first)) {
      if (t.arena != nullptr) t.arena->retire();
      t.arena = nullptr;
      t.arena = Arena::create();
      t.arena->take(pages, first);  // a fresh block has room for any ring up to its size
    }
    return RingMemory{t.arena->base() + first * page_size(), bytes, t.arena, first};
  }
  // Larger than a block: a mapping of its own.
  return RingMemory{map_anonymous(bytes), bytes, nullptr, 0};
}

void release_ring_memory(RingMemory& m) noexcept {
  if (m.base == nullptr) return;
  if (m.arena != nullptr) {
    m.arena->give_back();
  } else {
    ::munmap(m.base, m.bytes);
  }
  m = RingMemory{};
}

}  // namespace aio::uring::detail
