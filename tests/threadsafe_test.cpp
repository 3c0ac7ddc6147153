// EventLoop::call_soon_threadsafe: callable from any thread, wakes a loop
// blocked in io_uring_enter through its ring. Run under TSan ([thread]).

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "test_signal.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("call_soon_threadsafe from many threads at once: every callback runs, in per-thread FIFO order",
          "[threadsafe][thread]") {
  constexpr int kThreads = 8;
  constexpr int kEach = 2000;
  aio::EventLoop loop;
  test::Signal all_ran;
  // Touched on the loop's thread only (that is where callbacks run).
  std::vector<std::vector<int>> seen(kThreads);
  int total = 0;
  std::vector<std::thread> posters;
  std::atomic<bool> go{false};
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kEach; ++i) {
        loop.call_soon_threadsafe([&, t, i] {
          seen[static_cast<std::size_t>(t)].push_back(i);
          if (++total == kThreads * kEach) all_ran.set();
        });
      }
    });
  }
  auto main = [&]() -> aio::Task<> {
    go = true;
    co_await all_ran;
  };
  loop.run_until_complete(main());
  for (auto& p : posters) p.join();
  CHECK(total == kThreads * kEach);
  for (int t = 0; t < kThreads; ++t) {
    const auto& s = seen[static_cast<std::size_t>(t)];
    REQUIRE(s.size() == static_cast<std::size_t>(kEach));
    bool in_order = true;
    for (int i = 0; i < kEach; ++i) in_order = in_order && s[static_cast<std::size_t>(i)] == i;
    CHECK(in_order);
  }
}

TEST_CASE("call_soon_threadsafe wakes a loop blocked on a far timer at once", "[threadsafe][thread]") {
  // The loop sleeps in io_uring_enter with its kernel timeout 10 s away: the
  // eventfd read armed on the ring is what ends the wait.
  aio::EventLoop loop;
  test::Signal signal;
  std::atomic<std::int64_t> posted_at{0};
  double latency_ms = -1;
  std::thread poster;
  auto far = [&]() -> aio::Task<> { co_await aio::sleep(10s); };
  auto main = [&]() -> aio::Task<> {
    auto sleeper = aio::create_task(far());
    poster = std::thread([&] {
      std::this_thread::sleep_for(30ms);
      posted_at = std::chrono::steady_clock::now().time_since_epoch().count();
      loop.call_soon_threadsafe([&] {
        latency_ms = static_cast<double>(std::chrono::steady_clock::now().time_since_epoch().count() -
                                         posted_at.load()) /
                     1e6;
        signal.set();
      });
    });
    co_await signal;
    sleeper.cancel();
  };
  test::Stopwatch sw;
  loop.run_until_complete(main());
  poster.join();
  INFO("woken " << latency_ms << " ms after the post");
  CHECK(latency_ms >= 0.0);
  CHECK(latency_ms < 20.0);
  CHECK(sw.ms() < 1000.0);
}

TEST_CASE("call_soon_threadsafe wakes the loop in every io_uring task-run mode the kernel accepts",
          "[threadsafe][thread][uring]") {
  using TR = aio::LoopOptions::TaskRun;
  for (TR mode : {TR::defer, TR::cooperative, TR::plain}) {
    aio::LoopOptions options;
    options.taskrun = mode;
    aio::EventLoop loop(options);
    INFO("flags: " << loop.ring_flags());
    test::Signal signal;
    std::thread poster;
    auto main = [&]() -> aio::Task<> {
      poster = test::set_from_thread_after(loop, signal, 10ms);
      co_await signal;
    };
    test::Stopwatch sw;
    loop.run_until_complete(main());
    poster.join();
    CHECK(sw.ms() < 500.0);
  }
}

