// What a program that fails prints: a CancelledError that escapes aio::run
// uncaught, and a task's exception that nobody retrieved.

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<> cancelled_main() {
  auto sleeper = aio::create_task(aio::sleep(10s));
  co_await aio::sleep(1ms);
  sleeper.cancel("stop now");
  co_await sleeper;  // rethrows the sleeper's CancelledError
}

struct ChildResult {
  std::string err;
  int status = 0;
};

/// Runs `f` in a child process with stderr captured, as a program's main
/// would: an exception leaving `f` goes to std::terminate with the exception
/// active, as the runtime does for one that nothing catches (a noexcept
/// boundary is not the same: g++ may call std::terminate there directly).
template <class F>
ChildResult in_child(F f) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    try {
      f();
    } catch (...) {
      std::terminate();
    }
    std::_Exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) r.err.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, &r.status, 0);
  return r;
}

}  // namespace

TEST_CASE("a cancelled main task makes aio::run throw CancelledError, as asyncio.run does", "[run][report]") {
  try {
    aio::run(cancelled_main());
    FAIL("aio::run returned");
  } catch (const aio::CancelledError& e) {
    CHECK(e.message() == "stop now");
  }
}

TEST_CASE("a CancelledError escaping aio::run uncaught is named on stderr before the program aborts",
          "[run][report]") {
  const ChildResult r = in_child([] { aio::run(cancelled_main()); });
  INFO(r.err);
  REQUIRE(WIFSIGNALED(r.status));
  CHECK(WTERMSIG(r.status) == SIGABRT);
  CHECK_THAT(r.err, Catch::Contains("aio::run: the main task was cancelled: aio::CancelledError('stop now')"));
}

TEST_CASE("after aio::run threw a CancelledError, other uncaught exceptions keep std::terminate's own report",
          "[run][report]") {
  const ChildResult r = in_child([] {
    try {
      aio::run(cancelled_main());
    } catch (const aio::CancelledError&) {
    }
    throw 42;
  });
  INFO(r.err);
  REQUIRE(WIFSIGNALED(r.status));
  CHECK_THAT(r.err, !Catch::Contains("aio::run"));
  CHECK_THAT(r.err, Catch::Contains("terminate called after throwing an instance of 'int'"));
}

TEST_CASE("a failed task whose exception nobody retrieved is reported without debug mode", "[report]") {
  const ChildResult r = in_child([] {
    auto main = []() -> aio::Task<> {
      (void)aio::create_task([]() -> aio::Task<> {
        co_await aio::sleep(0ms);
        throw std::runtime_error("lost");
      }, "careless");
      co_await aio::sleep(1ms);
    };
    aio::LoopOptions options;
    options.debug = false;
    aio::run(main(), options);
  });
  INFO(r.err);
  REQUIRE(WIFEXITED(r.status));
  CHECK(r.err == "Task exception was never retrieved: <Task finished name=careless "
                 "exception=std::runtime_error('lost')>\n");
}
