// aio::sleep: a timer of the loop, woken by the loop's one armed io_uring
// timeout; never early, equal deadlines in start order.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("a 10 ms sleep never wakes early and wakes within a few ms on an idle machine", "[sleep]") {
  auto main = []() -> aio::Task<std::vector<double>> {
    std::vector<double> took;
    for (int i = 0; i < 5; ++i) {
      test::Stopwatch sw;
      co_await aio::sleep(10ms);
      took.push_back(sw.ms());
    }
    co_return took;
  };
  const std::vector<double> took = aio::run(main());
  for (double ms : took) {
    CHECK(ms >= 10.0);
    CHECK(ms < 10.0 + 15.0);  // generous for a loaded CI machine
  }
  // The best of five shows the wake-up path itself adds well under 2 ms.
  CHECK(*std::min_element(took.begin(), took.end()) < 12.0);
}

TEST_CASE("sleep(0) yields to every other ready task once", "[sleep]") {
  std::vector<std::string> log;
  auto worker = [&](std::string name) -> aio::Task<> {
    for (int i = 0; i < 3; ++i) {
      log.push_back(name + std::to_string(i));
      co_await aio::sleep(0s);
    }
  };
  auto main = [&]() -> aio::Task<> { co_await aio::gather(worker("a"), worker("b")); };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"});
}

TEST_CASE("a negative sleep returns at once without yielding", "[sleep]") {
  std::vector<std::string> log;
  auto other = [&]() -> aio::Task<> {
    log.push_back("other");
    co_return;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(other());
    co_await aio::sleep(-5ms);
    log.push_back("main");  // the other task has not had a turn
    co_await t;
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"main", "other"});
}

TEST_CASE("sleepers wake in deadline order, equal deadlines in the order they started", "[sleep]") {
  std::vector<int> order;
  auto sleeper = [&](int id, std::chrono::milliseconds d) -> aio::Task<> {
    co_await aio::sleep(d);
    order.push_back(id);
  };
  auto main = [&]() -> aio::Task<> {
    // Started in this order within one iteration; 3 and 4 share a duration,
    // so 3's deadline is earlier or equal, and it must not wake after 4.
    co_await aio::gather(sleeper(1, 30ms), sleeper(2, 10ms), sleeper(3, 20ms), sleeper(4, 20ms),
                         sleeper(5, 1ms));
  };
  aio::run(main());
  CHECK(order == std::vector<int>{5, 2, 3, 4, 1});
}

TEST_CASE("timers sharing one deadline fire in the order they were started", "[sleep]") {
  aio::EventLoop loop;
  std::vector<int> order;
  auto main = [&]() -> aio::Task<> {
    auto& l = aio::get_running_loop();
    const auto when = l.time() + 5ms;
    for (int i = 0; i < 100; ++i) l.call_at(when, [&order, i] { order.push_back(i); });
    co_await aio::sleep(10ms);
  };
  loop.run_until_complete(main());
  REQUIRE(order.size() == 100);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("100,000 concurrent sleeps all complete", "[sleep][scale]") {
  constexpr int n = 100'000;
  auto sleeper = [](int i) -> aio::Task<int> {
    co_await aio::sleep(std::chrono::milliseconds(10 + i % 7));
    co_return i;
  };
  auto main = [&]() -> aio::Task<long> {
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(n);
    for (int i = 0; i < n; ++i) tasks.push_back(sleeper(i));
    test::Stopwatch sw;
    std::vector<int> got = co_await aio::gather(std::move(tasks));
    CHECK(sw.ms() >= 10.0);
    long sum = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (got[i] != static_cast<int>(i)) co_return -1;
      sum += got[i];
    }
    co_return sum;
  };
  CHECK(aio::run(main()) == static_cast<long>(n) * (n - 1) / 2);
}

TEST_CASE("an earlier deadline moves the armed kernel timeout forward", "[sleep]") {
  // The long sleep arms the kernel timeout at +10 s and the loop blocks; I/O
  // wakes it; the 20 ms sleep then must move the armed timeout, not wait 10 s.
  test::Pipe p;
  auto main = [&]() -> aio::Task<double> {
    auto long_sleep = aio::create_task([]() -> aio::Task<> { co_await aio::sleep(10s); }());
    std::thread writer([&] {
      std::this_thread::sleep_for(5ms);
      p.put();
    });
    std::byte b[1];
    co_await aio::read(p.r, b);
    writer.join();
    test::Stopwatch sw;
    co_await aio::sleep(20ms);
    long_sleep.cancel();
    co_return sw.ms();
  };
  const double ms = aio::run(main());
  CHECK(ms >= 20.0);
  CHECK(ms < 20.0 + 15.0);
}

TEST_CASE("sleep_until wakes at an absolute time of the loop's clock, a past time at once", "[sleep]") {
  auto main = []() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    const auto when = loop.time() + 10ms;
    co_await aio::sleep_until(when);
    CHECK(loop.time() >= when);
    test::Stopwatch sw;
    co_await aio::sleep_until(when - 5ms);
    CHECK(sw.ms() < 1.0);
  };
  aio::run(main());
}

TEST_CASE("a duration too long to represent in nanoseconds sleeps forever, never wakes early", "[sleep]") {
  // hours::max() and now + nanoseconds::max() overflow int64: they mean
  // "never", so the sleeper is still asleep when its neighbour wakes.
  auto main = []() -> aio::Task<> {
    auto forever = aio::create_task([]() -> aio::Task<> { co_await aio::sleep(std::chrono::hours::max()); }());
    auto almost = aio::create_task([]() -> aio::Task<> { co_await aio::sleep(std::chrono::nanoseconds::max()); }());
    co_await aio::sleep(5ms);
    CHECK_FALSE(forever.done());
    CHECK_FALSE(almost.done());
    forever.cancel();
    almost.cancel();
    co_await aio::gather_settled(forever, almost);
    CHECK(forever.cancelled());
    CHECK(almost.cancelled());
  };
  aio::run(main());
}
