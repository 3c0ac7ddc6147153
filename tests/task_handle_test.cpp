// create_task and TaskHandle: asyncio's Task object, its states, and
// cancellation delivered as CancelledError at the await where the task is
// suspended.

#include <catch2/catch.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

static_assert(!std::is_base_of_v<std::exception, aio::CancelledError>,
              "CancelledError must not be caught by catch (const std::exception&)");
static_assert(std::is_base_of_v<std::exception, aio::TimeoutError>);
static_assert(std::is_base_of_v<std::exception, aio::InvalidStateError>);
static_assert(std::is_base_of_v<std::exception, aio::RuntimeError>);

TEST_CASE("create_task starts the task on the next iteration", "[task_handle]") {
  std::vector<std::string> log;
  auto child = [&]() -> aio::Task<> {
    log.push_back("child");
    co_return;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(child());
    log.push_back("after create_task");
    co_await aio::sleep(0s);
    log.push_back("after yield");
    CHECK(t.done());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"after create_task", "child", "after yield"});
}

TEST_CASE("a task handle goes from pending to done with a result", "[task_handle]") {
  auto main = []() -> aio::Task<> {
    auto t = aio::create_task([]() -> aio::Task<int> {
      co_await aio::sleep(1ms);
      co_return 5;
    }());
    CHECK_FALSE(t.done());
    CHECK_FALSE(t.cancelled());
    CHECK_THROWS_AS(t.result(), aio::InvalidStateError);
    CHECK_THROWS_AS(t.exception(), aio::InvalidStateError);
    const int first = co_await t;
    CHECK(first == 5);
    CHECK(t.done());
    CHECK_FALSE(t.cancelled());
    CHECK(t.result() == 5);
    CHECK(t.exception() == nullptr);
    const int again = co_await t;  // awaiting a done task again gives the result again
    CHECK(again == 5);
  };
  aio::run(main());
}

TEST_CASE("a failed task rethrows from result, await, and exposes exception()", "[task_handle]") {
  auto main = []() -> aio::Task<> {
    auto t = aio::create_task([]() -> aio::Task<int> {
      co_await aio::sleep(0s);
      throw std::runtime_error("failed");
    }());
    CHECK_THROWS_WITH(co_await t, "failed");
    CHECK(t.done());
    CHECK_FALSE(t.cancelled());
    CHECK_THROWS_WITH(t.result(), "failed");
    CHECK(t.exception() != nullptr);
  };
  aio::run(main());
}

TEST_CASE("tasks are named Task-<n> unless given a name", "[task_handle]") {
  auto main = []() -> aio::Task<> {
    auto a = aio::create_task([]() -> aio::Task<> { co_return; }());
    auto b = aio::create_task([]() -> aio::Task<> { co_return; }(), "worker");
    CHECK_THAT(a.get_name(), Catch::StartsWith("Task-"));
    CHECK(b.get_name() == "worker");
    b.set_name("renamed");
    CHECK(b.get_name() == "renamed");
    co_await aio::gather(a, b);
  };
  aio::run(main());
}

TEST_CASE("a task whose handles were all dropped still runs to completion", "[task_handle]") {
  bool finished = false;
  auto main = [&]() -> aio::Task<> {
    aio::create_task([](bool& f) -> aio::Task<> {
      co_await aio::sleep(2ms);
      f = true;
    }(finished));
    co_await aio::sleep(10ms);
  };
  aio::run(main());
  CHECK(finished);
}

TEST_CASE("cancelling a sleeping task throws CancelledError at its sleep and runs its cleanup", "[task_handle][cancel]") {
  std::vector<std::string> log;
  struct Guard {
    std::vector<std::string>& log;
    ~Guard() { log.push_back("raii"); }
  };
  auto sleeper = [&]() -> aio::Task<int> {
    Guard g{log};
    try {
      co_await aio::sleep(10s);
      log.push_back("woke");
    } catch (const aio::CancelledError& e) {
      log.push_back("caught:" + e.message());
      throw;
    }
    co_return 1;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(sleeper());
    co_await aio::sleep(1ms);
    test::Stopwatch sw;
    CHECK(t.cancel("stop"));
    CHECK_FALSE(t.done());  // delivered at its next step
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
    CHECK(sw.ms() < 1000);  // not after the 10 s
    CHECK(t.cancelled());
    CHECK_THROWS_AS(t.result(), aio::CancelledError);
    CHECK_THROWS_AS(t.exception(), aio::CancelledError);
    CHECK_FALSE(t.cancel());  // done: nothing to cancel
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"caught:stop", "raii"});
}

TEST_CASE("a task cancelled before it first runs never runs its body", "[task_handle][cancel]") {
  bool ran = false;
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task([](bool& r) -> aio::Task<> {
      r = true;
      co_return;
    }(ran));
    CHECK(t.cancel());
    try {
      co_await t;
      FAIL("no CancelledError");
    } catch (const aio::CancelledError&) {
    }
    CHECK(t.cancelled());
  };
  aio::run(main());
  CHECK_FALSE(ran);
}

