// aio::run and EventLoop::run_until_complete: asyncio.run's contract.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "test_signal.hpp"
#include "test_util.hpp"

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

TEST_CASE("a loop idle with nothing in flight is woken by call_soon_threadsafe from another thread",
          "[run][thread]") {
  // The task waits on nothing the loop knows of: no task ready, no timer, no
  // I/O. asyncio's loop then blocks, since another thread may still call
  // call_soon_threadsafe; so does aio's, in io_uring_enter, and that call
  // ends the wait (it is no deadlock to report).
  aio::EventLoop loop;
  test::Signal signal;
  std::thread poster;
  double waited_ms = 0;
  auto main = [&]() -> aio::Task<> {
    test::Stopwatch sw;
    poster = test::set_from_thread_after(loop, signal, 50ms);
    co_await signal;
    waited_ms = sw.ms();
  };
  loop.run_until_complete(main());
  poster.join();
  CHECK(waited_ms >= 50.0);
  CHECK(waited_ms < 150.0);
}
