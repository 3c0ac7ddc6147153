// aio::AnyTaskHandle, current_task, all_tasks: asyncio's task identity
// (cases of CPython 3.13's test_tasks.py).

#include <catch2/catch.hpp>

#include <string>
#include <unordered_set>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

// The task's identity as a hash: a task whose result held its own handle
// would keep itself alive (a reference cycle, which C++ does not collect).
aio::Task<std::size_t> whoami() {
  co_await aio::sleep(0s);
  co_return std::hash<aio::AnyTaskHandle>()(aio::current_task());
}

aio::Task<int> sleeper(std::chrono::milliseconds d) {
  co_await aio::sleep(d);
  co_return 1;
}

}  // namespace

TEST_CASE("current_task is the running task, empty outside one", "[task_identity]") {
  // test_current_task
  CHECK_FALSE(aio::current_task());
  auto main = []() -> aio::Task<> {
    auto t = aio::create_task(whoami());
    const std::size_t seen = co_await t;
    CHECK(seen == std::hash<aio::AnyTaskHandle>()(aio::AnyTaskHandle(t)));
    CHECK(std::hash<aio::AnyTaskHandle>()(aio::current_task()) != seen);
    CHECK(aio::current_task());
  };
  aio::run(main());
}

TEST_CASE("all_tasks lists the loop's unfinished tasks", "[task_identity]") {
  // test_all_tasks
  auto main = []() -> aio::Task<> {
    auto a = aio::create_task(sleeper(5ms));
    auto b = aio::create_task(sleeper(1ms));
    auto tasks = aio::all_tasks();
    std::unordered_set<aio::AnyTaskHandle> set(tasks.begin(), tasks.end());
    CHECK(set.size() == 3);  // main, a, b
    CHECK(set.count(a) == 1);
    CHECK(set.count(aio::current_task()) == 1);
    co_await b;
    tasks = aio::all_tasks();
    CHECK(tasks.size() == 2);
    co_await a;
  };
  aio::run(main());
  CHECK_THROWS_AS(aio::all_tasks(), aio::RuntimeError);
}

TEST_CASE("done callbacks run on the loop after the task ends, in order; removed ones do not", "[task_identity]") {
  // test_add_done_callback, test_remove_done_callback
  auto main = []() -> aio::Task<> {
    std::vector<std::string> log;
    auto t = aio::create_task(sleeper(1ms));
    aio::AnyTaskHandle any = t;
    any.add_done_callback([&](aio::AnyTaskHandle h) { log.push_back("first " + std::to_string(h.done())); });
    const auto id = any.add_done_callback([&](aio::AnyTaskHandle) { log.push_back("removed"); });
    any.add_done_callback([&](aio::AnyTaskHandle h) { log.push_back(h == any ? "third" : "?"); });
    CHECK(any.remove_done_callback(id) == 1);
    CHECK(any.remove_done_callback(id) == 0);
    CHECK(log.empty());
    co_await t;
    // As asyncio: the callbacks were added before this task's own wake-up,
    // so they ran (on the loop, in order) before it resumed.
    CHECK(log == std::vector<std::string>{"first 1", "third"});
    any.add_done_callback([&](aio::AnyTaskHandle) { log.push_back("late"); });  // already done: next iteration
    co_await aio::sleep(0s);
    CHECK(log.back() == "late");
  };
  aio::run(main());
}

TEST_CASE("cancelling and uncancel count requests on any handle; names can be set", "[task_identity]") {
  // test_cancelling, test_uncancel_basic, test_set_name
  auto main = []() -> aio::Task<> {
    auto t = aio::create_task(sleeper(10s));
    aio::AnyTaskHandle any = t;
    co_await aio::sleep(0s);
    CHECK(any.cancelling() == 0);
    any.cancel();
    any.cancel();
    CHECK(any.cancelling() == 2);
    CHECK(t.cancelling() == 2);
    CHECK(any.uncancel() == 1);
    any.set_name("worker");
    CHECK(t.get_name() == "worker");
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
    CHECK(any.cancelled());
    CHECK_THROWS_AS(any.exception(), aio::CancelledError);
    CHECK_THROWS_AS(aio::AnyTaskHandle().done(), aio::InvalidStateError);
  };
  aio::run(main());
}
