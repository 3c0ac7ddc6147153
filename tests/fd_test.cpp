// aio::read / write / poll: one io_uring operation each; cancellation of a
// pending operation with IORING_OP_ASYNC_CANCEL.

#include <catch2/catch.hpp>

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

aio::Task<std::size_t> read_one(int fd) {
  std::byte b[1];
  co_return co_await aio::read(fd, b);
}

}  // namespace

TEST_CASE("write then read through a pipe returns the byte counts and the data", "[fd]") {
  test::Pipe p;
  auto main = [&]() -> aio::Task<std::string> {
    const std::string msg = "hello";
    const std::size_t written = co_await aio::write(p.w, bytes(msg));
    CHECK(written == 5);
    std::byte buf[16];
    const std::size_t n = co_await aio::read(p.r, buf);
    co_return std::string(reinterpret_cast<const char*>(buf), n);
  };
  CHECK(aio::run(main()) == "hello");
}

TEST_CASE("read returns 0 at end of file", "[fd]") {
  test::Pipe p;
  ::close(p.w);
  p.w = -1;
  CHECK(aio::run(read_one(p.r)) == 0);
}

TEST_CASE("a failing operation throws std::system_error with the errno", "[fd]") {
  auto main = []() -> aio::Task<> {
    std::byte b[1];
    try {
      co_await aio::read(-1, b);
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EBADF);
    }
  };
  aio::run(main());
}

TEST_CASE("poll waits until the descriptor is ready and returns revents", "[fd]") {
  test::Pipe p;
  auto main = [&]() -> aio::Task<short> {
    auto waiter = aio::create_task([](int fd) -> aio::Task<short> { co_return co_await aio::poll(fd, POLLIN); }(p.r));
    co_await aio::sleep(2ms);
    CHECK_FALSE(waiter.done());
    p.put();
    co_return co_await waiter;
  };
  CHECK((aio::run(main()) & POLLIN) != 0);
}

TEST_CASE("cancelling a pending read resumes the task with CancelledError", "[fd][cancel]") {
  test::Pipe p;
  auto main = [&]() -> aio::Task<> {
    auto reader = aio::create_task(read_one(p.r));
    co_await aio::sleep(2ms);  // the read is in the kernel, waiting on an empty pipe
    test::Stopwatch sw;
    CHECK(reader.cancel());
    CHECK_THROWS_AS(co_await reader, aio::CancelledError);
    CHECK(reader.cancelled());
    CHECK(sw.ms() < 1000);
  };
  aio::run(main());
  CHECK(p.drain() == 0);
}

TEST_CASE("start-then-cancel of a pending pipe read: each read ends exactly once", "[fd][cancel][race]") {
  // 20,000 rounds. In each, a reader task's 1-byte read is started and
  // cancelled, sometimes before its SQE reached the kernel, sometimes while
  // it waits, sometimes racing a write that makes it complete. Each read
  // must end exactly once: either it completed (the task got the byte, the
  // pipe is empty) or it was cancelled (CancelledError, and a byte written
  // in that round is still in the pipe). Never both, never neither.
  test::Pipe p;
  int completed = 0, cancelled = 0;
  auto main = [&]() -> aio::Task<> {
    for (int round = 0; round < 20'000; ++round) {
      int got = -1;
      auto reader = aio::create_task([](int fd, int& out) -> aio::Task<> {
        std::byte b[1];
        out = static_cast<int>(co_await aio::read(fd, b));
      }(p.r, got));
      for (int y = 0; y < round % 3; ++y) co_await aio::sleep(0s);
      const bool wrote = round % 2 == 0;
      if (wrote) p.put();
      reader.cancel();
      bool was_cancelled = false;
      try {
        co_await reader;
      } catch (const aio::CancelledError&) {
        was_cancelled = true;
      }
      const std::size_t left = p.drain();
      if (was_cancelled) {
        ++cancelled;
        // The read may have completed before the cancel reached it, and the
        // cancellation then ends the task at its end: the byte is then gone.
        if (got == 1) {
          CHECK(left == 0);
        } else {
          CHECK(got == -1);
          CHECK(left == (wrote ? 1u : 0u));
        }
      } else {
        ++completed;
        CHECK(got == 1);
        CHECK(left == 0);
      }
    }
  };
  aio::run(main());
  CHECK(completed + cancelled == 20'000);
  CHECK(cancelled > 0);
}

TEST_CASE("100,000 polls completing at once are all delivered", "[fd][scale]") {
  // One write makes all 100,000 polls complete together: far more CQEs than
  // the completion queue holds. The kernel keeps the overflow; all arrive.
  test::Pipe p;
  constexpr int n = 100'000;
  auto main = [&]() -> aio::Task<int> {
    std::vector<aio::Task<short>> polls;
    polls.reserve(n);
    for (int i = 0; i < n; ++i) {
      polls.push_back([](int fd) -> aio::Task<short> { co_return co_await aio::poll(fd, POLLIN); }(p.r));
    }
    auto all = aio::create_task([](std::vector<aio::Task<short>> ps) -> aio::Task<std::vector<short>> {
      co_return co_await aio::gather(std::move(ps));
    }(std::move(polls)));
    co_await aio::sleep(20ms);
    CHECK_FALSE(all.done());
    p.put();
    std::vector<short> revents = co_await all;
    int ready = 0;
    for (short r : revents) ready += (r & POLLIN) != 0;
    co_return ready;
  };
  CHECK(aio::run(main()) == n);
}
