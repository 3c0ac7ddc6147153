#include "aio/detail/frame_allocator.hpp"

#include "aio/uring/huge_block.hpp"

#include <cstdint>
#include <mutex>

#include <new>
#include <utility>

// Coroutine frames and task states are allocated and freed by the hundred
// thousand (a gather of 100,000 tasks): with glibc malloc that costs
// _int_malloc's bin work and, after each burst, the page faults of a heap
// that was trimmed back to the kernel. So blocks up to 1 KiB come from
// per-thread free lists of 8-byte size classes (frames are rounded to 16, to
// keep operator new's alignment), carved from 64 KiB slabs
// that are never returned: a thread that exits hands its free lists to a
// global pool that the next threads draw from, and a block freed on another
// thread simply joins that thread's list (slabs are never unmapped, so this
// is always safe). Under the sanitizers the global allocator is used, so that
// ASan still sees every frame's lifetime.

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_PLAIN_FRAMES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define AIO_PLAIN_FRAMES 1
#endif
#endif

namespace aio::detail {

#ifdef AIO_PLAIN_FRAMES

void* allocate_frame(std::size_t size) { return ::operator new(size); }
void deallocate_frame(void* p, std::size_t /*size*/) noexcept { ::operator delete(p); }
void* allocate_object(std::size_t size) { return ::operator new(size); }
void deallocate_object(void* p, std::size_t /*size*/) noexcept { ::operator delete(p); }

#else

namespace {

constexpr std::size_t kGranule = 8;
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr std::size_t kSlabBytes = 64 * 1024;

constexpr std::size_t kArenaBytes = uring::kHugeBlockBytes;

struct Block {
  Block* next;
};

// A 2 MiB-aligned arena advised for transparent huge pages; never unmapped.
unsigned char* map_arena() {
  void* p = uring::map_huge_block();
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<unsigned char*>(p);
}

// Free lists left behind by threads that exited.
struct Orphans {
  std::mutex mutex;
  Block* free[kClasses] = {};
};

Orphans& orphans() {
  static Orphans* o = new Orphans;  // never destroyed: threads may exit after static destructors ran
  return *o;
}

struct Pool {
  Block* free[kClasses] = {};

  ~Pool() {
    Orphans& o = orphans();
    std::lock_guard<std::mutex> lock(o.mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (Block* b = free[c]) {
        free[c] = b->next;
        b->next = o.free[c];
        o.free[c] = b;
      }
    }
  }

  // Slabs are cut from 2 MiB arenas that the kernel may back with huge
  // pages: a burst of a million frames then faults ~150 pages, not ~75,000.
  unsigned char* arena_ = nullptr;
  std::size_t arena_left_ = 0;

  unsigned char* new_slab() {
    if (arena_left_ < kSlabBytes) {
      arena_ = map_arena();
      arena_left_ = kArenaBytes;
    }
    unsigned char* slab = arena_;
    arena_ += kSlabBytes;
    arena_left_ -= kSlabBytes;
    return slab;
  }

  Block* refill(std::size_t cls) {
    {
      Orphans& o = orphans();
      std::lock_guard<std::mutex> lock(o.mutex);
      if (o.free[cls] != nullptr) return std::exchange(o.free[cls], nullptr);
    }
    const std::size_t size = (cls + 1) * kGranule;
    const std::size_t count = kSlabBytes / size;
    unsigned char* slab = new_slab();
    Block* head = nullptr;
    for (std::size_t i = count; i-- > 0;) {
      auto* b = reinterpret_cast<Block*>(slab + i * size);
      b->next = head;
      head = b;
    }
    return head;
  }
};

thread_local Pool t_pool;

void* allocate(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  const std::size_t cls = (size - 1) / kGranule;
  Pool& pool = t_pool;
  Block* b = pool.free[cls];
  if (b == nullptr) b = pool.refill(cls);
  pool.free[cls] = b->next;
  return b;
}

void deallocate(void* p, std::size_t size) noexcept {
  if (size == 0 || size > kMaxPooled) {
    ::operator delete(p);
    return;
  }
  const std::size_t cls = (size - 1) / kGranule;
  Pool& pool = t_pool;
  auto* b = static_cast<Block*>(p);
  b->next = pool.free[cls];
  pool.free[cls] = b;
}

// A class whose size is a multiple of 16 is carved at a 16-byte stride from
// 16-aligned slabs: its blocks keep operator new's alignment.
constexpr std::size_t round16(std::size_t n) { return (n + 15) & ~std::size_t{15}; }

}  // namespace

void* allocate_frame(std::size_t size) { return allocate(round16(size)); }
void deallocate_frame(void* p, std::size_t size) noexcept { deallocate(p, round16(size)); }
void* allocate_object(std::size_t size) { return allocate(size); }
void deallocate_object(void* p, std::size_t size) noexcept { deallocate(p, size); }

#endif

}  // namespace aio::detail
