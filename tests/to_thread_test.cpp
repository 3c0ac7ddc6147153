// aio::to_thread: asyncio.to_thread on the loop's worker threads. Run under
// ASan (no leak, no use after free of a job left behind by a cancelled task)
// and under TSan ([thread]: no data race between workers and the loop).

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

/// A result whose instances are counted, to see whether and where the
/// result of an abandoned call is destroyed. (Moved-from temporaries die on
/// the worker; the value itself must die on the loop's thread.)
struct Counted {
  static inline std::atomic<int> alive{0};
  static inline std::atomic<bool> destroyed_off_loop{false};
  static inline std::thread::id loop_thread;
  int value = 0;
  explicit Counted(int v) : value(v) { ++alive; }
  Counted(const Counted& o) : value(o.value) { ++alive; }
  Counted(Counted&& o) noexcept : value(std::exchange(o.value, -1)) { ++alive; }
  ~Counted() {
    if (value >= 0 && std::this_thread::get_id() != loop_thread) destroyed_off_loop = true;
    --alive;
  }
};

aio::Task<> gather_all(std::vector<aio::Task<>> tasks) { co_await aio::gather(std::move(tasks)); }

/// Lets a test hold a worker inside its call until released.
struct Gate {
  std::atomic<bool> entered{false};
  std::atomic<bool> open{false};
  void pass() {
    entered = true;
    while (!open) std::this_thread::sleep_for(100us);
  }
};

int add(int a, int b) { return a + b; }

}  // namespace

TEST_CASE("to_thread returns the function's result, on another thread", "[to_thread][thread]") {
  const auto loop_thread = std::this_thread::get_id();
  auto main = [&]() -> aio::Task<> {
    const int sum = co_await aio::to_thread(add, 2, 3);
    CHECK(sum == 5);
    const auto worker = co_await aio::to_thread([] { return std::this_thread::get_id(); });
    CHECK(worker != loop_thread);
    std::string s = co_await aio::to_thread([](std::string a, const std::string& b) { return a + b; },
                                            std::string("to_"), std::string("thread"));
    CHECK(s == "to_thread");
    bool ran = false;
    co_await aio::to_thread([&ran] { ran = true; });  // void
    CHECK(ran);
  };
  aio::run(main());
}

TEST_CASE("to_thread copies its arguments when called; std::ref passes a reference", "[to_thread][thread]") {
  auto main = []() -> aio::Task<> {
    int n = 1;
    aio::Task<int> copy = aio::to_thread([](int v) { return v; }, n);
    aio::Task<> ref = aio::to_thread([](int& v) { v = 42; }, std::ref(n));
    n = 7;  // after the copy was taken, before the call
    const int got = co_await std::move(copy);
    CHECK(got == 1);
    co_await std::move(ref);
    CHECK(n == 42);
  };
  aio::run(main());
}

TEST_CASE("to_thread rethrows the function's exception in the awaiting task", "[to_thread][thread]") {
  auto main = []() -> aio::Task<> {
    CHECK_THROWS_WITH(co_await aio::to_thread([]() -> int { throw std::runtime_error("worker failed"); }),
                      "worker failed");
    CHECK_THROWS_AS(co_await aio::to_thread([] { throw 7; }), int);
  };
  aio::run(main());
}

TEST_CASE("two to_thread calls in a gather run at the same time", "[to_thread][thread]") {
  test::Stopwatch sw;
  auto main = []() -> aio::Task<> {
    auto nap = [] { std::this_thread::sleep_for(200ms); };
    co_await aio::gather(aio::to_thread(nap), aio::to_thread(nap));
  };
  aio::run(main());
  INFO("took " << sw.ms() << " ms");
  CHECK(sw.ms() >= 200.0);
  CHECK(sw.ms() < 350.0);  // not 400: two workers
}

TEST_CASE("the loop keeps running other tasks while a to_thread call blocks", "[to_thread][thread]") {
  int ticks = 0;
  auto ticker = [&]() -> aio::Task<> {
    for (;;) {
      ++ticks;
      co_await aio::sleep(2ms);
    }
  };
  auto main = [&]() -> aio::Task<int> {
    auto t = aio::create_task(ticker());
    const int r = co_await aio::to_thread([] {
      std::this_thread::sleep_for(100ms);
      return 1;
    });
    t.cancel();
    co_return r;
  };
  CHECK(aio::run(main()) == 1);
  CHECK(ticks >= 20);  // ~50 at 2 ms each; generous for a loaded machine
}

TEST_CASE("cancelling a task awaiting to_thread throws CancelledError at once; the call's result is discarded",
          "[to_thread][thread]") {
  // Interleaving: the worker enters the call and is held at the gate; the
  // task is cancelled and ends cancelled while the call still runs; then
  // the gate opens, the worker finishes and hands the job back, and the loop
  // frees the job with its result (on the loop's thread).
  Counted::loop_thread = std::this_thread::get_id();
  Counted::destroyed_off_loop = false;
  Gate gate;
  auto call = [&gate] {
    gate.pass();
    return Counted(5);
  };
  auto waiter = [&]() -> aio::Task<int> {
    Counted c = co_await aio::to_thread(call);
    co_return c.value;
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(waiter());
    while (!gate.entered) co_await aio::sleep(1ms);
    test::Stopwatch sw;
    t.cancel("stop waiting");
    try {
      co_await t;
      FAIL("the task was not cancelled");
    } catch (const aio::CancelledError& e) {
      CHECK(e.message() == "stop waiting");
    }
    CHECK(sw.ms() < 50.0);  // at once, not when the call ends
    CHECK(t.cancelled());
    gate.open = true;
    for (int i = 0; i < 2000 && Counted::alive != 0; ++i) co_await aio::sleep(1ms);
  };
  aio::run(main());
  CHECK(Counted::alive == 0);
  CHECK_FALSE(Counted::destroyed_off_loop);
}

