// Waiting allocates nothing: the waiter is a node in the awaiting frame,
// linked into the primitive's intrusive list (issue 3). Counted with a
// replaced global operator new that counts only while a test asks it to.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "aio/aio.hpp"

// A sanitizer brings its own operator new, which the libraries' allocations
// use: counting is for the plain build (the release preset runs it).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AIO_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef AIO_COUNT_ALLOCATIONS
#define AIO_COUNT_ALLOCATIONS 1
#endif

#if AIO_COUNT_ALLOCATIONS
namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

/// Allocations made by the tasks while `count` is on.
struct Counter {
  Counter() {
    allocations = 0;
    counting = true;
  }
  ~Counter() { counting = false; }
  long stop() {
    counting = false;
    return allocations.load();
  }
};

constexpr int rounds = 1'000;

}  // namespace

TEST_CASE("waiting on a queue, event, lock, semaphore or condition allocates nothing", "[alloc][queue]") {
  // Every task is created before counting starts; each round below parks a
  // task on the primitive and wakes it, through the loop's ready queue.
  aio::Queue<int> q;
  aio::Event ev;
  aio::Lock lock;
  aio::Semaphore sem(0);
  aio::Condition cond;
  long during = -1;
  int got = 0;
  auto consumer = [&]() -> aio::Task<> {
    for (int i = 0; i < rounds; ++i) {
      got += co_await q.get();  // waits: the producer hands the item over
      co_await ev.wait();
      ev.clear();
      co_await sem.acquire();
      co_await lock.acquire();
      lock.release();
      co_await cond.acquire();
      co_await cond.wait();
      cond.release();
    }
  };
  auto producer = [&]() -> aio::Task<> {
    for (int i = 0; i < rounds; ++i) {
      co_await aio::sleep(std::chrono::seconds(0));  // the consumer parks on get()
      q.put_nowait(1);
      co_await aio::sleep(std::chrono::seconds(0));
      ev.set();
      co_await aio::sleep(std::chrono::seconds(0));
      co_await lock.acquire();
      sem.release();
      co_await aio::sleep(std::chrono::seconds(0));  // the consumer parks on the lock
      lock.release();
      co_await aio::sleep(std::chrono::seconds(0));
      co_await cond.acquire();
      cond.notify();
      cond.release();
    }
  };
  auto main = [&]() -> aio::Task<> {
    auto c = aio::create_task(consumer());
    auto p = aio::create_task(producer());
    co_await aio::sleep(std::chrono::seconds(0));  // both started, their frames exist
    {
      Counter counter;
      co_await p;
      co_await c;
      during = counter.stop();
    }
  };
  aio::run(main());
  CHECK(got == rounds);
  CHECK(during == 0);
  // The counter does count: an allocation made while counting shows.
  Counter counter;
  void* volatile p = ::operator new(16);  // a direct call: not elided as `new int` may be
  ::operator delete(p);
  CHECK(counter.stop() == 1);
}

TEST_CASE("a long-lived task group keeps no memory for children that finished", "[alloc][task_group]") {
  // A server's group runs for ever: child after child starts and ends. Its
  // bookkeeping is one node per live child, from the same pooled allocator
  // as the task: once warm, a round allocates nothing from operator new (a
  // growing per-child table would).
  long during = -1;
  auto main = [&]() -> aio::Task<> {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      auto child = []() -> aio::Task<> { co_return; };
      for (int i = 0; i < 100; ++i) co_await tg.create_task(child());  // warm the pools
      Counter counter;
      for (int i = 0; i < 20 * rounds; ++i) co_await tg.create_task(child());
      during = counter.stop();
    });
  };
  aio::run(main());
  CHECK(during == 0);
}

#endif  // AIO_COUNT_ALLOCATIONS