TEST_CASE("call_soon_threadsafe works from a thread that got the loop before it ran", "[threadsafe][thread]") {
  aio::EventLoop loop;
  test::Signal second;
  std::vector<int> order;  // loop thread only
  std::atomic<bool> first_posted{false};
  // Posts once before the loop ever ran (nothing to wake yet), then once
  // while it waits in the kernel.
  std::thread poster([&] {
    loop.call_soon_threadsafe([&] { order.push_back(1); });
    first_posted = true;
    std::this_thread::sleep_for(40ms);
    loop.call_soon_threadsafe([&] {
      order.push_back(2);
      second.set();
    });
  });
  while (!first_posted) std::this_thread::sleep_for(1ms);
  auto main = [&]() -> aio::Task<> { co_await second; };
  test::Stopwatch sw;
  loop.run_until_complete(main());
  poster.join();
  CHECK(order == std::vector<int>{1, 2});
  CHECK(sw.ms() < 500.0);
}

TEST_CASE("an idle loop waits in the kernel instead of polling", "[threadsafe][thread]") {
  aio::EventLoop loop;
  test::Signal signal;
  std::thread poster;
  double cpu_ms = 0;
  auto main = [&]() -> aio::Task<> {
    poster = test::set_from_thread_after(loop, signal, 200ms);
    const double before = test::thread_cpu_ms();
    co_await signal;
    cpu_ms = test::thread_cpu_ms() - before;
  };
  loop.run_until_complete(main());
  poster.join();
  INFO("the loop's thread used " << cpu_ms << " ms of CPU in a 200 ms wait");
  CHECK(cpu_ms < 20.0);
}

TEST_CASE("call_soon_threadsafe on a closed loop throws; callbacks still queued at close are dropped",
          "[threadsafe][thread]") {
  auto token = std::make_shared<int>(0);
  bool ran = false;
  {
    aio::EventLoop loop;
    std::thread([&] { loop.call_soon_threadsafe([token, &ran] { ran = true; }); }).join();
    CHECK(token.use_count() == 2);  // held by the queued callback
    loop.close();
    CHECK(token.use_count() == 1);  // dropped, not run
    CHECK_THROWS_AS(loop.call_soon_threadsafe([] {}), aio::RuntimeError);
    bool refused = false;  // Catch's assertions are not thread-safe: check on this thread
    std::thread([&] {
      try {
        loop.call_soon_threadsafe([] {});
      } catch (const aio::RuntimeError&) {
        refused = true;
      }
    }).join();
    CHECK(refused);
  }
  CHECK_FALSE(ran);
}

TEST_CASE("an exception in a call_soon_threadsafe callback is reported and the loop goes on",
          "[threadsafe][thread]") {
  aio::EventLoop loop;
  test::Signal after;
  auto main = [&]() -> aio::Task<> {
    std::thread([&] {
      loop.call_soon_threadsafe([] { throw std::runtime_error("threadsafe callback failed"); });
      loop.call_soon_threadsafe([&] { after.set(); });
    }).join();
    co_await after;
  };
  test::StderrCapture err;
  loop.run_until_complete(main());
  CHECK_THAT(err.text(), Catch::Contains("aio: exception in callback: threadsafe callback failed"));
}

TEST_CASE("call_soon_threadsafe racing with close never loses track of a callback", "[threadsafe][thread]") {
  // Posters hammer the loop while it runs, stops and closes: each callback
  // either runs or is dropped by close, or the post throws; none leaks (the
  // shared token counts the callbacks alive) and TSan sees no race.
  auto token = std::make_shared<int>(0);
  std::atomic<int> refused{0};
  std::atomic<int> posted{0};
  int ran = 0;  // loop thread only
  {
    aio::EventLoop loop;
    std::atomic<bool> stop{false};
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
      posters.emplace_back([&] {
        while (!stop) {
          try {
            loop.call_soon_threadsafe([token, &ran] { ++ran; });
            ++posted;
          } catch (const aio::RuntimeError&) {
            ++refused;
            std::this_thread::yield();
          }
        }
      });
    }
    loop.run_until_complete([]() -> aio::Task<> { co_await aio::sleep(20ms); }());
    loop.close();
    while (refused == 0) std::this_thread::yield();
    stop = true;
    for (auto& p : posters) p.join();
  }
  CHECK(token.use_count() == 1);
  CHECK(posted > 0);
  CHECK(ran > 0);
  CHECK(ran <= posted);
}
