// aio::Condition: asyncio.Condition — wait() releases the lock, waits for
// notify(), and always holds the lock again when it returns or throws.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

TEST_CASE("wait releases the lock and returns with it held after notify", "[condition]") {
  aio::Condition cond;
  std::vector<std::string> log;
  auto waiter = [&]() -> aio::Task<> {
    co_await cond.acquire();
    log.push_back("waiting");
    const bool r = co_await cond.wait();
    CHECK(r);
    CHECK(cond.locked());
    log.push_back("woken");
    cond.release();
  };
  auto main = [&]() -> aio::Task<> {
    auto w = aio::create_task(waiter());
    co_await aio::sleep(0s);
    CHECK_FALSE(cond.locked());  // released by wait
    co_await cond.acquire();
    log.push_back("notify");
    cond.notify();
    co_await aio::sleep(0s);
    CHECK_FALSE(w.done());  // it needs the lock back first
    log.push_back("release");
    cond.release();
    co_await w;
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"waiting", "notify", "release", "woken"});
}

TEST_CASE("notify wakes the n longest waiting tasks and notify_all the rest", "[condition]") {
  aio::Condition cond;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) -> aio::Task<> {
    co_await cond.acquire();
    co_await cond.wait();
    log.push_back(name);
    cond.release();
  };
  auto main = [&]() -> aio::Task<> {
    std::vector<aio::TaskHandle<>> waiters;
    waiters.push_back(aio::create_task(waiter("a")));
    waiters.push_back(aio::create_task(waiter("b")));
    waiters.push_back(aio::create_task(waiter("c")));
    waiters.push_back(aio::create_task(waiter("d")));
    co_await aio::sleep(0s);
    co_await cond.acquire();
    cond.notify(2);
    cond.release();
    for (int i = 0; i < 3; ++i) co_await aio::sleep(0s);
    CHECK(log == std::vector<std::string>{"a", "b"});
    co_await cond.acquire();
    cond.notify_all();
    cond.release();
    co_await aio::gather(waiters);
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("wait and notify without the lock throw RuntimeError", "[condition]") {
  auto main = []() -> aio::Task<> {
    aio::Condition cond;
    CHECK_THROWS_AS(co_await cond.wait(), aio::RuntimeError);
    CHECK_THROWS_AS(cond.notify(), aio::RuntimeError);
    CHECK_THROWS_AS(cond.notify_all(), aio::RuntimeError);
    CHECK_THROWS_AS(cond.release(), aio::RuntimeError);
  };
  aio::run(main());
}

TEST_CASE("wait_for returns the predicate's result once it holds", "[condition]") {
  aio::Condition cond;
  int value = 0;
  int checks = 0;
  auto consumer = [&]() -> aio::Task<int> {
    co_await cond.acquire();
    const bool ok = co_await cond.wait_for([&] {
      ++checks;
      return value >= 3;
    });
    CHECK(ok);
    CHECK(cond.locked());
    const int seen = value;
    cond.release();
    co_return seen;
  };
  auto main = [&]() -> aio::Task<> {
    auto c = aio::create_task(consumer());
    co_await aio::sleep(0s);
    for (int i = 0; i < 3; ++i) {
      co_await cond.acquire();
      ++value;
      cond.notify();
      cond.release();
      co_await aio::sleep(0s);
    }
    const int seen = co_await c;
    CHECK(seen == 3);
  };
  aio::run(main());
  CHECK(checks == 4);  // once before waiting, once per notify
}

TEST_CASE("a cancelled wait throws CancelledError only once it holds the lock again", "[condition][cancel]") {
  aio::Condition cond;
  std::vector<std::string> log;
  auto waiter = [&]() -> aio::Task<> {
    co_await cond.acquire();
    try {
      co_await cond.wait();
    } catch (const aio::CancelledError&) {
      log.push_back(cond.locked() ? "cancelled with the lock" : "cancelled without the lock");
      cond.release();
      throw;
    }
  };
  auto main = [&]() -> aio::Task<> {
    auto w = aio::create_task(waiter());
    co_await aio::sleep(0s);
    co_await cond.acquire();
    w.cancel();  // the lock is held here: the waiter must wait for it
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    CHECK_FALSE(w.done());
    log.push_back("release");
    cond.release();
    co_await aio::gather_settled(w);
    CHECK(w.cancelled());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"release", "cancelled with the lock"});
}

