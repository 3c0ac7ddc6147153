// EventLoop::add_signal_handler / remove_signal_handler with real signals,
// delivered to the loop's thread, another thread and a to_thread worker;
// aio::run's Ctrl-C rule (the first SIGINT cancels main and becomes
// aio::KeyboardInterrupt, the second ends the program as SIGINT does).

#include <catch2/catch.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "aio/aio.hpp"
#include "sigint_util.hpp"

using namespace std::chrono_literals;

namespace {

using test::DefaultSigint;
using test::disposition;

void noop_handler(int) {}

}  // namespace

TEST_CASE("a signal raised on the loop's thread runs its handler on the loop", "[signals]") {
  auto main = []() -> aio::Task<int> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    int calls = 0;
    std::thread::id where;
    loop.add_signal_handler(SIGUSR1, [&] {
      ++calls;
      where = std::this_thread::get_id();
      got.set();
    });
    ::raise(SIGUSR1);
    co_await aio::wait_for(got.wait(), 5s);
    CHECK(where == std::this_thread::get_id());
    CHECK(loop.remove_signal_handler(SIGUSR1));
    co_return calls;
  };
  CHECK(aio::run(main()) == 1);
}

TEST_CASE("a signal sent to another thread of the program reaches the loop", "[signals][thread]") {
  auto main = []() -> aio::Task<> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    std::thread::id where;
    loop.add_signal_handler(SIGUSR2, [&] {
      where = std::this_thread::get_id();
      got.set();
    });
    std::atomic<bool> sent{false};
    std::thread other([&] {
      ::pthread_kill(::pthread_self(), SIGUSR2);  // the kernel runs the handler on this thread
      sent = true;
    });
    co_await aio::wait_for(got.wait(), 5s);
    other.join();
    CHECK(sent);
    CHECK(where == std::this_thread::get_id());
    loop.remove_signal_handler(SIGUSR2);
  };
  aio::run(main());
}

TEST_CASE("a to_thread worker that takes the signal does not take its default action", "[signals][thread]") {
  // SIGTERM's default action would end the test program.
  auto main = []() -> aio::Task<int> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    int calls = 0;
    loop.add_signal_handler(SIGTERM, [&] {
      ++calls;
      got.set();
    });
    co_await aio::to_thread([] { ::pthread_kill(::pthread_self(), SIGTERM); });
    co_await aio::wait_for(got.wait(), 5s);
    loop.remove_signal_handler(SIGTERM);
    co_return calls;
  };
  const auto before = disposition(SIGTERM);  // Catch2's own, while a test runs
  CHECK(aio::run(main()) == 1);
  CHECK(disposition(SIGTERM) == before);
}

TEST_CASE("a signal sent to the process while the loop waits wakes it", "[signals][thread]") {
  auto main = []() -> aio::Task<> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    loop.add_signal_handler(SIGUSR1, [&] { got.set(); });
    std::thread sender([] {
      std::this_thread::sleep_for(50ms);
      ::kill(::getpid(), SIGUSR1);
    });
    const auto t0 = std::chrono::steady_clock::now();
    co_await aio::wait_for(got.wait(), 10s);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    sender.join();
  };
  aio::run(main());
}

TEST_CASE("add_signal_handler refuses SIGKILL, SIGSTOP and invalid numbers with ValueError", "[signals]") {
  aio::EventLoop loop;
  CHECK_THROWS_AS(loop.add_signal_handler(SIGKILL, [] {}), aio::ValueError);
  CHECK_THROWS_AS(loop.add_signal_handler(SIGSTOP, [] {}), aio::ValueError);
  CHECK_THROWS_AS(loop.add_signal_handler(0, [] {}), aio::ValueError);
  CHECK_THROWS_AS(loop.add_signal_handler(-3, [] {}), aio::ValueError);
  CHECK_THROWS_AS(loop.add_signal_handler(100000, [] {}), aio::ValueError);
  CHECK_THROWS_AS(loop.remove_signal_handler(100000), aio::ValueError);
  CHECK_FALSE(loop.remove_signal_handler(SIGUSR1));
}

TEST_CASE("remove_signal_handler and the loop's close restore the disposition replaced", "[signals]") {
  struct sigaction mine {};
  mine.sa_handler = &noop_handler;
  struct sigaction saved {};
  ::sigaction(SIGUSR1, &mine, &saved);
  {
    aio::EventLoop loop;
    loop.add_signal_handler(SIGUSR1, [] {});
    CHECK(disposition(SIGUSR1) != &noop_handler);
    loop.add_signal_handler(SIGUSR1, [] {});  // replaced: still the one disposition to restore
    CHECK(loop.remove_signal_handler(SIGUSR1));
    CHECK(disposition(SIGUSR1) == &noop_handler);
    CHECK_FALSE(loop.remove_signal_handler(SIGUSR1));
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
  }  // closed
  CHECK(disposition(SIGUSR1) == &noop_handler);
  CHECK(disposition(SIGUSR2) == SIG_DFL);
  ::sigaction(SIGUSR1, &saved, nullptr);
}

TEST_CASE("a replaced handler runs instead of the first; another loop cannot take the signal", "[signals]") {
  auto main = []() -> aio::Task<> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    int first = 0;
    int second = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++first; });
    loop.add_signal_handler(SIGUSR1, [&] {
      ++second;
      got.set();
    });
    ::raise(SIGUSR1);
    co_await aio::wait_for(got.wait(), 5s);
    CHECK(first == 0);
    CHECK(second == 1);
    co_await aio::to_thread([] {
      aio::EventLoop other;
      CHECK_THROWS_AS(other.add_signal_handler(SIGUSR1, [] {}), aio::RuntimeError);
    });
    loop.remove_signal_handler(SIGUSR1);
  };
  aio::run(main());
}

