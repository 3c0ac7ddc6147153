// aio::wait_for: asyncio.wait_for with Python 3.12 semantics.

#include <catch2/catch.hpp>

#include <poll.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

}  // namespace

TEST_CASE("wait_for returns the result when the awaitable finishes first", "[wait_for]") {
  auto main = []() -> aio::Task<> {
    const int v = co_await aio::wait_for(after(2ms, 7), 1s);
    CHECK(v == 7);
    auto h = aio::create_task(after(1ms, 8));
    const int w = co_await aio::wait_for(h, 1s);
    CHECK(w == 8);
    co_await aio::wait_for(aio::sleep(1ms), 1s);
  };
  aio::run(main());
}

TEST_CASE("wait_for rethrows the awaitable's exception", "[wait_for]") {
  auto main = []() -> aio::Task<> {
    auto failing = []() -> aio::Task<int> {
      co_await aio::sleep(1ms);
      throw std::runtime_error("inner");
    };
    CHECK_THROWS_WITH(co_await aio::wait_for(failing(), 1s), "inner");
  };
  aio::run(main());
}

TEST_CASE("wait_for times out: it cancels the awaitable, awaits its cleanup, throws TimeoutError", "[wait_for]") {
  std::vector<std::string> log;
  auto eternity = [&]() -> aio::Task<int> {
    std::exception_ptr cancelled;
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      log.push_back("inner cancelled");
      cancelled = std::current_exception();
    }
    co_await aio::sleep(20ms);  // a slow cleanup: wait_for waits for it
    log.push_back("inner cleaned up");
    std::rethrow_exception(cancelled);
  };
  auto main = [&]() -> aio::Task<double> {
    test::Stopwatch sw;
    try {
      co_await aio::wait_for(eternity(), 10ms);
      FAIL("no timeout");
    } catch (const aio::TimeoutError&) {
      log.push_back("timeout");
    }
    co_return sw.ms();
  };
  const double ms = aio::run(main());
  CHECK(log == std::vector<std::string>{"inner cancelled", "inner cleaned up", "timeout"});
  CHECK(ms >= 10 + 20);  // the timeout plus the inner's cancellation time
  CHECK(ms < 10 + 20 + 25);
}

TEST_CASE("wait_for on a task handle cancels that task on timeout", "[wait_for]") {
  auto main = []() -> aio::Task<> {
    auto h = aio::create_task(after(10s, 1));
    CHECK_THROWS_AS(co_await aio::wait_for(h, 5ms), aio::TimeoutError);
    CHECK(h.cancelled());
  };
  aio::run(main());
}

TEST_CASE("wait_for with a timeout <= 0 cancels at once unless the awaitable is done", "[wait_for]") {
  bool started = false;
  auto body = [&]() -> aio::Task<int> {
    started = true;
    co_return 1;
  };
  auto main = [&]() -> aio::Task<> {
    CHECK_THROWS_AS(co_await aio::wait_for(body(), 0s), aio::TimeoutError);
    CHECK_FALSE(started);  // a coroutine that never started is not started
    auto done = aio::create_task(after(0ms, 3));
    co_await aio::sleep(1ms);
    const int v = co_await aio::wait_for(done, -1s);
    CHECK(v == 3);
    auto pending = aio::create_task(after(10s, 4));
    CHECK_THROWS_AS(co_await aio::wait_for(pending, 0s), aio::TimeoutError);
    CHECK(pending.cancelled());
  };
  aio::run(main());
}

TEST_CASE("wait_for with a timeout <= 0 cancels a gather's children and never converts an outside cancel", "[wait_for][cancel]") {
  int cancelled = 0;
  auto slow = [](int& c) -> aio::Task<> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      ++c;
      throw;
    }
  };
  aio::TaskHandle<int> target;
  auto waiter = [&]() -> aio::Task<> { co_await aio::wait_for(target, 0s); };
  auto main = [&]() -> aio::Task<> {
    auto a = aio::create_task(slow(cancelled));
    auto b = aio::create_task(slow(cancelled));
    co_await aio::sleep(0s);  // both started: asleep in their try blocks
    CHECK_THROWS_AS(co_await aio::wait_for(aio::gather(a, b), 0s), aio::TimeoutError);
    CHECK(cancelled == 2);  // the gather's children were cancelled, not left running
    CHECK((a.cancelled() && b.cancelled()));
    // The waiter is cancelled from outside while wait_for(target, 0) waits
    // for target's cancellation to finish: it stays a CancelledError.
    target = aio::create_task([]() -> aio::Task<int> {
      try {
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
      }
      co_await aio::sleep(5ms);  // a slow cleanup
      co_return 0;
    }());
    co_await aio::sleep(0s);  // target started: asleep in its try block
    auto w = aio::create_task(waiter());
    co_await aio::sleep(0s);  // the waiter cancelled target and waits for its cleanup
    w.cancel();
    CHECK_THROWS_AS(co_await w, aio::CancelledError);
  };
  aio::run(main());
}