TEST_CASE("wait_for(cond.wait(), t) times out with TimeoutError and the lock held again", "[condition][wait_for]") {
  aio::Condition cond;
  auto main = [&]() -> aio::Task<bool> {
    co_await cond.acquire();
    bool timed_out = false;
    try {
      co_await aio::wait_for(cond.wait(), 5ms);
    } catch (const aio::TimeoutError&) {
      timed_out = true;
    }
    const bool locked = cond.locked();
    cond.release();
    co_return timed_out && locked;
  };
  CHECK(aio::run(main()));
}

TEST_CASE("a waiter notified and then cancelled passes the notification on", "[condition][cancel]") {
  // Interleaving: a and b wait on the condition. main, holding the lock,
  // notifies one: a is notified and queues for the lock. main cancels a
  // before releasing. a re-acquires the lock, throws CancelledError, and its
  // notification goes to b, so the single notify() still wakes a task that
  // goes on.
  aio::Condition cond;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) -> aio::Task<> {
    co_await cond.acquire();
    try {
      co_await cond.wait();
    } catch (const aio::CancelledError&) {
      log.push_back(name + " cancelled");
      cond.release();
      throw;
    }
    log.push_back(name + " woken");
    cond.release();
  };
  auto main = [&]() -> aio::Task<> {
    auto a = aio::create_task(waiter("a"));
    auto b = aio::create_task(waiter("b"));
    co_await aio::sleep(0s);
    co_await cond.acquire();
    cond.notify(1);
    a.cancel();
    cond.release();
    co_await aio::gather_settled(a, b);
    CHECK(a.cancelled());
    CHECK_FALSE(b.cancelled());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a cancelled", "b woken"});
}

TEST_CASE("conditions sharing a lock hand it between their waiters", "[condition]") {
  aio::Lock lock;
  aio::Condition first(lock);
  aio::Condition second(lock);
  std::vector<std::string> log;
  auto waiter = [&](aio::Condition& c, std::string name) -> aio::Task<> {
    co_await c.acquire();
    co_await c.wait();
    CHECK(lock.locked());
    log.push_back(name);
    c.release();
  };
  auto main = [&]() -> aio::Task<> {
    auto a = aio::create_task(waiter(first, "first"));
    auto b = aio::create_task(waiter(second, "second"));
    co_await aio::sleep(0s);
    CHECK_FALSE(lock.locked());
    co_await lock.acquire();
    CHECK(first.locked());
    CHECK(second.locked());
    second.notify();
    first.notify();
    lock.release();
    co_await aio::gather(a, b);
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"second", "first"});
}

TEST_CASE("aenter and aexit acquire and release the condition's lock", "[condition]") {
  auto main = []() -> aio::Task<> {
    aio::Condition cond;
    co_await cond.aenter();
    CHECK(cond.locked());
    const bool suppressed = co_await cond.aexit(nullptr);
    CHECK_FALSE(suppressed);
    CHECK_FALSE(cond.locked());
  };
  aio::run(main());
}

TEST_CASE("closing the loop with tasks waiting on a condition and its lock frees them safely", "[condition][close]") {
  // a waits on the condition; b is notified and queued for the lock, which
  // main holds; c waits to acquire the lock. close() destroys their frames
  // while they are linked in the condition's and the lock's lists.
  aio::Condition cond;
  std::vector<aio::TaskHandle<>> waiters;
  {
    aio::EventLoop loop;
    auto waiter = [](aio::Condition& c) -> aio::Task<> {
      co_await c.acquire();
      co_await c.wait();
      c.release();
    };
    auto main = [&]() -> aio::Task<> {
      waiters.push_back(aio::create_task(waiter(cond)));
      waiters.push_back(aio::create_task(waiter(cond)));
      co_await aio::sleep(0s);
      co_await cond.acquire();
      cond.notify();
      waiters.push_back(aio::create_task([](aio::Condition& c) -> aio::Task<> { co_await c.acquire(); }(cond)));
      co_await aio::sleep(0s);
    };
    loop.run_until_complete(main());
    loop.close();
  }
  for (auto& w : waiters) CHECK(w.cancelled());
  CHECK(cond.locked());  // main never released it
  cond.release();
  CHECK_FALSE(cond.locked());  // nobody is left in the lock's list
}