TEST_CASE("aio::run: SIGINT cancels main, its cleanup runs, run throws KeyboardInterrupt", "[signals]") {
  DefaultSigint dfl;
  bool cleaned_up = false;
  auto main = [&]() -> aio::Task<int> {
    aio::get_running_loop().call_later(20ms, [] { ::raise(SIGINT); });
    try {
      co_await aio::sleep(30s);
    } catch (const aio::CancelledError&) {
      cleaned_up = true;
      throw;
    }
    co_return 1;
  };
  bool interrupted = false;
  try {
    aio::run(main());
  } catch (const aio::KeyboardInterrupt&) {
    interrupted = true;
  }
  CHECK(interrupted);
  CHECK(cleaned_up);
  CHECK(disposition(SIGINT) == SIG_DFL);
  static_assert(!std::is_base_of_v<std::exception, aio::KeyboardInterrupt>);
}

TEST_CASE("aio::run: SIGINT from another thread wakes a loop blocked with no timer and no I/O", "[signals]") {
  DefaultSigint dfl;
  // The loop waits on nothing but its wake-up eventfd: only the handler's
  // write can end that wait.
  auto main = []() -> aio::Task<> {
    aio::Event never;
    co_await never.wait();
  };
  std::atomic<bool> started{false};
  std::thread killer([&] {
    while (!started.load()) std::this_thread::yield();
    std::this_thread::sleep_for(50ms);  // most likely inside the wait; before it works the same
    ::kill(::getpid(), SIGINT);
  });
  const auto t0 = std::chrono::steady_clock::now();
  bool interrupted = false;
  try {
    started = true;
    aio::run(main());
  } catch (const aio::KeyboardInterrupt&) {
    interrupted = true;
  }
  killer.join();
  CHECK(interrupted);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

// CPython test_runners.py test_interrupt_cancelled_task: a main task that
// was already cancelled and is interrupted too ends with CancelledError,
// not KeyboardInterrupt (two cancellations, one uncancel).
TEST_CASE("Runner.run: SIGINT after main was cancelled raises CancelledError, not KeyboardInterrupt", "[signals][runner]") {
  DefaultSigint dfl;
  auto subtask = [](aio::AnyTaskHandle main) -> aio::Task<> {
    co_await aio::sleep(0s);
    main.cancel();
    ::raise(SIGINT);
  };
  auto coro = [&]() -> aio::Task<> {
    auto sub = aio::create_task(subtask(aio::current_task()));
    co_await aio::sleep(10s);
  };
  aio::Runner runner;
  bool cancelled = false, interrupted = false;
  try {
    runner.run(coro());
  } catch (const aio::CancelledError&) {
    cancelled = true;
  } catch (const aio::KeyboardInterrupt&) {
    interrupted = true;
  }
  CHECK(cancelled);
  CHECK_FALSE(interrupted);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("aio::run: a main that swallows the SIGINT cancellation returns its result", "[signals]") {
  DefaultSigint dfl;
  auto main = []() -> aio::Task<int> {
    aio::get_running_loop().call_later(20ms, [] { ::raise(SIGINT); });
    try {
      co_await aio::sleep(30s);
    } catch (const aio::CancelledError&) {
      co_return 7;
    }
    co_return 1;
  };
  CHECK(aio::run(main()) == 7);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("aio::run: a SIGINT handler the main task adds replaces the Ctrl-C rule; removing it restores SIG_DFL",
          "[signals]") {
  DefaultSigint dfl;
  int handled = 0;
  bool cancelled = false;
  auto main = [&]() -> aio::Task<int> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Event got;
    loop.add_signal_handler(SIGINT, [&] {
      ++handled;
      got.set();
    });
    try {
      loop.call_soon([] { ::raise(SIGINT); });
      co_await aio::wait_for(got.wait(), 10s);
      got.clear();
      loop.call_soon([] { ::raise(SIGINT); });  // not a "second Ctrl-C": the handler runs again
      co_await aio::wait_for(got.wait(), 10s);
      co_await aio::sleep(10ms);  // had the rule cancelled main, this would throw
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    CHECK(loop.remove_signal_handler(SIGINT));
    CHECK(disposition(SIGINT) == SIG_DFL);  // what aio::run found, not the rule
    co_return 5;
  };
  CHECK(aio::run(main()) == 5);  // no KeyboardInterrupt
  CHECK(handled == 2);
  CHECK_FALSE(cancelled);
  CHECK(disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("aio::run leaves a SIGINT handler of the program's alone", "[signals]") {
  struct sigaction mine {};
  mine.sa_handler = &noop_handler;
  struct sigaction saved {};
  ::sigaction(SIGINT, &mine, &saved);
  auto main = []() -> aio::Task<int> {
    ::raise(SIGINT);  // to noop_handler
    co_await aio::sleep(10ms);
    co_return 3;
  };
  CHECK(aio::run(main()) == 3);
  CHECK(disposition(SIGINT) == &noop_handler);
  ::sigaction(SIGINT, &saved, nullptr);
}

TEST_CASE("aio::run: a second SIGINT during the cleanup ends the program as SIGINT does", "[signals]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGINT, &dfl, nullptr);
    auto main = []() -> aio::Task<> {
      aio::get_running_loop().call_later(10ms, [] { ::raise(SIGINT); });
      try {
        co_await aio::sleep(30s);
      } catch (const aio::CancelledError&) {
        ::raise(SIGINT);  // the second Ctrl-C, while cleaning up
        ::_exit(3);
      }
      ::_exit(4);
    };
    try {
      aio::run(main());
    } catch (...) {
    }
    ::_exit(5);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
}
