// aio::Runner: asyncio.Runner's contract, ported from CPython 3.13
// Lib/test/test_asyncio/test_runners.py (RunnerTests), plus the
// many-runs-on-one-loop behaviour that sets it apart from aio::run.

#include <catch2/catch.hpp>

#include <signal.h>

#include <csignal>
#include <string>
#include <type_traits>
#include <vector>

#include "aio/aio.hpp"
#include "sigint_util.hpp"

using namespace std::chrono_literals;

namespace {

using test::DefaultSigint;
using test::disposition;

aio::Task<std::string> done_after_yield() {
  co_await aio::sleep(0ms);
  co_return "done";
}

}  // namespace

TEST_CASE("Runner: the debug option reaches its loop", "[runner]") {
  {
    aio::Runner runner(aio::LoopOptions{.debug = false});
    CHECK_FALSE(runner.get_loop().get_debug());
  }
  {
    aio::Runner runner(aio::LoopOptions{.debug = true});
    CHECK(runner.get_loop().get_debug());
  }
}

TEST_CASE("Runner.run returns the result; after close get_loop throws 'Runner is closed' and the loop is closed",
          "[runner]") {
  aio::EventLoop* loop = nullptr;
  aio::Runner runner;
  CHECK(runner.run(done_after_yield()) == "done");
  loop = &runner.get_loop();
  CHECK_FALSE(loop->is_closed());
  runner.close();
  CHECK_THROWS_WITH(runner.get_loop(), "Runner is closed");
  CHECK(loop->is_closed());
}

TEST_CASE("Runner.close is idempotent", "[runner]") {
  aio::Runner runner;
  aio::EventLoop& loop = runner.get_loop();
  runner.close();
  CHECK(loop.is_closed());
  runner.close();  // the second call is a no-op
  CHECK(loop.is_closed());
}

TEST_CASE("Runner.run after close throws 'Runner is closed' and never starts the task", "[runner]") {
  std::vector<int> ret;
  auto f = [&](int arg) -> aio::Task<> {
    ret.push_back(arg);
    co_return;
  };
  aio::Runner runner;
  runner.run(f(1));
  runner.close();
  CHECK_THROWS_WITH(runner.run(f(2)), "Runner is closed");
  CHECK(ret == std::vector<int>{1});
}

