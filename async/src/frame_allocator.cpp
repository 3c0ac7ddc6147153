#include "aio/detail/frame_allocator.hpp"

#include <cstdint>
#include <mutex>
#include <new>
#include <utility>

// Coroutine frames and task states are allocated and freed by the hundred
// thousand (a gather of 100,000 tasks): with glibc malloc that costs
// _int_malloc's bin work and, after each burst, the page faults of a heap
// that was trimmed back to the kernel. So blocks up to 1 KiB come from
// per-thread free lists of 16-byte size classes, carved from 64 KiB slabs
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

#else

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr std::size_t kSlabBytes = 64 * 1024;

struct Block {
  Block* next;
};

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

  Block* refill(std::size_t cls) {
    {
      Orphans& o = orphans();
      std::lock_guard<std::mutex> lock(o.mutex);
      if (o.free[cls] != nullptr) return std::exchange(o.free[cls], nullptr);
    }
    const std::size_t size = (cls + 1) * kGranule;
    const std::size_t count = kSlabBytes / size;
    auto* slab = static_cast<unsigned char*>(::operator new(count * size));
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

}  // namespace

void* allocate_frame(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  const std::size_t cls = (size - 1) / kGranule;
  Pool& pool = t_pool;
  Block* b = pool.free[cls];
  if (b == nullptr) b = pool.refill(cls);
  pool.free[cls] = b->next;
  return b;
}

void deallocate_frame(void* p, std::size_t size) noexcept {
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

#endif

}  // namespace aio::detail
