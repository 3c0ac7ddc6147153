// EventLoop::close with work pending: every kernel operation is cancelled and
// reaped before any task frame is freed (run under ASan to prove no
// completion touches freed memory).

#include <catch2/catch.hpp>

#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("close with 10,000 pending sleeps and 1,000 pending pipe reads frees everything safely", "[close]") {
  std::vector<test::Pipe> pipes(10);
  std::vector<aio::TaskHandle<>> handles;
  int cleaned_up = 0;
  {
    aio::EventLoop loop;
    auto main = [&]() -> aio::Task<> {
      for (int i = 0; i < 10'000; ++i) {
        handles.push_back(aio::create_task([](int& c) -> aio::Task<> {
          struct Cleanup {
            int& c;
            ~Cleanup() { ++c; }
          } cleanup{c};
          co_await aio::sleep(10s);
        }(cleaned_up)));
      }
      for (int i = 0; i < 1'000; ++i) {
        handles.push_back(aio::create_task([](int fd) -> aio::Task<> {
          std::byte buf[64];
          co_await aio::read(fd, buf);
        }(pipes[static_cast<std::size_t>(i) % pipes.size()].r)));
      }
      co_await aio::sleep(5ms);  // all of them are parked; the reads are in the kernel
    };
    loop.run_until_complete(main());
    loop.close();
    for (auto& h : handles) CHECK(h.cancelled());
    // Data written after close is no longer consumed by anyone.
    pipes[0].put();
    CHECK(pipes[0].drain() == 1);
  }
  CHECK(cleaned_up == 10'000);
  for (auto& h : handles) CHECK(h.done());
}

TEST_CASE("a loop destroyed without close closes itself with reads pending", "[close]") {
  test::Pipe p;
  aio::TaskHandle<std::size_t> reader;
  {
    aio::EventLoop loop;
    reader = loop.create_task([](int fd) -> aio::Task<std::size_t> {
      std::byte b[1];
      co_return co_await aio::read(fd, b);
    }(p.r));
    loop.run_until_complete([]() -> aio::Task<> { co_await aio::sleep(2ms); }());
  }
  CHECK(reader.cancelled());
  CHECK_THROWS_AS(reader.result(), aio::CancelledError);
}

TEST_CASE("tasks created but never run are destroyed by close without running", "[close]") {
  bool ran = false;
  aio::TaskHandle<> t;
  {
    aio::EventLoop loop;
    t = loop.create_task([](bool& r) -> aio::Task<> {
      r = true;
      co_return;
    }(ran));
  }
  CHECK_FALSE(ran);
  CHECK(t.cancelled());
}

TEST_CASE("close survives a frame's destructor waking a task that is closed later", "[close]") {
  // Closing destroys A's frame; its guard sets the event, which schedules B
  // (no handle kept). B must still exist when the ready queue is dropped.
  aio::Event ev;  // outlives the loop
  struct SetOnExit {
    aio::Event& ev;
    ~SetOnExit() { ev.set(); }
  };
  int b_started = 0;
  {
    aio::EventLoop loop;
    auto main = [&]() -> aio::Task<> {
      aio::create_task([](aio::Event& e) -> aio::Task<> {
        SetOnExit guard{e};
        co_await aio::sleep(1h);
      }(ev));
      aio::create_task([](aio::Event& e, int& started) -> aio::Task<> {
        ++started;
        co_await e.wait();
      }(ev, b_started));
      co_await aio::sleep(1ms);
    };
    loop.run_until_complete(main());
  }
  CHECK(b_started == 1);
  CHECK(ev.is_set());
}
