// aio::task_group / TaskGroup: asyncio.TaskGroup.

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::Task<int> fail_after(std::chrono::milliseconds d, std::string what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}

/// A later wait_for still times out normally: no stray cancellation is left
/// on the calling task.
aio::Task<std::string> still_times_out() {
  try {
    co_await aio::wait_for(aio::sleep(10s), 2ms);
  } catch (const aio::TimeoutError&) {
    co_return "timed out";
  }
  co_return "no timeout";
}

/// The what() of each exception in the group, in order.
std::vector<std::string> whats_of(const aio::ExceptionGroup& eg) {
  std::vector<std::string> whats;
  for (auto& e : eg.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      whats.push_back(ex.what());
    }
  }
  return whats;
}

}  // namespace

TEST_CASE("a task group runs its children concurrently and waits for all of them", "[task_group]") {
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    aio::TaskHandle<int> a, b;
    const int r = co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<int> {
      a = tg.create_task(after(20ms, 1));
      b = tg.create_task(after(10ms, 2));
      co_return 5;
    });
    CHECK(r == 5);
    CHECK(a.done());
    CHECK(b.done());
    CHECK(a.result() + b.result() == 3);
    CHECK(sw.ms() >= 20);
    CHECK(sw.ms() < 40);
  };
  aio::run(main());
}

TEST_CASE("the first child failure cancels its siblings and the body, and is rethrown", "[task_group]") {
  std::vector<std::string> log;
  auto sibling = [&]() -> aio::Task<int> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      log.push_back("sibling cancelled");
      throw;
    }
    co_return 0;
  };
  auto main = [&]() -> aio::Task<> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(sibling());
        tg.create_task(fail_after(2ms, "child failed"));
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
          log.push_back("body cancelled");
          throw;
        }
      });
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      log.push_back(e.what());
    }
  };
  test::Stopwatch sw;
  aio::run(main());
  CHECK(sw.ms() < 1000);
  REQUIRE(log.size() == 3);
  CHECK(log.back() == "child failed");
  CHECK(std::count(log.begin(), log.end(), "sibling cancelled") == 1);
  CHECK(std::count(log.begin(), log.end(), "body cancelled") == 1);
}

TEST_CASE("several failures are rethrown together as an ExceptionGroup without CancelledErrors", "[task_group]") {
  // "a" fails; the group cancels its siblings; "b" fails while handling its
  // cancellation; "c" ends cancelled and is not part of the errors.
  auto fails_on_cancel = []() -> aio::Task<int> {
    try {
      co_await aio::sleep(10s);
    } catch (const aio::CancelledError&) {
      throw std::runtime_error("b");
    }
    co_return 0;
  };
  auto main = [&]() -> aio::Task<> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(1ms, "a"));
        tg.create_task(fails_on_cancel());
        tg.create_task(after(10s, 0));
        co_return;
      });
      FAIL("no exception");
    } catch (const aio::ExceptionGroup& eg) {
      const std::vector<std::string> whats = whats_of(eg);
      REQUIRE(whats.size() == 2);
      CHECK(whats[0] == "a");
      CHECK(whats[1] == "b");
    }
  };
  aio::run(main());
}

TEST_CASE("children failing in the same iteration are all reported, as asyncio does", "[task_group]") {
  // asyncio handles a child's end in a callback of the next iteration, so a
  // sibling that is already ready runs (and fails) before the group aborts:
  // both at their first step, and both after a 1 ms sleep.
  auto fails_now = [](std::string what) -> aio::Task<> {
    throw std::runtime_error(what);
    co_return;
  };
  auto main = [&]() -> aio::Task<> {
    std::vector<std::string> first, second;
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fails_now("a"));
        tg.create_task(fails_now("b"));
        tg.create_task(after(10s, 0));
        co_return;
      });
    } catch (const aio::ExceptionGroup& eg) {
      first = whats_of(eg);
    }
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(1ms, "c"));
        tg.create_task(fail_after(1ms, "d"));
        tg.create_task(after(10s, 0));
        co_await aio::sleep(10s);
      });
    } catch (const aio::ExceptionGroup& eg) {
      second = whats_of(eg);
    }
    CHECK(first == std::vector<std::string>{"a", "b"});
    CHECK(second == std::vector<std::string>{"c", "d"});
  };
  aio::run(main());
}