TEST_CASE("a to_thread result that arrived before the cancellation is returned; the cancellation comes next",
          "[to_thread][thread]") {
  // Interleaving, iteration by iteration (ready queues in brackets):
  //   the canceller opens the gate and blocks the loop until the worker has
  //   posted the finished job, then yields: [canceller, job]
  //   N+1: the canceller yields again; the job wakes the waiter: [canceller, waiter]
  //   N+2: the canceller cancels the waiter, whose call already finished: the
  //   waiter gets the result, and CancelledError at its next suspending await.
  aio::EventLoop loop;
  Gate gate;
  int got = 0;
  bool reached_next_await = false;
  auto waiter = [&]() -> aio::Task<> {
    got = co_await aio::to_thread([&gate] {
      gate.pass();
      return 5;
    });
    reached_next_await = true;
    co_await aio::sleep(0ms);
  };
  auto main = [&]() -> aio::Task<> {
    auto w = aio::create_task(waiter());
    while (!gate.entered) co_await aio::sleep(1ms);
    gate.open = true;
    while (!aio::detail::core_of(loop).has_posts()) std::this_thread::yield();
    co_await aio::sleep(0ms);
    co_await aio::sleep(0ms);
    CHECK_FALSE(w.done());
    w.cancel();
    CHECK_THROWS_AS(co_await w, aio::CancelledError);
  };
  loop.run_until_complete(main());
  CHECK(got == 5);
  CHECK(reached_next_await);
}

TEST_CASE("a to_thread call cancelled before a worker picked it up never runs", "[to_thread][thread]") {
  // Every worker (at most 32) is held at the gate by 32 calls, so the next
  // call waits in the pool's queue; cancelling its task withdraws it.
  Gate gate;
  std::atomic<int> entered{0};
  std::atomic<bool> queued_call_ran{false};
  auto main = [&]() -> aio::Task<> {
    std::vector<aio::Task<>> blockers;
    for (int i = 0; i < 32; ++i) {
      blockers.push_back(aio::to_thread([&] {
        ++entered;
        gate.pass();
      }));
    }
    auto all = aio::create_task(gather_all(std::move(blockers)));
    while (entered == 0) co_await aio::sleep(1ms);
    // The pool (at most 32 workers) takes calls first in, first out and every
    // worker blocks at the gate: the next call cannot start before it opens.
    auto queued = aio::create_task(aio::to_thread([&] { queued_call_ran = true; }));
    co_await aio::sleep(0s);  // its first step ran: submitted, and stuck in the queue
    queued.cancel();
    CHECK_THROWS_AS(co_await queued, aio::CancelledError);
    gate.open = true;
    co_await all;
    CHECK(entered == 32);
  };
  aio::run(main());
  CHECK_FALSE(queued_call_ran);
}

TEST_CASE("a task cancelled before its to_thread call was started never calls it", "[to_thread][thread]") {
  bool called = false;
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(aio::to_thread([&called] { called = true; }));
    t.cancel();
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
  };
  aio::run(main());
  CHECK_FALSE(called);
}

TEST_CASE("close() with a to_thread call still running waits for it and discards its result",
          "[to_thread][thread][close]") {
  Counted::loop_thread = std::this_thread::get_id();
  Counted::destroyed_off_loop = false;
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  aio::TaskHandle<Counted> t;
  {
    aio::EventLoop loop;
    t = loop.create_task(aio::to_thread([&] {
      started = true;
      std::this_thread::sleep_for(100ms);
      finished = true;
      return Counted(1);
    }));
    loop.run_until_complete([](std::atomic<bool>& s) -> aio::Task<> {
      while (!s) co_await aio::sleep(1ms);
    }(started));
    CHECK_FALSE(finished);
    test::Stopwatch sw;
    loop.close();
    CHECK(finished);  // joined: no worker outlives the loop
    CHECK(sw.ms() >= 50.0);
    CHECK(t.cancelled());
  }
  CHECK(Counted::alive == 0);
  CHECK_FALSE(Counted::destroyed_off_loop);
}

TEST_CASE("run cancels a task left awaiting to_thread and waits for its call", "[to_thread][thread]") {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  aio::TaskHandle<> left;
  auto main = [&]() -> aio::Task<> {
    left = aio::create_task(aio::to_thread([&] {
      started = true;
      std::this_thread::sleep_for(50ms);
      finished = true;
    }));
    // Running, not just queued: a queued call would be withdrawn, never run.
    while (!started) co_await aio::sleep(1ms);
  };
  aio::run(main());
  CHECK(finished);
  CHECK(left.cancelled());
}

TEST_CASE("many to_thread calls, some calling back into the loop, all complete", "[to_thread][thread]") {
  // A call's call_soon_threadsafe callback is posted before the call hands
  // its job back (same thread, FIFO): it has run when the await returns.
  aio::EventLoop loop;
  int callbacks = 0;  // touched on the loop's thread only
  auto main = [&]() -> aio::Task<long> {
    std::vector<aio::Task<int>> calls;
    for (int i = 0; i < 200; ++i) {
      calls.push_back(aio::to_thread([&loop, &callbacks, i] {
        if (i % 4 == 0) loop.call_soon_threadsafe([&callbacks] { ++callbacks; });
        return i;
      }));
    }
    auto results = co_await aio::gather(std::move(calls));
    CHECK(callbacks == 50);
    long sum = 0;
    for (int r : results) sum += r;
    co_return sum;
  };
  CHECK(loop.run_until_complete(main()) == 199L * 200 / 2);
}
