// The loop's timer structure: always pops the earliest (deadline, start
// order) first, whatever the mix of in-order and out-of-order timers and
// removals. Checked against a reference model.

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "aio/detail/timer_heap.hpp"

using aio::detail::TimerHeap;
using aio::detail::TimerNode;

namespace {

struct Timer : TimerNode {
  std::uint64_t id = 0;
};

}  // namespace

TEST_CASE("timers pop in (deadline, start order) under random adds and removals", "[timers]") {
  std::mt19937 rng(12345);
  TimerHeap heap;
  std::vector<std::unique_ptr<Timer>> timers;
  std::map<std::pair<std::int64_t, std::uint64_t>, Timer*> model;  // (deadline, start order)
  std::uint64_t next_id = 0;
  std::int64_t now = 0;
  for (int step = 0; step < 200'000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {  // add: mostly in order (as sleeps of one duration are), sometimes not
      auto t = std::make_unique<Timer>();
      t->id = next_id++;
      t->deadline = now + (rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % 1000) : 1000);
      heap.push(t.get());
      model.emplace(std::make_pair(t->deadline, t->id), t.get());
      timers.push_back(std::move(t));
    } else if (op < 7 && !timers.empty()) {  // remove a random queued timer
      Timer* t = timers[rng() % timers.size()].get();
      if (t->queued()) {
        heap.remove(t);
        model.erase({t->deadline, t->id});
      }
    } else {  // time passes; pop what is due
      now += static_cast<std::int64_t>(rng() % 300);
      while (TimerNode* n = heap.pop_due(now)) {
        auto* t = static_cast<Timer*>(n);
        REQUIRE(!model.empty());
        REQUIRE(model.begin()->second == t);
        model.erase(model.begin());
        CHECK_FALSE(t->queued());
      }
      if (!model.empty()) CHECK(model.begin()->first.first > now);
    }
    REQUIRE(heap.size() == model.size());
    if (!model.empty()) REQUIRE(heap.earliest() == model.begin()->first.first);
  }
}

TEST_CASE("removing 100,000 in-order timers newest first empties the structure", "[timers]") {
  // cancel_reverse's shape (its cost is bench/'s to show: every removal is
  // O(1) at either end of the sorted run).
  TimerHeap heap;
  std::vector<Timer> timers(100'000);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = 1000;
    heap.push(&timers[i]);
  }
  for (std::size_t i = timers.size(); i-- > 0;) heap.remove(&timers[i]);
  CHECK(heap.empty());
  for (auto& t : timers) CHECK_FALSE(t.queued());
}

TEST_CASE("timers removed out of order behind one that waits leave no pile of tombstones", "[timers]") {
  // A server's shape: one slow wait_for deadline stays at the front while
  // 100,000 later ones are removed (their inner won) out of order.
  TimerHeap heap;
  Timer slow;
  slow.deadline = 1;
  heap.push(&slow);
  std::vector<Timer> timers(100'000);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = 2 + static_cast<std::int64_t>(i);
    heap.push(&timers[i]);
    if (i > 0) heap.remove(&timers[i - 1]);  // not the newest: a tombstone in the middle
  }
  CHECK(heap.size() == 2);
  CHECK(heap.footprint() <= 2 * heap.size() + 64);
  CHECK(heap.pop_due(1) == &slow);
  CHECK(heap.pop_due(1'000'000) == &timers.back());
  CHECK(heap.empty());
}

TEST_CASE("drain hands every queued timer back once and empties the structure", "[timers]") {
  TimerHeap heap;
  std::vector<Timer> timers(10);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = i % 2 == 0 ? 100 : 50;  // a run and a heap
    heap.push(&timers[i]);
  }
  heap.remove(&timers[4]);
  int drained = 0;
  heap.drain([&](TimerNode* n) {
    CHECK_FALSE(n->queued());
    ++drained;
  });
  CHECK(drained == 9);
  CHECK(heap.empty());
}
