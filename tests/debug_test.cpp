// Debug mode (loop.set_debug / AIO_DEBUG=1): asyncio's slow-callback and
// "Task exception was never retrieved" reports, checked on captured stderr.

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<> hog(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);  // holds the loop, as a blocking call would
  co_return;
}

aio::Task<int> boom() {
  co_await aio::sleep(0ms);
  throw std::runtime_error("boom");
}

aio::Task<> yield_a_few() {
  for (int i = 0; i < 3; ++i) co_await aio::sleep(0ms);
}

/// Restores an environment variable when the test ends.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old, had_ = true;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvVar() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("debug mode reports a task step that holds the loop too long, with its name and time", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  loop.set_slow_callback_duration(20ms);
  test::StderrCapture err;
  loop.run_until_complete(loop.create_task(hog(50ms), "slowpoke"));
  const std::string text = err.text();
  INFO(text);
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex(R"(Executing <Task name=slowpoke> took (\d+\.\d{3}) seconds\n)")));
  const double seconds = std::stod(m[1].str());
  CHECK(seconds >= 0.050);
  CHECK(seconds < 1.0);
}

TEST_CASE("set_slow_callback_duration sets the threshold of the slow-step report", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  CHECK(loop.slow_callback_duration() == 100ms);  // asyncio's default
  SECTION("a step shorter than the threshold is not reported") {
    loop.set_slow_callback_duration(500ms);
    test::StderrCapture err;
    loop.run_until_complete(loop.create_task(hog(30ms), "quick"));
    CHECK(err.text().empty());
  }
  SECTION("a step longer than a lowered threshold is") {
    loop.set_slow_callback_duration(10ms);
    test::StderrCapture err;
    loop.run_until_complete(loop.create_task(hog(30ms), "slow"));
    CHECK_THAT(err.text(), Catch::Contains("Executing <Task name=slow> took 0.0"));
  }
  SECTION("steps of a task that is quick each time are not reported, however long the task") {
    loop.set_slow_callback_duration(20ms);
    test::StderrCapture err;
    loop.run_until_complete(loop.create_task(
        []() -> aio::Task<> {
          for (int i = 0; i < 5; ++i) co_await aio::sleep(10ms);
        }(),
        "patient"));
    CHECK(err.text().empty());
  }
}

TEST_CASE("a slow call_soon callback is reported in debug mode", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  loop.set_slow_callback_duration(10ms);
  test::StderrCapture err;
  auto main = [&]() -> aio::Task<> {
    aio::get_running_loop().call_soon([] { std::this_thread::sleep_for(30ms); });
    co_await aio::sleep(1ms);
  };
  loop.run_until_complete(main());
  const std::string text = err.text();
  INFO(text);
  CHECK(std::regex_search(text, std::regex(R"(Executing <Handle> took 0\.0\d\d seconds\n)")));
}

TEST_CASE("without debug mode a slow step is not reported, a task exception never retrieved is", "[debug]") {
  EnvVar env("AIO_DEBUG", nullptr);
  aio::EventLoop loop;
  CHECK_FALSE(loop.get_debug());
  loop.set_slow_callback_duration(1ms);
  test::StderrCapture err;
  loop.run_until_complete(loop.create_task(hog(20ms), "slow"));
  {
    auto t = loop.create_task(boom(), "failing");
    loop.run_until_complete(yield_a_few());
    CHECK(t.done());
  }  // the last reference goes: the exception was never retrieved (asyncio reports it always)
  CHECK(err.text() ==
        "Task exception was never retrieved: <Task finished name=failing exception=std::runtime_error('boom')>\n");
}

TEST_CASE("AIO_DEBUG=1 turns debug mode on for new loops; LoopOptions::debug overrides it", "[debug]") {
  {
    EnvVar env("AIO_DEBUG", "1");
    aio::EventLoop loop;
    CHECK(loop.get_debug());
    aio::LoopOptions off;
    off.debug = false;
    aio::EventLoop quiet(off);
    CHECK_FALSE(quiet.get_debug());
    loop.set_slow_callback_duration(10ms);
    test::StderrCapture err;
    loop.run_until_complete(loop.create_task(hog(20ms), "from-env"));
    CHECK_THAT(err.text(), Catch::Contains("Executing <Task name=from-env> took"));
  }
  {
    EnvVar env("AIO_DEBUG", "0");
    aio::EventLoop loop;
    CHECK_FALSE(loop.get_debug());
  }
}

