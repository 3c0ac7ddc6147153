// aio::Lock: asyncio.Lock — one holder at a time, handed on in the order the
// waiters came, never lost to a cancellation.

#include <catch2/catch.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

TEST_CASE("an uncontended acquire takes the lock at once", "[lock]") {
  auto main = []() -> aio::Task<> {
    aio::Lock lock;
    CHECK_FALSE(lock.locked());
    const bool r = co_await lock.acquire();
    CHECK(r);
    CHECK(lock.locked());
    lock.release();
    CHECK_FALSE(lock.locked());
  };
  aio::run(main());
}

TEST_CASE("releasing an unlocked Lock throws RuntimeError", "[lock]") {
  aio::Lock lock;
  CHECK_THROWS_AS(lock.release(), aio::RuntimeError);
}

TEST_CASE("one task holds the lock at a time and release hands it on in FIFO order", "[lock]") {
  aio::Lock lock;
  std::vector<std::string> log;
  int inside = 0;
  auto worker = [&](std::string name) -> aio::Task<> {
    co_await lock.acquire();
    ++inside;
    CHECK(inside == 1);
    log.push_back(name);
    co_await aio::sleep(0s);
    --inside;
    lock.release();
  };
  auto main = [&]() -> aio::Task<> {
    co_await lock.acquire();
    std::vector<aio::TaskHandle<>> workers;
    workers.push_back(aio::create_task(worker("a")));
    workers.push_back(aio::create_task(worker("b")));
    workers.push_back(aio::create_task(worker("c")));
    co_await aio::sleep(0s);  // all three wait, in order
    lock.release();
    // Handed to "a", which has not run yet: a later acquire cannot barge in.
    CHECK(lock.locked());
    workers.push_back(aio::create_task(worker("d")));
    co_await aio::gather(workers);
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK_FALSE(lock.locked());
}

TEST_CASE("a waiter cancelled after the lock was handed to it passes the lock on", "[lock][cancel]") {
  // Interleaving: main holds the lock; a and b wait for it. main releases it:
  // the lock is handed to a, which is scheduled but has not run yet. main
  // cancels a before yielding: a throws CancelledError without the lock, and
  // the lock passes to b. Then b releases it with no one waiting, and the
  // same with c as the only waiter: the lock ends up free.
  aio::Lock lock;
  std::vector<std::string> log;
  auto worker = [&](std::string name) -> aio::Task<> {
    try {
      co_await lock.acquire();
    } catch (const aio::CancelledError&) {
      log.push_back(name + " cancelled");
      throw;
    }
    log.push_back(name + " acquired");
    lock.release();
  };
  auto main = [&]() -> aio::Task<> {
    co_await lock.acquire();
    auto a = aio::create_task(worker("a"));
    auto b = aio::create_task(worker("b"));
    co_await aio::sleep(0s);
    lock.release();  // handed to a
    a.cancel();
    co_await aio::gather_settled(a, b);
    CHECK(a.cancelled());
    CHECK_FALSE(lock.locked());

    co_await lock.acquire();
    auto c = aio::create_task(worker("c"));
    co_await aio::sleep(0s);
    lock.release();  // handed to c
    c.cancel();
    CHECK_FALSE(lock.locked());  // no one else waits: released at once
    co_await aio::gather_settled(c);
    CHECK(c.cancelled());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a cancelled", "b acquired", "c cancelled"});
}

TEST_CASE("an acquire cancelled while waiting does not take the lock", "[lock][cancel]") {
  aio::Lock lock;
  auto main = [&]() -> aio::Task<> {
    co_await lock.acquire();
    auto a = aio::create_task([](aio::Lock& l) -> aio::Task<> { co_await l.acquire(); }(lock));
    co_await aio::sleep(0s);
    a.cancel();
    co_await aio::gather_settled(a);
    CHECK(a.cancelled());
    lock.release();
    CHECK_FALSE(lock.locked());
  };
  aio::run(main());
}

TEST_CASE("aenter acquires the lock and aexit releases it without suppressing", "[lock]") {
  auto main = []() -> aio::Task<> {
    aio::Lock lock;
    co_await lock.aenter();
    CHECK(lock.locked());
    const bool suppressed = co_await lock.aexit(std::make_exception_ptr(std::runtime_error("x")));
    CHECK_FALSE(suppressed);
    CHECK_FALSE(lock.locked());
  };
  aio::run(main());
}
