// aio::run_coroutine_threadsafe and aio::ConcurrentFuture: asyncio's
// run_coroutine_threadsafe and its concurrent.futures.Future. Ported from
// CPython 3.13 Lib/test/test_asyncio/test_tasks.py (RunCoroutineThreadsafeTests,
// whose target() runs in run_in_executor: here aio::to_thread), plus a loop
// that runs on its own thread. Every case is [thread]: scripts/test.sh runs
// them under TSan.

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

// A loop running on its own thread until stop(); the EventLoop is created,
// run and closed on that thread (the ring is single-issuer).
class LoopThread {
 public:
  LoopThread() {
    std::promise<aio::EventLoop*> ready;
    auto got = ready.get_future();
    thread_ = std::thread([this, &ready] {
      aio::EventLoop loop;
      auto main = [this]() -> aio::Task<> { co_await stop_.wait(); };
      auto handle = loop.create_task(main());
      ready.set_value(&loop);
      loop.run_until_complete(handle);
      // ~EventLoop closes the loop, which resolves what is still pending.
    });
    loop_ = got.get();
  }
  ~LoopThread() { stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  aio::EventLoop& loop() { return *loop_; }
  /// Ends the loop's main task; the thread then closes the loop. Idempotent.
  void stop() {
    if (!thread_.joinable()) return;
    loop_->call_soon_threadsafe([this] { stop_.set(); });
    thread_.join();
  }

 private:
  aio::Event stop_;  // touched on the loop's thread only
  aio::EventLoop* loop_ = nullptr;
  std::thread thread_;
};

// test_tasks.py's add(): waits 50 ms and returns a + b, or fails, or cancels itself.
aio::Task<int> add(int a, int b, bool fail = false, bool cancel = false) {
  co_await aio::sleep(50ms);
  if (fail) throw std::runtime_error("Fail!");
  if (cancel) {
    aio::current_task().cancel();
    co_await aio::sleep(0ms);
  }
  co_return a + b;
}

}  // namespace

TEST_CASE("run_coroutine_threadsafe: a worker thread's get() returns the task's result (test_run_coroutine_threadsafe)",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  auto main = [&]() -> aio::Task<int> {
    co_return co_await aio::to_thread([&loop] {
      auto fut = aio::run_coroutine_threadsafe(add(1, 2), loop);
      return fut.get();
    });
  };
  CHECK(loop.run_until_complete(main()) == 3);
}

TEST_CASE("run_coroutine_threadsafe: get() rethrows the task's exception, on every call (..._with_exception)",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  auto main = [&]() -> aio::Task<> {
    co_await aio::to_thread([&loop] {
      auto fut = aio::run_coroutine_threadsafe(add(1, 2, /*fail=*/true), loop);
      CHECK_THROWS_WITH(fut.get(), "Fail!");
      CHECK(fut.done());
      CHECK_FALSE(fut.cancelled());
      CHECK_THROWS_AS(fut.get(), std::runtime_error);  // the exception stays there
    });
  };
  loop.run_until_complete(main());
}

TEST_CASE("run_coroutine_threadsafe: wait_for(0) is false while pending; cancel() then cancels the task "
          "(..._with_timeout)",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  std::shared_ptr<aio::ConcurrentFuture<int>> keep;
  auto main = [&]() -> aio::Task<> {
    co_await aio::to_thread([&] {
      auto fut = aio::run_coroutine_threadsafe(add(1, 2), loop);
      keep = std::make_shared<aio::ConcurrentFuture<int>>(fut);
      CHECK_FALSE(fut.wait_for(0ms));
      CHECK_FALSE(fut.done());
      CHECK(fut.cancel());  // target()'s `future.done() or future.cancel()`
      CHECK(fut.done());
      CHECK(fut.cancelled());
      CHECK_FALSE(fut.cancel());  // already done
      CHECK_THROWS_AS(fut.get(), aio::CancelledError);
    });
    // run_briefly: the cancel reaches the task at the next iteration; the task ends then.
    co_await aio::sleep(0ms);
    co_await aio::sleep(0ms);
    int unfinished = 0;  // besides this one: add() has been cancelled
    for (const auto& t : aio::all_tasks()) unfinished += t.done() ? 0 : 1;
    CHECK(unfinished == 1);
  };
  loop.run_until_complete(main());
  CHECK(keep->cancelled());
}