TEST_CASE("debug mode reports a task exception never retrieved when the task's last reference goes", "[debug]") {
  unsigned created_line = 0;
  aio::EventLoop loop;
  loop.set_debug(true);
  test::StderrCapture err;
  {
    created_line = __LINE__ + 1;
    auto t = loop.create_task(boom(), "careless");
    loop.run_until_complete(yield_a_few());
    REQUIRE(t.done());
    CHECK(err.peek().empty());  // not yet: the handle may still retrieve it
  }
  const std::string text = err.text();
  INFO(text);
  // Debug mode adds where the task was created (asyncio's "created at").
  CHECK(std::regex_match(text, std::regex("Task exception was never retrieved: <Task finished name=careless "
                                          "exception=std::runtime_error\\('boom'\\) created at "
                                          "\\S*debug_test\\.cpp:" + std::to_string(created_line) + ">\n")));
}

TEST_CASE("a task that nobody holds and that fails is reported when it ends", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  test::StderrCapture err;
  auto main = [&]() -> aio::Task<> {
    (void)aio::create_task(boom(), "orphan");  // the handle is dropped at once
    co_await yield_a_few();
  };
  loop.run_until_complete(main());
  CHECK_THAT(err.text(), Catch::Contains("Task exception was never retrieved: <Task finished name=orphan "
                                         "exception=std::runtime_error('boom') created at "));
}

TEST_CASE("a task exception retrieved in any way is not reported", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  test::StderrCapture err;
  auto main = [&]() -> aio::Task<> {
    auto awaited = aio::create_task(boom());
    CHECK_THROWS_AS(co_await awaited, std::runtime_error);
    auto by_result = aio::create_task(boom());
    auto by_exception = aio::create_task(boom());
    co_await yield_a_few();
    CHECK_THROWS_AS(by_result.result(), std::runtime_error);
    CHECK(by_exception.exception() != nullptr);
    // gather retrieves the exception of every child, not only the first
    // (asyncio's gather does the same).
    CHECK_THROWS_AS(co_await aio::gather(boom(), boom()), std::runtime_error);
    auto settled = co_await aio::gather_settled(boom(), boom());
    CHECK_FALSE(std::get<0>(settled).has_value());
    co_await yield_a_few();
  };
  loop.run_until_complete(main());
  CHECK(err.text().empty());
}

TEST_CASE("a task created before debug mode was turned on is reported if it fails afterwards", "[debug]") {
  aio::EventLoop loop;
  test::StderrCapture err;
  {
    auto t = loop.create_task(boom(), "early");
    loop.set_debug(true);
    loop.run_until_complete(yield_a_few());
  }
  CHECK_THAT(err.text(), Catch::Contains("never retrieved: <Task finished name=early"));
}

TEST_CASE("a failing exception that is not a std::exception is reported by its type", "[debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  test::StderrCapture err;
  {
    auto t = loop.create_task([]() -> aio::Task<> {
      co_await aio::sleep(0ms);
      throw 42;
    }(), "odd");
    loop.run_until_complete(yield_a_few());
  }
  CHECK_THAT(err.text(), Catch::StartsWith("Task exception was never retrieved: <Task finished name=odd exception=int "
                                           "created at "));
}

TEST_CASE("in debug mode, call_soon from a thread other than the running loop's throws RuntimeError",
          "[debug][thread]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  bool refused = false;
  bool threadsafe_ran = false;
  auto main = [&]() -> aio::Task<> {
    std::thread([&] {
      try {
        loop.call_soon([] {});
      } catch (const aio::RuntimeError&) {
        refused = true;
      }
      loop.call_soon_threadsafe([&] { threadsafe_ran = true; });
    }).join();
    co_await aio::sleep(1ms);
  };
  loop.run_until_complete(main());
  CHECK(refused);
  CHECK(threadsafe_ran);
}
