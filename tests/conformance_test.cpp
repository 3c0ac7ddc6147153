// Seven places where aio differed from asyncio (issue 11), each tried as a
// user would, with the interleaving written out. Expected results are what
// CPython 3.13 gives for the same program.

#include <catch2/catch.hpp>

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("semaphore: a woken waiter that has not run yet is not overtaken by a new acquire", "[conformance][semaphore]") {
  // Semaphore(1); t1 holds it; t2 and t3 wait; the holder releases twice, so
  // both are handed a permit. t2 runs first, appends, releases and at once
  // acquires again: that acquire queues behind t3 (woken, not yet run).
  // asyncio: [1, 2, 3, 4].
  aio::Semaphore sem(1);
  std::vector<int> order;
  auto t2 = [&]() -> aio::Task<> {
    co_await sem.acquire();
    order.push_back(2);
    sem.release();
    CHECK(sem.locked());  // t3 holds a permit it has not taken up yet
    co_await sem.acquire();
    order.push_back(4);
    sem.release();
  };
  auto t3 = [&]() -> aio::Task<> {
    co_await sem.acquire();
    order.push_back(3);
    sem.release();
  };
  auto main = [&]() -> aio::Task<> {
    co_await sem.acquire();
    order.push_back(1);
    auto a = aio::create_task(t2());
    auto b = aio::create_task(t3());
    co_await aio::sleep(0s);  // both wait
    sem.release();
    sem.release();
    co_await aio::gather(a, b);
  };
  aio::run(main());
  CHECK(order == std::vector<int>{1, 2, 3, 4});
  CHECK_FALSE(sem.locked());
}

TEST_CASE("lock and condition: a re-acquire queues behind the waiter the lock was handed to", "[conformance][lock]") {
  // The same shape for Lock (which hands itself over and stays locked) and
  // for Condition's lock: asyncio gives [1, 2, 3, 4] for both.
  aio::Lock lock;
  std::vector<int> order;
  auto t2 = [&]() -> aio::Task<> {
    co_await lock.acquire();
    order.push_back(2);
    lock.release();
    CHECK(lock.locked());
    co_await lock.acquire();
    order.push_back(4);
    lock.release();
  };
  auto t3 = [&]() -> aio::Task<> {
    co_await lock.acquire();
    order.push_back(3);
    lock.release();
  };
  aio::Condition cond;
  std::vector<int> corder;
  auto c2 = [&]() -> aio::Task<> {
    co_await cond.acquire();
    co_await cond.wait();
    corder.push_back(2);
    cond.release();
    co_await cond.acquire();
    corder.push_back(4);
    cond.release();
  };
  auto c3 = [&]() -> aio::Task<> {
    co_await cond.acquire();
    co_await cond.wait();
    corder.push_back(3);
    cond.release();
  };
  auto main = [&]() -> aio::Task<> {
    co_await lock.acquire();
    order.push_back(1);
    auto a = aio::create_task(t2());
    auto b = aio::create_task(t3());
    co_await aio::sleep(0s);
    lock.release();
    co_await aio::gather(a, b);

    auto x = aio::create_task(c2());
    auto y = aio::create_task(c3());
    co_await aio::sleep(0s);  // both wait on the condition
    co_await cond.acquire();
    corder.push_back(1);
    cond.notify_all();
    cond.release();
    co_await aio::gather(x, y);
  };
  aio::run(main());
  CHECK(order == std::vector<int>{1, 2, 3, 4});
  CHECK(corder == std::vector<int>{1, 2, 3, 4});
}

namespace {

aio::Task<std::string> quick() {
  co_await aio::sleep(0s);
  co_return "done";
}

}  // namespace

TEST_CASE("a finished task's result can be read by every awaiter, any number of times", "[conformance][task_handle]") {
  // inner returns "done"; w awaits wait_for(inner, 100s) and is cancelled in
  // the iteration where inner finishes (after inner woke it). w ends
  // cancelled; every later read of inner still gives "done".
  auto main = []() -> aio::Task<> {
    auto inner = aio::create_task(quick());
    auto w = aio::create_task([](aio::TaskHandle<std::string> in) -> aio::Task<std::string> {
      co_return co_await aio::wait_for(in, 100s);
    }(inner));
    auto plain = aio::create_task([](aio::TaskHandle<std::string> in) -> aio::Task<std::string> {
      co_return co_await aio::wait_for(in, 100s);
    }(inner));
    co_await aio::sleep(0s);  // inner yields once; w and plain wait on it
    co_await aio::sleep(0s);  // inner finishes and wakes both
    w.cancel();
    CHECK_THROWS_AS(co_await w, aio::CancelledError);
    {
      const auto got = co_await plain;
      CHECK(got == "done");
    }
    {
      const auto got = co_await inner;
      CHECK(got == "done");
    }
    CHECK(inner.result() == "done");
  };
  aio::run(main());

  aio::EventLoop loop;
  auto h = loop.create_task(quick());
  auto copy = h;
  CHECK(loop.run_until_complete(h) == "done");
  CHECK(loop.run_until_complete(copy) == "done");
  CHECK(h.result() == "done");
}

namespace {

aio::Task<> boom(std::string what) {
  throw std::runtime_error(what);
  co_return;
}

}  // namespace

