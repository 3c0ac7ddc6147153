// EventLoop: callbacks (call_soon / call_later / call_at), time, setup options.

#include <catch2/catch.hpp>

#include <poll.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("call_soon callbacks run in the order they were scheduled, on the next iteration", "[loop]") {
  aio::EventLoop loop;
  std::vector<int> order;
  auto main = [&]() -> aio::Task<> {
    auto& l = aio::get_running_loop();
    for (int i = 0; i < 5; ++i) l.call_soon([&order, i] { order.push_back(i); });
    CHECK(order.empty());  // not run inline
    co_await aio::sleep(0ms);
    order.push_back(99);
  };
  loop.run_until_complete(main());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 99});
}

TEST_CASE("call_later runs callbacks by deadline, never early, equal deadlines in order", "[loop]") {
  aio::EventLoop loop;
  std::vector<std::string> order;
  test::Stopwatch sw;
  double late_ms = 0;
  auto main = [&]() -> aio::Task<> {
    auto& l = aio::get_running_loop();
    const auto when = l.time() + 20ms;
    l.call_later(30ms, [&] { order.push_back("30"); });
    l.call_at(when, [&] {
      order.push_back("20a");
      late_ms = sw.ms();
    });
    l.call_at(when, [&] { order.push_back("20b"); });
    l.call_later(5ms, [&] { order.push_back("5"); });
    l.call_later(std::chrono::hours::max(), [&] { order.push_back("never"); });  // saturates, not overflows
    co_await aio::sleep(40ms);
  };
  loop.run_until_complete(main());
  CHECK(order == std::vector<std::string>{"5", "20a", "20b", "30"});
  CHECK(late_ms >= 20.0);
}

TEST_CASE("a cancelled callback does not run", "[loop]") {
  aio::EventLoop loop;
  bool soon = false, later = false;
  auto main = [&]() -> aio::Task<> {
    auto& l = aio::get_running_loop();
    auto h1 = l.call_soon([&] { soon = true; });
    auto h2 = l.call_later(1ms, [&] { later = true; });
    h1.cancel();
    h2.cancel();
    CHECK(h1.cancelled());
    co_await aio::sleep(5ms);
  };
  loop.run_until_complete(main());
  CHECK_FALSE(soon);
  CHECK_FALSE(later);
}

TEST_CASE("an exception in a callback is reported and the loop goes on", "[loop]") {
  aio::EventLoop loop;
  bool after = false;
  auto main = [&]() -> aio::Task<> {
    auto& l = aio::get_running_loop();
    l.call_soon([] { throw std::runtime_error("callback failed"); });
    l.call_soon([&] { after = true; });
    co_await aio::sleep(1ms);
  };
  loop.run_until_complete(main());
  CHECK(after);
}

TEST_CASE("loop.time is monotonic and follows steady_clock", "[loop]") {
  aio::EventLoop loop;
  const auto a = loop.time();
  const auto b = loop.time();
  CHECK(b >= a);
  CHECK(std::chrono::steady_clock::now() >= b);
}

namespace {
aio::Task<std::size_t> count_all(std::vector<aio::Task<short>> polls) {
  auto revents = co_await aio::gather(std::move(polls));
  co_return revents.size();
}
}  // namespace

TEST_CASE("every io_uring task-run mode the kernel accepts runs tasks", "[loop][uring]") {
  using TR = aio::LoopOptions::TaskRun;
  for (TR mode : {TR::automatic, TR::defer, TR::cooperative, TR::plain}) {
    aio::LoopOptions options;
    options.taskrun = mode;
    options.entries = 4;  // tiny: the SQ fills and is flushed, never refused
    test::Pipe p;
    auto main = [&]() -> aio::Task<std::size_t> {
      std::vector<aio::Task<short>> polls;
      for (int i = 0; i < 50; ++i) {
        polls.push_back([](int fd) -> aio::Task<short> { co_return co_await aio::poll(fd, POLLIN); }(p.r));
      }
      auto all = aio::create_task(count_all(std::move(polls)));
      co_await aio::sleep(2ms);
      p.put();
      co_return co_await all;
    };
    aio::EventLoop loop(options);
    INFO("flags: " << loop.ring_flags());
    CHECK(loop.run_until_complete(main()) == 50);
  }
}

TEST_CASE("an impossible ring size is a clear setup error", "[loop][uring]") {
  aio::LoopOptions options;
  options.entries = 1u << 20;
  try {
    aio::EventLoop loop(options);
    FAIL("the loop was created");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EINVAL);
    CHECK_THAT(e.what(), Catch::Contains("entries=1048576") && Catch::Contains("32768"));
  }
}
