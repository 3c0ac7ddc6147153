// create_task, TaskGroup::create_task and gather given a callable (kept alive
// inside the task, as folly's co_invoke) or any awaitable, not only a Task.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <tuple>
#include <type_traits>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

/// Counts its live copies: a lambda capturing one is alive while the count is > 0.
struct Counted {
  static inline int live = 0;
  Counted() { ++live; }
  Counted(const Counted&) { ++live; }
  Counted(Counted&&) noexcept { ++live; }
  ~Counted() { --live; }
};

// A capture on the heap: were the lambda destroyed while its coroutine still
// runs, reading it would be a heap-use-after-free that ASan reports (the
// frame itself comes from aio's pool, where ASan sees nothing).
std::string long_name() { return std::string(64, 'n'); }

aio::Task<int> work() {
  co_await aio::sleep(1ms);
  co_return 7;
}

}  // namespace

TEST_CASE("create_task(callable) keeps the lambda and its captures alive until the coroutine ends",
          "[create_task]") {
  auto main = []() -> aio::Task<std::string> {
    std::string name = long_name();
    Counted::live = 0;
    auto handle = aio::create_task(
        [name, c = Counted()]() -> aio::Task<std::string> {
          co_await aio::sleep(2ms);  // the statement that created the task is long over
          CHECK(Counted::live == 1);  // this lambda's copy, inside the task
          co_return name + "!";
        },
        "keeper");
    CHECK(handle.get_name() == "keeper");
    co_return co_await handle;
  };
  CHECK(aio::run(main()) == long_name() + "!");
  CHECK(Counted::live == 0);  // and freed with the task
}

TEST_CASE("EventLoop::create_task and TaskGroup::create_task take a callable too", "[create_task]") {
  aio::EventLoop loop;
  std::string name = long_name();
  auto a = loop.create_task([name]() -> aio::Task<std::size_t> {
    co_await aio::sleep(1ms);
    co_return name.size();
  });
  CHECK(loop.run_until_complete(a) == 64);

  auto group = [&]() -> aio::Task<std::string> {
    std::string got;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      auto child = tg.create_task([name, &got]() -> aio::Task<> {
        co_await aio::sleep(1ms);
        got = name;
      });
      CHECK_FALSE(child.done());
      co_return;
    });
    co_return got;
  };
  CHECK(loop.run_until_complete(group()) == name);
}

TEST_CASE("gather takes callables, a sleep and any other awaitable next to Tasks", "[create_task][gather]") {
  auto main = []() -> aio::Task<> {
    std::string name = long_name();
    aio::Queue<int> q;
    q.put_nowait(5);
    // Named first: a capturing lambda written inside a co_await expression
    // is destroyed twice by g++ 12 (see the README's pitfalls).
    auto job = [name]() -> aio::Task<std::size_t> {
      co_await aio::sleep(0ms);
      co_return name.size();
    };
    test::Stopwatch sw;
    auto [slept, w, size, item] = co_await aio::gather(aio::sleep(10ms), work(), job, q.get());
    CHECK(sw.ms() >= 10);
    static_assert(std::is_same_v<decltype(slept), aio::Void>);
    CHECK(w == 7);
    CHECK(size == 64);
    CHECK(item == 5);
    auto [first, second] = co_await aio::gather_settled(job, aio::sleep(0.001));
    CHECK(first.value() == 64);
    CHECK(second.has_value());
  };
  aio::run(main());
}

TEST_CASE("create_task of an awaitable that is not a Task runs it as a task of its own", "[create_task]") {
  auto main = []() -> aio::Task<> {
    aio::Queue<std::string> q;
    auto getter = aio::create_task(q.get(), "getter");
    auto sleeper = aio::create_task(aio::sleep(1ms));
    co_await aio::sleep(0ms);
    CHECK_FALSE(getter.done());
    q.put_nowait("item");
    {
      const auto got = co_await getter;
      CHECK(got == "item");
    }
    co_await sleeper;
    CHECK(sleeper.done());
  };
  aio::run(main());
}

TEST_CASE("tasks created without a name are Task-1, Task-2, ... in the order of creation", "[create_task]") {
  aio::EventLoop loop;
  auto a = loop.create_task(aio::sleep(0ms));
  auto b = loop.create_task([]() -> aio::Task<> { co_return; });
  CHECK(a.get_name() == "Task-1");
  CHECK(b.get_name() == "Task-2");
  loop.run_until_complete(b);
  loop.run_until_complete(a);
}