TEST_CASE("a timed-out pending read is cancelled in the kernel", "[wait_for][fd]") {
  test::Pipe p;
  auto main = [&]() -> aio::Task<> {
    std::byte b[1];
    test::Stopwatch sw;
    CHECK_THROWS_AS(co_await aio::wait_for(aio::read(p.r, b), 5ms), aio::TimeoutError);
    CHECK(sw.ms() >= 5);
    // The read is gone: a byte written now stays in the pipe.
    p.put();
    co_await aio::sleep(2ms);
  };
  aio::run(main());
  CHECK(p.drain() == 1);
}

TEST_CASE("an outside cancellation of the task in wait_for is never turned into a TimeoutError", "[wait_for][cancel]") {
  auto waiter = []() -> aio::Task<> { co_await aio::wait_for(aio::sleep(10s), 10s); };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(waiter());
    co_await aio::sleep(1ms);
    t.cancel();
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
  };
  aio::run(main());
}

TEST_CASE("a task that is a wait_for, cancelled from outside, ends cancelled", "[wait_for][cancel]") {
  // wait_for itself the root of the task: its CancelledError must make the
  // task cancelled (not failed), for an operation and for a Task inner.
  auto main = []() -> aio::Task<> {
    auto on_sleep = aio::create_task(aio::wait_for(aio::sleep(10s), 10s));
    auto on_task = aio::create_task(aio::wait_for(after(10000ms, 1), 10s));
    co_await aio::sleep(1ms);
    on_sleep.cancel();
    on_task.cancel();
    auto settled = co_await aio::gather_settled(on_sleep, on_task);
    CHECK(std::get<0>(settled).cancelled());
    CHECK(std::get<1>(settled).cancelled());
    CHECK(on_sleep.cancelled());
    CHECK(on_task.cancelled());
    CHECK_THROWS_AS(on_sleep.exception(), aio::CancelledError);
  };
  aio::run(main());
}

namespace {
// Cancels `target` after `d`; started before the target arms its own timers,
// so that on a tie it is due first and runs first in the iteration.
aio::Task<bool> cancel_after(std::chrono::milliseconds d, const aio::TaskHandle<>& target) {
  co_await aio::sleep(d);
  co_return target.cancel();
}

// The canceller's 1 ms timer is armed first, then the waiter's
// wait_for(sleep(inner), timeout); main blocks the loop past both, so one
// iteration fires them together and the canceller runs first. The waiter
// must end cancelled.
void outside_cancel_in_the_same_iteration(std::chrono::milliseconds inner, std::chrono::milliseconds timeout) {
  aio::TaskHandle<> t;
  auto waiter = [](std::chrono::milliseconds i, std::chrono::milliseconds to) -> aio::Task<> {
    co_await aio::wait_for(aio::sleep(i), to);
  };
  auto main = [&]() -> aio::Task<> {
    auto canceller = aio::create_task(cancel_after(1ms, t));
    t = aio::create_task(waiter(inner, timeout));
    co_await aio::sleep(0s);  // the canceller arms its timer first, then the waiter its own
    std::this_thread::sleep_for(3ms);
    const bool accepted = co_await canceller;
    CHECK(accepted);
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
  };
  aio::run(main());
}
}  // namespace

TEST_CASE("an outside cancel in the same iteration as the deadline stays a cancellation", "[wait_for][cancel][race]") {
  // The deadline (1 ms) fires with the canceller: the deadline cancels the
  // waiter, then the canceller cancels it again before it resumes. Two
  // cancellations, one of them wait_for's own: wait_for withdraws its own,
  // and the outside one propagates as CancelledError.
  outside_cancel_in_the_same_iteration(10s, 1ms);
}

TEST_CASE("an inner that finishes in the same iteration as an outside cancel is not lost", "[wait_for][cancel][race]") {
  // The inner sleep (1 ms) fires with the canceller, which cancels the waiter
  // whose inner already completed but which has not resumed: never a silent
  // success, never a TimeoutError.
  outside_cancel_in_the_same_iteration(1ms, 10s);
}