TEST_CASE("nested task groups keep the outer cancellation (gh-116720)", "[conformance][task_group]") {
  // The outer group's child and the inner group's child fail in the same
  // iteration; the body catches the inner group's error and awaits
  // sleep(1s). asyncio 3.13 cancels that sleep at once and the outer group
  // raises the outer child's error.
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    std::string caught, outer_error;
    bool slept = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& outer) -> aio::Task<> {
        outer.create_task(boom("outer"));
        try {
          co_await aio::task_group([&](aio::TaskGroup& inner) -> aio::Task<> {
            inner.create_task(boom("inner"));
            co_await aio::sleep(10s);
          });
        } catch (const std::runtime_error& e) {
          caught = e.what();
        }
        co_await aio::sleep(1s);
        slept = true;
      });
    } catch (const std::runtime_error& e) {
      outer_error = e.what();
    }
    CHECK(caught == "inner");
    CHECK(outer_error == "outer");
    CHECK_FALSE(slept);
    CHECK(sw.ms() < 500);
  };
  aio::run(main());
}

TEST_CASE("create_task on a task group whose last child finished throws 'TaskGroup is finished'", "[conformance][task_group]") {
  // The group's only child finishes; before the group's parent resumes,
  // another task calls tg.create_task. asyncio raises RuntimeError ("is
  // finished") rather than return with that child still running.
  // (Coroutine lambdas get what they use as parameters: a capturing
  // temporary lambda would be gone before its frame runs.)
  static auto late = [](bool* ran) -> aio::Task<> {
    *ran = true;
    co_return;
  };
  static auto intrude = [](aio::TaskGroup** group, std::string* error, bool* ran) -> aio::Task<> {
    while (*group == nullptr) co_await aio::sleep(0s);
    // Ahead of the group's parent in the ready queue: the child finished in
    // the previous iteration and the parent has not resumed yet.
    try {
      (*group)->create_task(late(ran));
    } catch (const aio::RuntimeError& e) {
      *error = e.what();
    }
  };
  static auto only_child = [](aio::TaskGroup** group, aio::TaskGroup* tg) -> aio::Task<> {
    *group = tg;  // the intruder ran before this child: it sees it next iteration
    co_return;
  };
  auto main = []() -> aio::Task<> {
    aio::TaskGroup* group = nullptr;
    std::string error;
    bool late_ran = false;
    auto intruder = aio::create_task(intrude(&group, &error, &late_ran));
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      tg.create_task(only_child(&group, &tg));
      co_return;
    });
    co_await intruder;
    CHECK(error == "TaskGroup is finished");
    CHECK_FALSE(late_ran);
  };
  aio::run(main());
}

TEST_CASE("create_task on a group still waiting for children is accepted and awaited", "[conformance][task_group]") {
  auto main = []() -> aio::Task<> {
    bool late_done = false;
    static auto late = [](bool* done) -> aio::Task<> {
      co_await aio::sleep(1ms);
      *done = true;
    };
    static auto first = [](aio::TaskGroup* tg, bool* done) -> aio::Task<> {
      co_await aio::sleep(0s);
      // The body has ended: the group is exiting, but this child still runs.
      tg->create_task(late(done));
    };
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      tg.create_task(first(&tg, &late_done));
      co_return;
    });
    CHECK(late_done);
  };
  aio::run(main());
}

namespace {

aio::Task<std::size_t> read_one(int fd) {
  std::byte b[1];
  co_return co_await aio::read(fd, b);
}

}  // namespace

TEST_CASE("cancel then uncancel during aio::read ends it with CancelledError, not ECANCELED", "[conformance][fd][cancel]") {
  // The reader waits on an empty pipe; it is cancelled, and the request is
  // withdrawn (uncancel) before it resumed. The read was cancelled in the
  // kernel all the same: like a semaphore waiter, the await throws
  // CancelledError, which `catch (const std::exception&)` does not swallow.
  test::Pipe p;
  auto main = [&]() -> aio::Task<> {
    std::string seen, sem_seen;
    static auto read_task = [](int fd, std::string* out) -> aio::Task<> {
      try {
        co_await read_one(fd);
        *out = "value";
      } catch (const std::exception& e) {
        *out = std::string("std::exception ") + e.what();
      } catch (const aio::CancelledError&) {
        *out = "cancelled";
      }
    };
    static auto sem_task = [](aio::Semaphore* sem, std::string* out) -> aio::Task<> {
      try {
        co_await sem->acquire();
        *out = "value";
      } catch (const std::exception&) {
        *out = "std::exception";
      } catch (const aio::CancelledError&) {
        *out = "cancelled";
      }
    };
    aio::Semaphore sem(0);
    auto reader = aio::create_task(read_task(p.r, &seen));
    auto waiter = aio::create_task(sem_task(&sem, &sem_seen));
    co_await aio::sleep(2ms);  // the read is in the kernel, the waiter parked
    reader.cancel();
    reader.uncancel();
    waiter.cancel();
    waiter.uncancel();
    co_await reader;
    co_await waiter;
    CHECK(seen == "cancelled");
    CHECK(sem_seen == "cancelled");
  };
  aio::run(main());
  CHECK(p.drain() == 0);
}

TEST_CASE("gather() with no arguments yields an empty tuple, an empty vector an empty vector", "[conformance][gather]") {
  auto main = []() -> aio::Task<> {
    auto none = co_await aio::gather();
    static_assert(std::is_same_v<decltype(none), std::tuple<>>);
    auto none_settled = co_await aio::gather_settled();
    static_assert(std::is_same_v<decltype(none_settled), std::tuple<>>);
    std::vector<aio::Task<int>> tasks;
    auto empty = co_await aio::gather(std::move(tasks));
    CHECK(empty.empty());
    std::vector<aio::TaskHandle<int>> handles;
    auto empty2 = co_await aio::gather(handles);
    CHECK(empty2.empty());
  };
  aio::run(main());
}