TEST_CASE("a cancel after the timer fired but before the task resumed is delivered exactly once", "[task_handle][cancel]") {
  // Interleaving: the sleeper's 1 ms timer is due while main blocks the loop;
  // the same iteration finds it due and schedules the sleeper after main.
  // main then runs first and cancels it: the timer already fired, the task
  // has not resumed. The sleep throws CancelledError once; the next await
  // in the same task is not cancelled again.
  int caught = 0;
  bool after_sleep = false, second_sleep_done = false;
  auto sleeper = [&]() -> aio::Task<> {
    try {
      co_await aio::sleep(1ms);
      after_sleep = true;
    } catch (const aio::CancelledError&) {
      ++caught;
    }
    co_await aio::sleep(1ms);
    second_sleep_done = true;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(sleeper());
    co_await aio::sleep(0s);  // the sleeper starts and parks on its 1 ms timer
    std::this_thread::sleep_for(5ms);  // block the loop past its deadline
    co_await aio::sleep(0s);  // this iteration fires the timer; main is ahead of it
    CHECK_FALSE(t.done());
    CHECK(t.cancel());
    co_await t;
    CHECK_FALSE(t.cancelled());  // it caught the cancellation and went on
  };
  aio::run(main());
  CHECK(caught == 1);
  CHECK_FALSE(after_sleep);
  CHECK(second_sleep_done);
}

TEST_CASE("cancelling twice delivers one CancelledError", "[task_handle][cancel]") {
  int caught = 0;
  auto sleeper = [&]() -> aio::Task<int> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      ++caught;
    }
    co_await aio::sleep(1ms);
    co_return 3;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(sleeper());
    co_await aio::sleep(1ms);
    CHECK(t.cancel());
    CHECK(t.cancel());
    CHECK(t.cancelling() == 2);
    const int r = co_await t;
    CHECK(r == 3);
  };
  aio::run(main());
  CHECK(caught == 1);
}

TEST_CASE("catch (const std::exception&) does not swallow a cancellation", "[task_handle][cancel]") {
  bool swallowed = false;
  auto sleeper = [&]() -> aio::Task<> {
    try {
      co_await aio::sleep(10s);
    } catch (const std::exception&) {
      swallowed = true;
    }
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(sleeper());
    co_await aio::sleep(1ms);
    t.cancel();
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
  };
  aio::run(main());
  CHECK_FALSE(swallowed);
}

TEST_CASE("a task that cancels itself is cancelled at its next suspension", "[task_handle][cancel]") {
  bool before = false, after = false;
  aio::TaskHandle<> me;
  auto body = [&]() -> aio::Task<> {
    co_await aio::sleep(0s);
    me.cancel();
    before = true;  // cancel() does not interrupt the running step
    co_await aio::sleep(0s);
    after = true;
  };
  auto main = [&]() -> aio::Task<> {
    me = aio::create_task(body());
    CHECK_THROWS_AS(co_await me, aio::CancelledError);
  };
  aio::run(main());
  CHECK(before);
  CHECK_FALSE(after);
}

TEST_CASE("cancelling a task that awaits another task cancels that task too", "[task_handle][cancel]") {
  aio::TaskHandle<> inner;
  auto main = [&]() -> aio::Task<> {
    inner = aio::create_task([]() -> aio::Task<> { co_await aio::sleep(10s); }());
    auto outer = aio::create_task([](aio::TaskHandle<> i) -> aio::Task<> { co_await i; }(inner));
    co_await aio::sleep(1ms);
    outer.cancel();
    CHECK_THROWS_AS(co_await outer, aio::CancelledError);
    CHECK(inner.cancelled());
  };
  aio::run(main());
}

TEST_CASE("cancelling the head of a chain of 100,000 tasks awaiting each other does not grow the stack", "[task_handle][cancel][stack]") {
  // Each cancel forwards to the task awaited: handled as a queue by the
  // outermost cancel, not by recursion 100,000 deep.
  constexpr int n = 100'000;
  auto main = []() -> aio::Task<int> {
    std::vector<aio::TaskHandle<>> chain;
    chain.reserve(n);
    chain.push_back(aio::create_task([]() -> aio::Task<> { co_await aio::sleep(10s); }()));
    for (int i = 1; i < n; ++i) {
      chain.push_back(aio::create_task([](aio::TaskHandle<> next) -> aio::Task<> { co_await next; }(chain.back())));
    }
    co_await aio::sleep(1ms);
    chain.back().cancel();
    co_await aio::gather_settled(chain);
    int cancelled = 0;
    for (const auto& h : chain) cancelled += h.cancelled() ? 1 : 0;
    co_return cancelled;
  };
  CHECK(aio::run(main()) == n);
}

TEST_CASE("a task awaiting itself is an error, not a hang", "[task_handle]") {
  auto main = []() -> aio::Task<> {
    aio::TaskHandle<> self;
    self = aio::create_task([](aio::TaskHandle<>& me) -> aio::Task<> {
      co_await aio::sleep(0s);
      co_await me;
    }(self));
    CHECK_THROWS_AS(co_await self, aio::RuntimeError);
  };
  aio::run(main());
}
