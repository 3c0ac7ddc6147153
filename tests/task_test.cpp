// Task<T>: lazy, move-only coroutines awaited inline; results and exceptions
// pass through co_await; synchronous chains never grow the stack.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<int> completes_synchronously() { co_return 1; }

aio::Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

aio::Task<std::string> throws_logic_error() {
  throw std::logic_error("boom");
  co_return "unreachable";
}

}  // namespace

static_assert(!std::is_copy_constructible_v<aio::Task<int>>, "Task is move-only");
static_assert(std::is_nothrow_move_constructible_v<aio::Task<int>>);

TEST_CASE("a task does not start until it is awaited", "[task]") {
  bool started = false;
  auto body = [&]() -> aio::Task<> {
    started = true;
    co_return;
  };
  auto main = [&]() -> aio::Task<bool> {
    aio::Task<> t = body();
    const bool before = started;
    co_await t;
    co_return before;
  };
  CHECK(aio::run(main()) == false);
  CHECK(started);
}

TEST_CASE("destroying a task that never ran does not run its body", "[task]") {
  bool started = false;
  auto body = [&]() -> aio::Task<> {
    started = true;
    co_return;
  };
  { aio::Task<> t = body(); }
  CHECK_FALSE(started);
}

TEST_CASE("co_await returns the task's value, including move-only values", "[task]") {
  auto make = []() -> aio::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  auto main = [&]() -> aio::Task<int> {
    std::unique_ptr<int> p = co_await make();
    co_return *p + co_await completes_synchronously();
  };
  CHECK(aio::run(main()) == 8);
}

TEST_CASE("an exception thrown in a task propagates through co_await", "[task]") {
  auto main = []() -> aio::Task<std::string> {
    try {
      co_return co_await throws_logic_error();
    } catch (const std::logic_error& e) {
      co_return std::string("caught ") + e.what();
    }
  };
  CHECK(aio::run(main()) == "caught boom");
}

TEST_CASE("an exception escaping main is rethrown by run", "[task]") {
  CHECK_THROWS_WITH(aio::run(throws_logic_error()), "boom");
}

TEST_CASE("awaiting a task after it finished throws RuntimeError", "[task]") {
  auto main = []() -> aio::Task<> {
    aio::Task<int> t = completes_synchronously();
    const int first = co_await t;
    CHECK(first == 1);
    CHECK_THROWS_AS(co_await t, aio::RuntimeError);
  };
  aio::run(main());
}

TEST_CASE("awaiting an empty task throws InvalidStateError", "[task]") {
  auto main = []() -> aio::Task<> {
    aio::Task<int> t;
    CHECK_THROWS_AS(co_await t, aio::InvalidStateError);
  };
  aio::run(main());
}

TEST_CASE("lots of synchronous completions do not result in stack overflow", "[task][stack]") {
  // 1,000,000 awaits that complete without suspending: every one would nest a
  // frame if control passed by plain calls (g++ at -O0/-O1 or with sanitizers
  // does not turn symmetric transfer into a tail call).
  auto main = []() -> aio::Task<int> {
    int sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await completes_synchronously();
    co_return sum;
  };
  CHECK(aio::run(main()) == 1'000'000);
}

TEST_CASE("deeply nested awaits do not overflow the stack", "[task][stack]") {
  // 100,000 coroutines each awaiting the next: the depth lives in the heap
  // frames, not on the thread's stack.
  CHECK(aio::run(nested(100'000)) == 100'000);
}

TEST_CASE("a task awaited inline runs in the awaiting task", "[task]") {
  auto inner = []() -> aio::Task<std::string> {
    co_await aio::sleep(1ms);
    co_return aio::create_task([]() -> aio::Task<> { co_return; }()).get_name();
  };
  auto main = [&]() -> aio::Task<> {
    auto before = aio::create_task([]() -> aio::Task<> { co_return; }()).get_name();
    auto in_inner = co_await inner();
    // No task was created for `inner`: the numbering advanced by one only.
    CHECK(std::stoi(in_inner.substr(5)) == std::stoi(before.substr(5)) + 1);
  };
  aio::run(main());
}
