// aio::Event: asyncio.Event — set() wakes every waiter, clear() resets.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

TEST_CASE("wait on a set event returns true at once", "[event]") {
  auto main = []() -> aio::Task<> {
    aio::Event ev;
    CHECK_FALSE(ev.is_set());
    ev.set();
    CHECK(ev.is_set());
    const bool r = co_await ev.wait();
    CHECK(r);
  };
  aio::run(main());
}

TEST_CASE("set wakes every waiting task, and clear makes wait wait again", "[event]") {
  aio::Event ev;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) -> aio::Task<> {
    co_await ev.wait();
    log.push_back(name);
  };
  auto main = [&]() -> aio::Task<> {
    auto a = aio::create_task(waiter("a"));
    auto b = aio::create_task(waiter("b"));
    co_await aio::sleep(0s);
    CHECK(log.empty());
    ev.set();
    ev.set();  // setting a set event does nothing more
    co_await aio::gather(a, b);
    CHECK(log == std::vector<std::string>{"a", "b"});
    ev.clear();
    CHECK_FALSE(ev.is_set());
    auto c = aio::create_task(waiter("c"));
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    CHECK_FALSE(c.done());
    ev.set();
    co_await c;
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a task woken by set returns even if clear was called before it resumed", "[event]") {
  aio::Event ev;
  auto main = [&]() -> aio::Task<> {
    auto w = aio::create_task([](aio::Event& ev) -> aio::Task<bool> { co_return co_await ev.wait(); }(ev));
    co_await aio::sleep(0s);
    ev.set();
    ev.clear();
    const bool r = co_await w;
    CHECK(r);
  };
  aio::run(main());
}

TEST_CASE("a cancelled wait throws CancelledError and the other waiters still wake", "[event][cancel]") {
  aio::Event ev;
  auto main = [&]() -> aio::Task<> {
    auto waiter = [](aio::Event& ev) -> aio::Task<> { co_await ev.wait(); };
    auto a = aio::create_task(waiter(ev));
    auto b = aio::create_task(waiter(ev));
    auto c = aio::create_task(waiter(ev));
    co_await aio::sleep(0s);
    a.cancel();  // while waiting
    co_await aio::sleep(0s);
    CHECK(a.cancelled());
    ev.set();
    b.cancel();  // woken by set, not resumed yet: still cancelled
    co_await aio::gather_settled(b, c);
    CHECK(b.cancelled());
    CHECK(c.done());
    CHECK_FALSE(c.cancelled());
  };
  aio::run(main());
}

TEST_CASE("a wait made before set() and awaited after it returns at once", "[event][wait_for]") {
  // Whether to wait is decided when awaited: a wait_for task that starts
  // after set() must not time out.
  auto main = []() -> aio::Task<bool> {
    aio::Event ev;
    auto w = ev.wait();
    ev.set();
    co_await w;
    aio::Event ev2;
    auto t = aio::create_task(aio::wait_for(ev2.wait(), 200ms));
    ev2.set();
    co_return co_await t;
  };
  CHECK(aio::run(main()));
}
