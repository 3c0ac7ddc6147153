// aio::Barrier: asyncio.Barrier, with cases of CPython 3.13's test_locks.py
// (BarrierTests).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <set>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<std::size_t> pass(aio::Barrier* b, std::vector<int>* log, int id) {
  log->push_back(id);
  const std::size_t index = co_await b->wait();
  log->push_back(100 + id);
  co_return index;
}

aio::Task<int> wait_or_broken(aio::Barrier* b) {
  try {
    co_await b->wait();
  } catch (const aio::BrokenBarrierError&) {
    co_return 1;
  }
  co_return 0;
}

}  // namespace

TEST_CASE("barrier: no task passes until parties tasks wait; each gets its arrival index", "[barrier]") {
  auto main = []() -> aio::Task<> {
    aio::Barrier b(3);
    CHECK(b.parties() == 3);
    std::vector<int> log;
    std::vector<aio::TaskHandle<std::size_t>> ts;
    for (int i = 0; i < 3; ++i) {
      ts.push_back(aio::create_task(pass(&b, &log, i)));
      co_await aio::sleep(0s);
      if (i < 2) CHECK(b.n_waiting() == static_cast<std::size_t>(i + 1));
    }
    auto idx = co_await aio::gather(ts);
    // every arrival before any departure
    CHECK(std::vector<int>(log.begin(), log.begin() + 3) == std::vector<int>{0, 1, 2});
    CHECK(std::set<std::size_t>(idx.begin(), idx.end()) == std::set<std::size_t>{0, 1, 2});
    CHECK(idx[0] == 0);
    CHECK(idx[2] == 2);
    CHECK(b.n_waiting() == 0);
    CHECK_FALSE(b.broken());
    // reusable: a second round
    std::vector<aio::TaskHandle<std::size_t>> again;
    for (int i = 0; i < 3; ++i) again.push_back(aio::create_task(pass(&b, &log, i)));
    co_await aio::gather(again);
    CHECK(log.size() == 12);
  };
  aio::run(main());
  CHECK_THROWS_AS(aio::Barrier(0), aio::ValueError);
}

TEST_CASE("barrier: a cancelled filling task leaves; the others still need parties", "[barrier][cancel]") {
  // test_filling_tasks_cancel_one
  auto main = []() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<int> log;
    auto t1 = aio::create_task(pass(&b, &log, 1));
    co_await aio::sleep(0s);
    auto t2 = aio::create_task(pass(&b, &log, 2));
    co_await aio::sleep(0s);
    CHECK(b.n_waiting() == 2);
    t1.cancel();
    co_await aio::sleep(0s);
    CHECK(b.n_waiting() == 1);
    CHECK_THROWS_AS(co_await t1, aio::CancelledError);
    auto t3 = aio::create_task(pass(&b, &log, 3));
    co_await aio::sleep(0s);
    CHECK(b.n_waiting() == 2);
    auto t4 = aio::create_task(pass(&b, &log, 4));
    co_await aio::gather(t2, t3, t4);
    CHECK(b.n_waiting() == 0);
    CHECK_FALSE(b.broken());
  };
  aio::run(main());
}

TEST_CASE("barrier: reset wakes the waiting tasks with BrokenBarrierError and leaves it usable", "[barrier]") {
  // test_reset_barrier, test_reset_barrier_while_tasks_waiting
  auto main = []() -> aio::Task<> {
    aio::Barrier one(1);
    co_await one.reset();
    CHECK(one.n_waiting() == 0);
    CHECK_FALSE(one.broken());

    aio::Barrier b(4);
    std::vector<aio::TaskHandle<int>> ts;
    for (int i = 0; i < 3; ++i) ts.push_back(aio::create_task(wait_or_broken(&b)));
    co_await aio::sleep(0s);
    co_await b.reset();
    auto broken = co_await aio::gather(ts);
    CHECK(broken == std::vector<int>(3, 1));
    CHECK(b.n_waiting() == 0);
    CHECK_FALSE(b.broken());
    std::vector<aio::TaskHandle<int>> next;
    for (int i = 0; i < 4; ++i) next.push_back(aio::create_task(wait_or_broken(&b)));
    auto passed = co_await aio::gather(next);
    CHECK(passed == std::vector<int>(4, 0));
  };
  aio::run(main());
}

TEST_CASE("barrier: abort breaks it for waiting and later tasks", "[barrier]") {
  // test_abort_barrier, test_abort_barrier_when_tasks_half_draining_half_blocking (shape)
  auto main = []() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<aio::TaskHandle<int>> ts;
    for (int i = 0; i < 2; ++i) ts.push_back(aio::create_task(wait_or_broken(&b)));
    co_await aio::sleep(0s);
    co_await b.abort();
    CHECK(b.broken());
    auto broken = co_await aio::gather(ts);
    CHECK(broken == std::vector<int>(2, 1));
    {
      const auto got = co_await wait_or_broken(&b);
      CHECK(got == 1);
    }
    CHECK(b.n_waiting() == 0);
    co_await b.reset();
    CHECK_FALSE(b.broken());
  };
  aio::run(main());
}

TEST_CASE("barrier: tasks arriving while a round drains wait for the next round", "[barrier]") {
  auto main = []() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<int> log;
    auto a = aio::create_task(pass(&b, &log, 1));
    auto c = aio::create_task(pass(&b, &log, 2));  // releases the round: draining until 1 leaves
    auto d = aio::create_task(pass(&b, &log, 3));  // arrives while draining: next round
    co_await aio::sleep(0s);
    CHECK_FALSE(d.done());
    auto e = aio::create_task(pass(&b, &log, 4));
    auto idx = co_await aio::gather(a, c, d, e);
    CHECK(std::get<0>(idx) == 0);
    CHECK(std::get<1>(idx) == 1);
    CHECK(std::get<2>(idx) + std::get<3>(idx) == 1);
  };
  aio::run(main());
}
