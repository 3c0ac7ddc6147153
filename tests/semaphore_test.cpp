// aio::Semaphore and aio::BoundedSemaphore: asyncio's — permits handed on
// in the order the waiters came, never lost to a cancellation.

#include <catch2/catch.hpp>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

TEST_CASE("a semaphore lets value tasks in at once and the rest in the order they came", "[semaphore]") {
  aio::Semaphore sem(2);
  std::vector<std::string> log;
  int inside = 0, most = 0;
  auto worker = [&](std::string name) -> aio::Task<> {
    co_await sem.acquire();
    ++inside;
    most = std::max(most, inside);
    log.push_back(name);
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    --inside;
    sem.release();
  };
  auto main = [&]() -> aio::Task<> {
    std::vector<aio::TaskHandle<>> workers;
    workers.push_back(aio::create_task(worker("a")));
    workers.push_back(aio::create_task(worker("b")));
    workers.push_back(aio::create_task(worker("c")));
    workers.push_back(aio::create_task(worker("d")));
    workers.push_back(aio::create_task(worker("e")));
    co_await aio::sleep(0s);
    CHECK(sem.locked());
    co_await aio::gather(workers);
  };
  aio::run(main());
  CHECK(most == 2);
  CHECK(log == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK_FALSE(sem.locked());
}

TEST_CASE("locked() is true exactly when acquire would wait", "[semaphore]") {
  auto main = []() -> aio::Task<> {
    aio::Semaphore sem(1);
    CHECK_FALSE(sem.locked());
    const bool r = co_await sem.acquire();
    CHECK(r);
    CHECK(sem.locked());
    sem.release();
    CHECK_FALSE(sem.locked());
    aio::Semaphore zero(0);
    CHECK(zero.locked());
  };
  aio::run(main());
}

TEST_CASE("a negative initial value throws ValueError", "[semaphore]") {
  CHECK_THROWS_AS(aio::Semaphore(-1), aio::ValueError);
  CHECK_THROWS_AS(aio::BoundedSemaphore(-1), aio::ValueError);
}

TEST_CASE("a BoundedSemaphore released above its initial value throws ValueError; a Semaphore does not", "[semaphore]") {
  auto main = []() -> aio::Task<> {
    aio::BoundedSemaphore bounded(1);
    CHECK_THROWS_AS(bounded.release(), aio::ValueError);
    co_await bounded.acquire();
    bounded.release();
    CHECK_THROWS_AS(bounded.release(), aio::ValueError);
    aio::Semaphore& as_base = bounded;  // also through the base class
    CHECK_THROWS_AS(as_base.release(), aio::ValueError);

    aio::Semaphore plain(1);
    plain.release();  // now 2 permits
    co_await plain.acquire();
    co_await plain.acquire();
    CHECK(plain.locked());
  };
  aio::run(main());
}

TEST_CASE("a waiter cancelled after a permit was handed to it passes the permit on", "[semaphore][cancel]") {
  // Interleaving: main holds the only permit; a and b wait. main releases it:
  // the permit is handed to a, which is scheduled but has not run yet. main
  // cancels a before yielding: a throws CancelledError without a permit, and
  // the permit passes to b. With no one left waiting, a handed permit that is
  // given back returns to the counter.
  aio::BoundedSemaphore sem(1);
  std::vector<std::string> log;
  auto worker = [&](std::string name) -> aio::Task<> {
    try {
      co_await sem.acquire();
    } catch (const aio::CancelledError&) {
      log.push_back(name + " cancelled");
      throw;
    }
    log.push_back(name + " acquired");
    sem.release();
  };
  auto main = [&]() -> aio::Task<> {
    co_await sem.acquire();
    auto a = aio::create_task(worker("a"));
    auto b = aio::create_task(worker("b"));
    co_await aio::sleep(0s);
    sem.release();  // handed to a
    a.cancel();
    co_await aio::gather_settled(a, b);
    CHECK(a.cancelled());
    CHECK_FALSE(sem.locked());

    co_await sem.acquire();
    auto c = aio::create_task(worker("c"));
    co_await aio::sleep(0s);
    sem.release();  // handed to c
    CHECK(sem.locked());
    c.cancel();
    CHECK_FALSE(sem.locked());  // back to the counter at once
    co_await aio::gather_settled(c);
    CHECK_THROWS_AS(sem.release(), aio::ValueError);  // not over-counted
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a cancelled", "b acquired", "c cancelled"});
}

TEST_CASE("aenter takes a permit and aexit gives it back without suppressing", "[semaphore]") {
  auto main = []() -> aio::Task<> {
    aio::Semaphore sem(1);
    co_await sem.aenter();
    CHECK(sem.locked());
    const bool suppressed = co_await sem.aexit(nullptr);
    CHECK_FALSE(suppressed);
    CHECK_FALSE(sem.locked());
  };
  aio::run(main());
}