TEST_CASE("after a timeout the task carries no leftover cancellation", "[wait_for][cancel]") {
  auto main = []() -> aio::Task<int> {
    CHECK_THROWS_AS(co_await aio::wait_for(aio::sleep(10s), 1ms), aio::TimeoutError);
    co_await aio::sleep(2ms);  // not cancelled
    co_return co_await aio::wait_for(after(1ms, 9), 1s);
  };
  CHECK(aio::run(main()) == 9);
}

TEST_CASE("nested wait_for: the inner deadline gives TimeoutError to the inner only", "[wait_for]") {
  auto main = []() -> aio::Task<std::string> {
    auto inner = []() -> aio::Task<std::string> {
      try {
        co_await aio::wait_for(aio::sleep(10s), 2ms);
      } catch (const aio::TimeoutError&) {
        co_return "inner timeout";
      }
      co_return "no timeout";
    };
    co_return co_await aio::wait_for(inner(), 1s);
  };
  CHECK(aio::run(main()) == "inner timeout");
}

TEST_CASE("wait_for_fast: 10,000 sequential wait_for whose inner wins leave no timer behind", "[wait_for]") {
  aio::EventLoop loop;
  auto main = []() -> aio::Task<int> {
    int n = 0;
    for (int i = 0; i < 10'000; ++i) {
      co_await aio::wait_for(aio::sleep(0s), 1s);
      ++n;
    }
    co_return n;
  };
  CHECK(loop.run_until_complete(main()) == 10'000);
  CHECK(aio::detail::core_of(loop).timer_count() == 0);
}

TEST_CASE("wait_for(q.get()) against a producer never loses an item (1,000 items)", "[wait_for][queue][race]") {
  // The producer puts 1,000 numbered items with random gaps (yields); the
  // consumer gets each with a deadline that often expires first, sometimes in
  // the same iteration as the put that hands it an item. Every item must be
  // received exactly once, in order.
  constexpr int n = 1000;
  aio::Queue<int> q;
  auto producer = [&]() -> aio::Task<> {
    unsigned x = 7;
    for (int i = 0; i < n; ++i) {
      x = x * 1103515245u + 12345u;
      if ((x >> 16) % 3 == 0) {
        co_await aio::sleep(std::chrono::microseconds((x >> 8) % 200));
      } else {
        for (unsigned y = 0; y < (x >> 20) % 3; ++y) co_await aio::sleep(0s);
      }
      co_await q.put(i);
    }
  };
  auto consumer = [&]() -> aio::Task<std::vector<int>> {
    std::vector<int> got;
    int timeouts = 0;
    while (static_cast<int>(got.size()) < n) {
      try {
        got.push_back(co_await aio::wait_for(q.get(), std::chrono::microseconds(50)));
      } catch (const aio::TimeoutError&) {
        ++timeouts;
      }
    }
    CHECK(timeouts > 0);
    co_return got;
  };
  auto main = [&]() -> aio::Task<> {
    auto p = aio::create_task(producer());
    std::vector<int> got = co_await consumer();
    co_await p;
    REQUIRE(got.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i);
    CHECK(q.empty());
  };
  aio::run(main());
}

TEST_CASE("wait_for with a timeout too long to represent never times out", "[wait_for]") {
  auto main = []() -> aio::Task<int> {
    co_return co_await aio::wait_for(after(5ms, 3), std::chrono::nanoseconds::max());
  };
  CHECK(aio::run(main()) == 3);
}

TEST_CASE("wait_for accepts a gather: its results, or every child cancelled on timeout", "[wait_for][gather]") {
  auto main = []() -> aio::Task<> {
    auto [a, b] = co_await aio::wait_for(aio::gather(after(1ms, 1), after(2ms, 2)), 1s);
    CHECK(a == 1);
    CHECK(b == 2);
    int cancelled = 0;
    auto slow = [](int& c) -> aio::Task<> {
      try {
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
        ++c;
        throw;
      }
    };
    CHECK_THROWS_AS(co_await aio::wait_for(aio::gather(slow(cancelled), slow(cancelled)), 2ms), aio::TimeoutError);
    CHECK(cancelled == 2);
    // Held by value: a task that is the wait_for itself outlives the call's temporaries.
    auto t = aio::create_task(aio::wait_for(aio::gather(after(1ms, 4)), 1s));
    const auto [c] = co_await t;
    CHECK(c == 4);
  };
  aio::run(main());
}