TEST_CASE("Runner.run from a task of a running loop throws RuntimeError and never starts its task", "[runner]") {
  bool inner_ran = false;
  auto g = [&]() -> aio::Task<> {
    inner_ran = true;
    co_return;
  };
  aio::Runner runner;
  auto f = [&]() -> aio::Task<std::string> {
    try {
      runner.run(g());
    } catch (const aio::RuntimeError& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  CHECK(runner.run(f()) == "Runner.run() cannot be called from a running event loop");
  CHECK_FALSE(inner_ran);
}

TEST_CASE("Runner.run many times on one loop: a task left running by one run goes on in the next", "[runner]") {
  aio::Runner runner;
  std::vector<std::string> log;
  aio::Event go;
  aio::TaskHandle<int> background;
  auto first = [&]() -> aio::Task<> {
    background = aio::create_task([&]() -> aio::Task<int> {
      log.push_back("background started");
      co_await go.wait();
      log.push_back("background resumed");
      co_return 42;
    });
    co_await aio::sleep(0ms);
    log.push_back("first done");
  };
  runner.run(first());
  CHECK_FALSE(background.done());  // run() cancels nothing
  auto second = [&]() -> aio::Task<int> {
    CHECK(&aio::get_running_loop() == &runner.get_loop());
    go.set();
    co_return co_await background;
  };
  CHECK(runner.run(second()) == 42);
  CHECK(log == std::vector<std::string>{"background started", "first done", "background resumed"});
}

TEST_CASE("Runner.close cancels the tasks still running and runs their cleanup; so does the destructor",
          "[runner]") {
  std::vector<std::string> log;
  auto sleeper = [&](std::string name) -> aio::Task<> {
    try {
      co_await aio::sleep(30s);
    } catch (const aio::CancelledError&) {
      log.push_back(name + " cancelled");
      throw;
    }
  };
  aio::TaskHandle<> a;
  aio::TaskHandle<> b;
  {
    aio::Runner explicit_close;
    explicit_close.run([&]() -> aio::Task<> {
      a = aio::create_task(sleeper("a"));
      co_await aio::sleep(0ms);
    }());
    CHECK(log.empty());
    explicit_close.close();
    CHECK(log == std::vector<std::string>{"a cancelled"});
    CHECK(a.cancelled());
  }
  {
    aio::Runner by_destructor;
    by_destructor.run([&]() -> aio::Task<> {
      b = aio::create_task(sleeper("b"));
      co_await aio::sleep(0ms);
    }());
  }
  CHECK(log == std::vector<std::string>{"a cancelled", "b cancelled"});
  CHECK(b.cancelled());
}

TEST_CASE("Runner.close from a task of its own loop throws RuntimeError and the Runner stays usable", "[runner]") {
  aio::Runner runner;
  auto f = [&]() -> aio::Task<bool> {
    try {
      runner.close();
    } catch (const aio::RuntimeError&) {
      co_return true;
    }
    co_return false;
  };
  CHECK(runner.run(f()));
  CHECK(runner.run(done_after_yield()) == "done");
}

TEST_CASE("Runner.run rethrows the task's exception and a cancelled task's CancelledError", "[runner]") {
  aio::Runner runner;
  CHECK_THROWS_AS(runner.run([]() -> aio::Task<int> {
    co_await aio::sleep(0ms);
    throw std::runtime_error("boom");
  }()),
                  std::runtime_error);
  CHECK_THROWS_AS(runner.run([]() -> aio::Task<> {
    aio::current_task().cancel("stop");
    co_await aio::sleep(1s);
  }()),
                  aio::CancelledError);
  CHECK(runner.run(done_after_yield()) == "done");  // the loop goes on after both
}

TEST_CASE("Runner.run: SIGINT while the task only yields cancels it and run throws KeyboardInterrupt",
          "[runner][signals]") {
  // test_interrupt_call_soon: the task is never suspended on a wait, only
  // rescheduled by sleep(0).
  DefaultSigint dfl;
  bool saw_cancel = false;
  auto coro = [&]() -> aio::Task<> {
    try {
      for (;;) co_await aio::sleep(0ms);
    } catch (const aio::CancelledError&) {
      saw_cancel = true;
    }
    throw aio::CancelledError();
  };
  aio::Runner runner;
  runner.get_loop().call_later(100ms, [] { ::raise(SIGINT); });
  CHECK_THROWS_AS(runner.run(coro()), aio::KeyboardInterrupt);
  CHECK(saw_cancel);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("Runner.run: SIGINT while the task awaits another task cancels both", "[runner][signals]") {
  // test_interrupt_wait: interrupting a wait on a future cancels the future
  // and the main task.
  DefaultSigint dfl;
  aio::Runner runner;
  aio::Event never;
  aio::TaskHandle<bool> inner = runner.get_loop().create_task([&]() -> aio::Task<bool> { co_return co_await never.wait(); });
  bool saw_cancel = false;
  auto coro = [&]() -> aio::Task<> {
    try {
      co_await inner;
    } catch (const aio::CancelledError&) {
      saw_cancel = true;
    }
    throw aio::CancelledError();
  };
  runner.get_loop().call_later(100ms, [] { ::raise(SIGINT); });
  CHECK_THROWS_AS(runner.run(coro()), aio::KeyboardInterrupt);
  CHECK(saw_cancel);
  CHECK(inner.cancelled());
}

TEST_CASE("Runner.run installs the Ctrl-C rule again on every run and restores SIG_DFL after each",
          "[runner][signals]") {
  DefaultSigint dfl;
  aio::Runner runner;
  auto interrupted = []() -> aio::Task<> {
    aio::get_running_loop().call_later(10ms, [] { ::raise(SIGINT); });
    co_await aio::sleep(30s);
  };
  CHECK_THROWS_AS(runner.run(interrupted()), aio::KeyboardInterrupt);
  CHECK(disposition(SIGINT) == SIG_DFL);
  auto check_installed = []() -> aio::Task<bool> {
    co_return disposition(SIGINT) != SIG_DFL;
  };
  CHECK(runner.run(check_installed()));
  CHECK(disposition(SIGINT) == SIG_DFL);
  CHECK_THROWS_AS(runner.run(interrupted()), aio::KeyboardInterrupt);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("aio::run is Runner.run then close: its SIGINT rule ends with the main task", "[runner][run][signals]") {
  // The leftover tasks are cancelled with SIG_DFL back in place (asyncio's
  // run() restores default_int_handler before Runner.close).
  DefaultSigint dfl;
  bool restored_during_cleanup = false;
  auto main = [&]() -> aio::Task<> {
    aio::create_task([&]() -> aio::Task<> {
      try {
        co_await aio::sleep(30s);
      } catch (const aio::CancelledError&) {
        restored_during_cleanup = disposition(SIGINT) == SIG_DFL;
        throw;
      }
    });
    co_await aio::sleep(0ms);
  };
  aio::run(main());
  CHECK(restored_during_cleanup);
}
