// gather / gather_settled: asyncio.gather with return_exceptions False / True.

#include <catch2/catch.hpp>

#include <array>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::Task<> fail_after(std::chrono::milliseconds d, const char* what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}

}  // namespace

TEST_CASE("gather returns results in argument order, not completion order", "[gather]") {
  auto main = []() -> aio::Task<> {
    auto [a, b, c] = co_await aio::gather(after(30ms, 1), after(10ms, 2), after(20ms, 3));
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(c == 3);
  };
  aio::run(main());
}

TEST_CASE("gather runs its children concurrently", "[gather]") {
  auto main = []() -> aio::Task<double> {
    test::Stopwatch sw;
    co_await aio::gather(after(20ms, 0), after(20ms, 0), after(20ms, 0));
    co_return sw.ms();
  };
  const double ms = aio::run(main());
  CHECK(ms >= 20);
  CHECK(ms < 50);
}

TEST_CASE("gather turns void results into aio::Void and mixes value types", "[gather]") {
  auto main = []() -> aio::Task<> {
    auto nothing = []() -> aio::Task<> { co_await aio::sleep(1ms); };
    auto text = []() -> aio::Task<std::string> { co_return "s"; };
    std::tuple<aio::Void, std::string, int> r = co_await aio::gather(nothing(), text(), after(1ms, 4));
    CHECK(std::get<1>(r) == "s");
    CHECK(std::get<2>(r) == 4);
  };
  aio::run(main());
}

TEST_CASE("gather over a vector of tasks returns a vector in order", "[gather]") {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(after(std::chrono::milliseconds(10 - i), i));
    std::vector<int> r = co_await aio::gather(std::move(tasks));
    CHECK(r == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    std::vector<aio::Task<>> voids;
    voids.push_back([]() -> aio::Task<> { co_return; }());
    std::vector<aio::Void> v = co_await aio::gather(std::move(voids));
    CHECK(v.size() == 1);
    std::vector<aio::Task<int>> none;
    std::vector<int> empty = co_await aio::gather(std::move(none));
    CHECK(empty.empty());
  };
  aio::run(main());
}

TEST_CASE("gather accepts any range of tasks or handles and returns a vector in order", "[gather]") {
  auto main = []() -> aio::Task<> {
    std::array<aio::Task<int>, 3> tasks{after(3ms, 0), after(2ms, 1), after(1ms, 2)};
    const std::vector<int> r = co_await aio::gather(std::move(tasks));
    REQUIRE(r.size() == 3);
    CHECK((r[0] == 0 && r[1] == 1 && r[2] == 2));
    std::list<aio::TaskHandle<int>> handles;
    handles.push_back(aio::create_task(after(2ms, 5)));
    handles.push_back(aio::create_task(after(1ms, 6)));
    const std::vector<aio::Outcome<int>> settled = co_await aio::gather_settled(handles);
    REQUIRE(settled.size() == 2);
    CHECK(settled[0].value() == 5);
    CHECK(settled[1].value() == 6);
    CHECK(handles.front().result() == 5);  // a caller's handle keeps its result
  };
  aio::run(main());
}

TEST_CASE("gather accepts task handles and leaves their results readable", "[gather]") {
  auto main = []() -> aio::Task<> {
    auto h1 = aio::create_task(after(2ms, 7));
    auto h2 = aio::create_task(after(1ms, 8));
    auto [a, b] = co_await aio::gather(h1, h2);
    CHECK(a + b == 15);
    CHECK(h1.result() == 7);
    std::vector<aio::TaskHandle<int>> hs;  // no initializer_list in a coroutine (g++ 12)
    hs.push_back(h1);
    hs.push_back(h2);
    std::vector<int> both = co_await aio::gather(hs);
    CHECK(both.size() == 2);
    CHECK(both[0] == 7);
    CHECK(both[1] == 8);
  };
  aio::run(main());
}

TEST_CASE("gather moves move-only results out of the tasks it created", "[gather]") {
  auto main = []() -> aio::Task<> {
    auto make = [](int v) -> aio::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(v); };
    auto [a, b] = co_await aio::gather(make(1), make(2));
    CHECK(*a + *b == 3);
  };
  aio::run(main());
}

TEST_CASE("the first exception propagates at once while the other children keep running", "[gather]") {
  bool slow_finished = false;
  auto slow = [&]() -> aio::Task<int> {
    co_await aio::sleep(40ms);
    slow_finished = true;
    co_return 1;
  };
  auto main = [&]() -> aio::Task<> {
    test::Stopwatch sw;
    try {
      co_await aio::gather(slow(), fail_after(5ms, "first"), fail_after(20ms, "second"));
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "first");
    }
    CHECK(sw.ms() < 35);  // did not wait for the slow child
    CHECK_FALSE(slow_finished);
    co_await aio::sleep(60ms);
    CHECK(slow_finished);  // it kept running
  };
  aio::run(main());
}

TEST_CASE("gather_settled returns every outcome: value, exception, cancellation", "[gather]") {
  auto main = []() -> aio::Task<> {
    auto victim = aio::create_task(after(10s, 0));
    auto canceller = [](aio::TaskHandle<int> v) -> aio::Task<> {
      co_await aio::sleep(1ms);
      v.cancel();
    };
    auto [ok, failed, cancelled, none] =
        co_await aio::gather_settled(after(2ms, 5), fail_after(1ms, "bad"), victim, canceller(victim));
    CHECK(ok.has_value());
    CHECK(ok.value() == 5);
    CHECK_FALSE(failed.has_value());
    CHECK_FALSE(failed.cancelled());
    CHECK_THROWS_WITH(failed.value(), "bad");
    CHECK(cancelled.cancelled());
    CHECK_THROWS_AS(cancelled.value(), aio::CancelledError);
    CHECK(none.has_value());
  };
  aio::run(main());
}

TEST_CASE("a cancelled child makes gather throw CancelledError", "[gather][cancel]") {
  auto main = []() -> aio::Task<> {
    auto victim = aio::create_task(after(10s, 0));
    auto other = aio::create_task(after(1ms, 1));
    victim.cancel();
    CHECK_THROWS_AS(co_await aio::gather(victim, other), aio::CancelledError);
  };
  aio::run(main());
}

TEST_CASE("cancelling the task awaiting gather cancels every child", "[gather][cancel]") {
  std::vector<aio::TaskHandle<int>> children;
  int cleaned = 0;
  auto child = [&](int i) -> aio::Task<int> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      ++cleaned;
      throw;
    }
    co_return i;
  };
  auto gatherer = [&]() -> aio::Task<> {
    for (int i = 0; i < 3; ++i) children.push_back(aio::create_task(child(i)));
    co_await aio::gather(children);
  };
  auto main = [&]() -> aio::Task<> {
    auto g = aio::create_task(gatherer());
    co_await aio::sleep(2ms);
    g.cancel();
    CHECK_THROWS_AS(co_await g, aio::CancelledError);
    co_await aio::sleep(1ms);
    for (auto& c : children) CHECK(c.cancelled());
  };
  aio::run(main());
  CHECK(cleaned == 3);
}

TEST_CASE("cancelling gather_settled cancels the children and throws CancelledError", "[gather][cancel]") {
  auto main = []() -> aio::Task<> {
    auto g = aio::create_task([]() -> aio::Task<> {
      co_await aio::gather_settled(after(10s, 1), after(10s, 2));
    }());
    co_await aio::sleep(2ms);
    g.cancel();
    CHECK_THROWS_AS(co_await g, aio::CancelledError);
  };
  aio::run(main());
}