TEST_CASE("run_coroutine_threadsafe: a task that cancels itself makes get() throw CancelledError "
          "(..._task_cancelled)",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  auto main = [&]() -> aio::Task<> {
    co_await aio::to_thread([&loop] {
      auto fut = aio::run_coroutine_threadsafe(add(1, 2, false, /*cancel=*/true), loop);
      CHECK_THROWS_AS(fut.get(), aio::CancelledError);
      CHECK(fut.cancelled());
    });
  };
  loop.run_until_complete(main());
}

TEST_CASE("ConcurrentFuture on a loop thread: get() from the submitting thread, wait_for before and after, done()",
          "[concurrent_future][thread]") {
  LoopThread lt;
  std::atomic<bool> release{false};
  auto slow = [&release]() -> aio::Task<std::string> {
    while (!release.load()) co_await aio::sleep(1ms);
    co_return "done";
  };
  auto fut = aio::run_coroutine_threadsafe(slow, lt.loop());
  CHECK_FALSE(fut.done());
  CHECK_FALSE(fut.wait_for(20ms));  // the task cannot finish before release
  CHECK_FALSE(fut.done());
  release = true;
  CHECK(fut.wait_for(10s));
  CHECK(fut.done());
  CHECK_FALSE(fut.cancelled());
  CHECK(fut.get() == "done");
  CHECK(fut.get() == "done");  // a copyable result is read any number of times
  auto copy = fut;
  CHECK(copy.get() == "done");
  CHECK(fut.wait_for(0ms));
  CHECK_FALSE(fut.cancel());
}

TEST_CASE("ConcurrentFuture: a move-only result is moved out by the first get(); the second throws",
          "[concurrent_future][thread]") {
  LoopThread lt;
  auto make = []() -> aio::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  auto fut = aio::run_coroutine_threadsafe(make, lt.loop());
  auto p = fut.get();
  REQUIRE(p != nullptr);
  CHECK(*p == 7);
  CHECK_THROWS_AS(fut.get(), aio::InvalidStateError);
}