TEST_CASE("an exception in the body cancels the children and is rethrown", "[task_group]") {
  aio::TaskHandle<int> child;
  auto main = [&]() -> aio::Task<> {
    CHECK_THROWS_WITH(co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
                        child = tg.create_task(after(10s, 0));
                        co_await aio::sleep(1ms);
                        throw std::logic_error("body failed");
                      }),
                      "body failed");
    CHECK(child.cancelled());
  };
  aio::run(main());
}

TEST_CASE("cancelling the task awaiting a group cancels every child", "[task_group][cancel]") {
  std::vector<aio::TaskHandle<int>> children;
  auto group = [&]() -> aio::Task<> {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      for (int i = 0; i < 3; ++i) children.push_back(tg.create_task(after(10s, i)));
      co_return;  // the group now waits for the children
    });
  };
  auto main = [&]() -> aio::Task<> {
    auto g = aio::create_task(group());
    co_await aio::sleep(2ms);
    g.cancel();
    CHECK_THROWS_AS(co_await g, aio::CancelledError);
    REQUIRE(children.size() == 3);
    for (auto& c : children) CHECK(c.cancelled());
  };
  aio::run(main());
}

TEST_CASE("after a child failure the awaiting task keeps no leftover cancellation", "[task_group][cancel]") {
  auto main = []() -> aio::Task<std::string> {
    try {
      co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(1ms, "x"));
        co_await aio::sleep(10s);
      });
    } catch (const std::runtime_error&) {
    }
    CHECK(aio::detail::current_task().cancelling() == 0);
    co_return co_await still_times_out();
  };
  CHECK(aio::run(main()) == "timed out");
}

TEST_CASE("a child failing while the group waits at its end leaves no cancellation behind", "[task_group][cancel]") {
  auto main = []() -> aio::Task<std::string> {
    try {
      co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(2ms, "late"));
        tg.create_task(after(10s, 0));
        co_return;  // the failure arrives while __aexit__ waits
      });
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "late");
    }
    co_return co_await still_times_out();
  };
  CHECK(aio::run(main()) == "timed out");
}

TEST_CASE("nested task groups propagate failures outward and cancel inner children", "[task_group]") {
  aio::TaskHandle<int> inner_child;
  auto main = [&]() -> aio::Task<> {
    CHECK_THROWS_WITH(co_await aio::task_group([&](aio::TaskGroup& outer) -> aio::Task<> {
                        outer.create_task(fail_after(2ms, "outer child"));
                        co_await aio::task_group([&](aio::TaskGroup& inner) -> aio::Task<> {
                          inner_child = inner.create_task(after(10s, 1));
                          co_return;
                        });
                      }),
                      "outer child");
    CHECK(inner_child.cancelled());
  };
  aio::run(main());
}

TEST_CASE("a group refuses new children once it is shutting down", "[task_group]") {
  auto main = []() -> aio::Task<> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(1ms, "f"));
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
        }
        CHECK_THROWS_AS(tg.create_task(after(1ms, 0)), aio::RuntimeError);
      });
    } catch (const std::runtime_error&) {
    }
  };
  aio::run(main());
}

TEST_CASE("a finished child whose handle was dropped is safe when a sibling fails later", "[task_group]") {
  // The group keeps its own reference on every child: the abort caused by
  // the later failure looks at the finished child's state.
  auto quick = []() -> aio::Task<> { co_return; };
  auto fail_later = []() -> aio::Task<> {
    co_await aio::sleep(2ms);
    throw std::runtime_error("child failed");
  };
  auto main = [&]() -> aio::Task<std::string> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(quick());
        tg.create_task(fail_later());
        co_await aio::sleep(10s);
      });
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "";
  };
  CHECK(aio::run(main()) == "child failed");
}

TEST_CASE("a body awaiting the child that fails is cancelled, and the failure is reported once", "[task_group][cancel]") {
  // The child's end tells the group first, which cancels the body; the body's
  // await of that child must then throw CancelledError (asyncio), so that the
  // group raises the child's error alone, not an ExceptionGroup of it twice.
  auto fail_soon = []() -> aio::Task<> {
    co_await aio::sleep(1ms);
    throw std::runtime_error("child failed");
  };
  bool body_cancelled = false;
  auto main = [&]() -> aio::Task<std::string> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        auto h = tg.create_task(fail_soon());
        try {
          co_await h;
        } catch (const aio::CancelledError&) {
          body_cancelled = true;
          throw;
        }
      });
    } catch (const aio::ExceptionGroup&) {
      co_return "ExceptionGroup";
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "";
  };
  CHECK(aio::run(main()) == "child failed");
  CHECK(body_cancelled);
}
