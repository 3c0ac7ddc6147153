// aio::wait and aio::as_completed: asyncio.wait and asyncio.as_completed
// (cases of CPython 3.13's test_tasks.py).

#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}
aio::Task<int> fail_after(std::chrono::milliseconds d) {
  co_await aio::sleep(d);
  throw std::runtime_error("boom");
}

}  // namespace

TEST_CASE("wait: all_completed returns every task done", "[wait]") {
  // test_wait
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(2ms, 1)), aio::create_task(after(5ms, 2))};
    auto r = co_await aio::wait(ts);
    CHECK(r.done.size() == 2);
    CHECK(r.pending.empty());
    CHECK(r.done[0] == ts[0]);
    CHECK(ts[0].result() + ts[1].result() == 3);
  };
  aio::run(main());
}

TEST_CASE("wait: first_completed returns once one is done; nothing is cancelled", "[wait]") {
  // test_wait_first_completed
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(10s, 1)), aio::create_task(after(1ms, 2))};
    auto r = co_await aio::wait(ts, aio::ReturnWhen::first_completed);
    REQUIRE(r.done.size() == 1);
    CHECK(r.done[0] == ts[1]);
    REQUIRE(r.pending.size() == 1);
    CHECK_FALSE(r.pending[0].done());
    CHECK_FALSE(r.pending[0].cancelled());
    ts[0].cancel();
    auto r2 = co_await aio::wait(ts);
    CHECK(r2.done.size() == 2);
    CHECK(ts[0].cancelled());
  };
  aio::run(main());
}

TEST_CASE("wait: first_exception returns at the first failure, else when all are done", "[wait]") {
  // test_wait_first_exception, test_wait_first_exception_in_wait
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(10s, 1)), aio::create_task(fail_after(2ms))};
    auto r = co_await aio::wait(ts, aio::ReturnWhen::first_exception);
    CHECK(r.done.size() == 1);
    CHECK(r.pending.size() == 1);
    CHECK(r.done[0].exception() != nullptr);
    // A cancellation is not an exception: wait for all.
    std::vector<aio::TaskHandle<int>> us{aio::create_task(after(10s, 1)), aio::create_task(after(3ms, 2))};
    co_await aio::sleep(0s);
    us[0].cancel();
    auto r2 = co_await aio::wait(us, aio::ReturnWhen::first_exception);
    CHECK(r2.done.size() == 2);
    ts[0].cancel();
  };
  aio::run(main());
}

TEST_CASE("wait: the timeout returns done and pending and cancels nothing", "[wait]") {
  // test_wait_with_timeout
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(1ms, 1)), aio::create_task(after(10s, 2))};
    auto r = co_await aio::wait(ts, aio::ReturnWhen::all_completed, 20ms);
    CHECK(sw.ms() >= 20);
    CHECK(sw.ms() < 2000);
    CHECK(r.done.size() == 1);
    REQUIRE(r.pending.size() == 1);
    CHECK_FALSE(r.pending[0].cancelled());
    ts[1].cancel();
    std::vector<aio::TaskHandle<int>> none;
    CHECK_THROWS_AS(co_await aio::wait(none), aio::ValueError);
  };
  aio::run(main());
}

TEST_CASE("wait: cancelling the waiter throws CancelledError and leaves the tasks alone", "[wait][cancel]") {
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(10s, 1))};
    auto w = aio::create_task([](std::vector<aio::TaskHandle<int>> t) -> aio::Task<> {
      co_await aio::wait(t);
    }(ts));
    co_await aio::sleep(0s);
    w.cancel();
    CHECK_THROWS_AS(co_await w, aio::CancelledError);
    CHECK_FALSE(ts[0].done());
    ts[0].cancel();
  };
  aio::run(main());
}

TEST_CASE("as_completed: the k-th await yields the k-th task to finish", "[as_completed]") {
  // test_as_completed
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(15ms, 3)), aio::create_task(after(1ms, 1)),
                                         aio::create_task(after(8ms, 2))};
    std::vector<int> got;
    for (auto next : aio::as_completed(ts)) got.push_back(co_await next);
    CHECK(got == std::vector<int>{1, 2, 3});
    CHECK(ts[0].result() == 3);  // the handles keep their results
  };
  aio::run(main());
}

TEST_CASE("as_completed: an exception is rethrown by its own await; the rest go on", "[as_completed]") {
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(10ms, 2)), aio::create_task(fail_after(1ms))};
    auto range = aio::as_completed(ts);
    auto it = range.begin();
    CHECK_THROWS_AS(co_await *it, std::runtime_error);
    ++it;
    {
      const auto got = co_await *it;
      CHECK(got == 2);
    }
  };
  aio::run(main());
}

TEST_CASE("as_completed: past the timeout the remaining awaits throw TimeoutError", "[as_completed]") {
  // test_as_completed_with_timeout
  auto main = []() -> aio::Task<> {
    std::vector<aio::TaskHandle<int>> ts{aio::create_task(after(1ms, 1)), aio::create_task(after(10s, 2)),
                                         aio::create_task(after(10s, 3))};
    int values = 0, timeouts = 0;
    for (auto next : aio::as_completed(ts, 20ms)) {
      try {
        values += co_await next;
      } catch (const aio::TimeoutError&) {
        ++timeouts;
      }
    }
    CHECK(values == 1);
    CHECK(timeouts == 2);
    CHECK_FALSE(ts[1].done());  // not cancelled
    ts[1].cancel();
    ts[2].cancel();
  };
  aio::run(main());
}