TEST_CASE("ConcurrentFuture.cancel() from another thread cancels the task on its loop: its cleanup runs there",
          "[concurrent_future][thread]") {
  LoopThread lt;
  std::atomic<bool> started{false};
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> on_loop_thread{false};
  std::thread::id loop_thread;
  std::promise<void> cleaned;
  auto long_task = [&]() -> aio::Task<int> {
    loop_thread = std::this_thread::get_id();
    started = true;
    try {
      co_await aio::sleep(1h);
    } catch (const aio::CancelledError&) {
      saw_cancel = true;
      on_loop_thread = std::this_thread::get_id() == loop_thread;
      cleaned.set_value();
      throw;
    }
    co_return 1;
  };
  auto fut = aio::run_coroutine_threadsafe(long_task, lt.loop());
  while (!started.load()) std::this_thread::yield();
  CHECK(fut.cancel());
  CHECK(fut.cancelled());
  CHECK_THROWS_AS(fut.get(), aio::CancelledError);
  REQUIRE(cleaned.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(saw_cancel);
  CHECK(on_loop_thread);
}

TEST_CASE("ConcurrentFuture.cancel() before the loop ran the submission: the task never starts",
          "[concurrent_future][thread]") {
  // The loop is blocked in a callback while the submission and the cancel are posted.
  LoopThread lt;
  std::promise<void> blocked;
  std::promise<void> unblock;
  auto unblock_f = unblock.get_future().share();
  lt.loop().call_soon_threadsafe([&blocked, unblock_f] {
    blocked.set_value();
    unblock_f.wait();
  });
  blocked.get_future().wait();
  std::atomic<bool> ran{false};
  auto body = [&ran]() -> aio::Task<int> {
    ran = true;
    co_return 1;
  };
  auto fut = aio::run_coroutine_threadsafe(body, lt.loop());
  CHECK(fut.cancel());
  unblock.set_value();
  // The loop runs both posted callbacks in order, then the stop: the body would have run by then.
  lt.stop();
  CHECK_FALSE(ran);
  CHECK_THROWS_AS(fut.get(), aio::CancelledError);
}

TEST_CASE("ConcurrentFuture: the loop closing with the task pending resolves it cancelled; get() does not hang",
          "[concurrent_future][thread]") {
  // asyncio's future would stay pending for ever when the loop closes under
  // a suspended task (only asyncio.run cancels its tasks first); aio's close()
  // resolves every pending future cancelled, so a waiting thread returns.
  auto lt = std::make_unique<LoopThread>();
  std::atomic<bool> started{false};
  auto forever = [&started]() -> aio::Task<int> {
    started = true;
    co_await aio::sleep(1h);
    co_return 1;
  };
  auto fut = aio::run_coroutine_threadsafe(forever, lt->loop());
  while (!started.load()) std::this_thread::yield();
  std::thread waiter([fut]() mutable { CHECK_THROWS_AS(fut.get(), aio::CancelledError); });
  lt.reset();  // stops the main task; the EventLoop's destructor closes the loop with `forever` suspended
  waiter.join();
  CHECK(fut.done());
  CHECK(fut.cancelled());
}

TEST_CASE("ConcurrentFuture: Runner.close cancels a pending submitted task, its cleanup runs, the future ends "
          "cancelled",
          "[concurrent_future][thread]") {
  std::promise<aio::ConcurrentFuture<int>> submitted;
  std::atomic<bool> cleaned{false};
  std::thread loop_thread([&] {
    aio::Runner runner;
    auto forever = [&cleaned]() -> aio::Task<int> {
      try {
        co_await aio::sleep(1h);
      } catch (const aio::CancelledError&) {
        cleaned = true;
        throw;
      }
      co_return 1;
    };
    auto fut = aio::run_coroutine_threadsafe(forever, runner.get_loop());
    runner.run([]() -> aio::Task<> { co_await aio::sleep(0ms); co_await aio::sleep(0ms); }());
    submitted.set_value(fut);
    runner.close();
  });
  auto fut = submitted.get_future().get();
  loop_thread.join();
  CHECK(cleaned);
  CHECK(fut.cancelled());
  CHECK_THROWS_AS(fut.get(), aio::CancelledError);
}

TEST_CASE("run_coroutine_threadsafe to a closed loop throws RuntimeError and never runs the task",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  loop.close();
  bool ran = false;
  auto body = [&ran]() -> aio::Task<int> {
    ran = true;
    co_return 1;
  };
  std::thread other([&] {
    CHECK_THROWS_AS(aio::run_coroutine_threadsafe(body, loop), aio::RuntimeError);
    CHECK_THROWS_WITH(aio::run_coroutine_threadsafe(body, loop), Catch::Contains("closed"));
  });
  other.join();
  CHECK_FALSE(ran);
}

TEST_CASE("ConcurrentFuture.get() on the loop's own thread while pending throws RuntimeError instead of hanging",
          "[concurrent_future][thread]") {
  aio::EventLoop loop;
  auto main = [&]() -> aio::Task<> {
    auto fut = aio::run_coroutine_threadsafe(add(1, 2), loop);
    CHECK_THROWS_AS(fut.get(), aio::RuntimeError);
    while (!fut.done()) co_await aio::sleep(5ms);
    CHECK(fut.get() == 3);  // done: reading it on the loop's thread is fine
  };
  loop.run_until_complete(main());
}

TEST_CASE("run_coroutine_threadsafe from many threads at once: every future gets its own task's result",
          "[concurrent_future][thread]") {
  constexpr int kThreads = 8;
  constexpr int kEach = 200;
  LoopThread lt;
  std::atomic<bool> go{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      std::vector<aio::ConcurrentFuture<int>> futs;
      for (int i = 0; i < kEach; ++i) {
        const int v = t * kEach + i;
        futs.push_back(aio::run_coroutine_threadsafe(
            [v]() -> aio::Task<int> {
              if (v % 3 == 0) co_await aio::sleep(0ms);
              co_return v * 2;
            },
            lt.loop()));
        if (i % 7 == 0) futs.back().cancel();  // some cancels race the task's end
      }
      for (int i = 0; i < kEach; ++i) {
        const int v = t * kEach + i;
        try {
          if (futs[static_cast<std::size_t>(i)].get() != v * 2) ++wrong;
        } catch (const aio::CancelledError&) {
          if (i % 7 != 0) ++wrong;
        }
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}
