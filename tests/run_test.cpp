// aio::run and EventLoop::run_until_complete: asyncio.run's contract.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {
aio::Task<> nap(std::chrono::milliseconds d) { co_await aio::sleep(d); }
}  // namespace

TEST_CASE("run returns main's result", "[run]") {
  auto main = []() -> aio::Task<std::string> {
    co_await aio::sleep(1ms);
    co_return "done";
  };
  CHECK(aio::run(main()) == "done");
}

TEST_CASE("run inside a running loop throws RuntimeError", "[run]") {
  auto inner = []() -> aio::Task<int> { co_return 1; };
  auto main = [&]() -> aio::Task<bool> {
    try {
      aio::run(inner());
    } catch (const aio::RuntimeError&) {
      co_return true;
    }
    co_return false;
  };
  CHECK(aio::run(main()));
}

TEST_CASE("run cancels and awaits tasks still pending when main returns", "[run]") {
  std::vector<std::string> log;
  auto sleeper = [&]() -> aio::Task<> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      log.push_back("sleeper cancelled");
      throw;
    }
  };
  aio::TaskHandle<> leftover;
  auto main = [&]() -> aio::Task<> {
    leftover = aio::create_task(sleeper());
    co_await aio::sleep(1ms);
    log.push_back("main done");
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"main done", "sleeper cancelled"});
  CHECK(leftover.cancelled());
}

TEST_CASE("get_running_loop outside a loop throws RuntimeError", "[run]") {
  CHECK_THROWS_AS(aio::get_running_loop(), aio::RuntimeError);
  CHECK_THROWS_AS(aio::create_task([]() -> aio::Task<> { co_return; }()), aio::RuntimeError);
}

TEST_CASE("get_running_loop inside run returns the loop that runs the task", "[run]") {
  auto main = []() -> aio::Task<bool> {
    aio::EventLoop& loop = aio::get_running_loop();
    co_return loop.is_running();
  };
  CHECK(aio::run(main()));
}

TEST_CASE("run_until_complete leaves other tasks pending and can be called again", "[run]") {
  aio::EventLoop loop;
  int ticks = 0;
  auto ticker = [&]() -> aio::Task<> {
    for (;;) {
      ++ticks;
      co_await aio::sleep(1ms);
    }
  };
  auto t = loop.create_task(ticker());
  loop.run_until_complete(nap(5ms));
  CHECK(ticks >= 2);
  CHECK_FALSE(t.done());
  const int before = ticks;
  loop.run_until_complete(nap(5ms));
  CHECK(ticks > before);
  loop.close();
  CHECK(t.cancelled());
}

TEST_CASE("a closed loop refuses to run or to take tasks", "[run]") {
  aio::EventLoop loop;
  loop.close();
  CHECK(loop.is_closed());
  loop.close();  // idempotent
  CHECK_THROWS_AS(loop.run_until_complete([]() -> aio::Task<> { co_return; }()), aio::RuntimeError);
  CHECK_THROWS_AS(loop.call_soon([] {}), aio::RuntimeError);
}

TEST_CASE("closing a running loop throws RuntimeError", "[run]") {
  aio::EventLoop loop;
  auto main = [&]() -> aio::Task<bool> {
    try {
      loop.close();
    } catch (const aio::RuntimeError&) {
      co_return true;
    }
    co_return false;
  };
  CHECK(loop.run_until_complete(main()));
}

TEST_CASE("a task that can never finish is reported instead of hanging", "[run]") {
  // Two tasks awaiting each other: nothing ready, no timer, no I/O in flight.
  aio::TaskHandle<> a, b;
  auto waits_for_b = [&]() -> aio::Task<> {
    co_await aio::sleep(0ms);
    co_await b;
  };
  auto waits_for_a = [&]() -> aio::Task<> { co_await a; };
  auto main = [&]() -> aio::Task<> {
    a = aio::create_task(waits_for_b());
    b = aio::create_task(waits_for_a());
    co_await a;
  };
  CHECK_THROWS_AS(aio::run(main()), aio::RuntimeError);
  CHECK(a.cancelled());
  CHECK(b.cancelled());
}
