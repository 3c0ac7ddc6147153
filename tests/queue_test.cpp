// aio::Queue, LifoQueue and PriorityQueue: asyncio's queues with Python
// 3.13's shutdown(), waiters served strictly first come, first served, and
// cancellation that never loses or adds an item.

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {
// Not in the coroutine bodies: g++ 12 cannot initialise arrays there.
constexpr int kUnsorted[] = {5, 1, 4, 2, 3};
const char* const kGetters[] = {"g1", "g2", "g3"};
}  // namespace

TEST_CASE("a Queue gives the items back in the order they were put", "[queue]") {
  auto main = []() -> aio::Task<> {
    aio::Queue<int> q;
    CHECK(q.maxsize() == 0);
    CHECK(q.empty());
    for (int i = 1; i <= 3; ++i) co_await q.put(i);
    q.put_nowait(4);
    CHECK(q.qsize() == 4);
    CHECK_FALSE(q.full());  // unbounded
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
    got.push_back(q.get_nowait());
    CHECK(q.empty());
    std::vector<int> expected;
    for (int i = 1; i <= 4; ++i) expected.push_back(i);
    CHECK(got == expected);
  };
  aio::run(main());
}

TEST_CASE("a LifoQueue gives the most recently put item first", "[queue]") {
  auto main = []() -> aio::Task<> {
    aio::LifoQueue<std::string> q;
    co_await q.put("a");
    co_await q.put("b");
    q.put_nowait("c");
    std::string got;
    for (int i = 0; i < 3; ++i) got += co_await q.get();
    CHECK(got == "cba");
  };
  aio::run(main());
}

TEST_CASE("a PriorityQueue gives the smallest item first, or the first by its comparator", "[queue]") {
  auto main = []() -> aio::Task<> {
    aio::PriorityQueue<int> smallest;
    aio::PriorityQueue<int, std::greater<int>> largest;
    for (int x : kUnsorted) {
      co_await smallest.put(x);
      largest.put_nowait(x);
    }
    std::vector<int> up, down;
    for (int i = 0; i < 5; ++i) {
      up.push_back(co_await smallest.get());
      down.push_back(largest.get_nowait());
    }
    std::vector<int> asc, desc;
    for (int i = 1; i <= 5; ++i) {
      asc.push_back(i);
      desc.push_back(6 - i);
    }
    CHECK(up == asc);
    CHECK(down == desc);
  };
  aio::run(main());
}

TEST_CASE("put_nowait on a full queue throws QueueFull, get_nowait on an empty one QueueEmpty", "[queue]") {
  aio::Queue<int> q(2);
  CHECK(q.maxsize() == 2);
  CHECK_THROWS_AS(q.get_nowait(), aio::QueueEmpty);
  q.put_nowait(1);
  q.put_nowait(2);
  CHECK(q.full());
  CHECK_THROWS_AS(q.put_nowait(3), aio::QueueFull);
  CHECK(q.qsize() == 2);
  CHECK(q.get_nowait() == 1);
  CHECK_FALSE(q.full());
}

TEST_CASE("put waits while the queue is full until a get makes room", "[queue]") {
  std::vector<std::string> log;
  aio::Queue<int> q(1);
  auto producer = [&]() -> aio::Task<> {
    co_await q.put(1);
    log.push_back("put 1");
    co_await q.put(2);  // full: waits for the consumer
    log.push_back("put 2");
  };
  auto main = [&]() -> aio::Task<> {
    auto p = aio::create_task(producer());
    for (int i = 0; i < 3; ++i) co_await aio::sleep(0s);
    CHECK(log == std::vector<std::string>{"put 1"});
    CHECK(q.full());
    const int first = co_await q.get();
    log.push_back("got " + std::to_string(first));
    co_await p;
    const int second = co_await q.get();
    log.push_back("got " + std::to_string(second));
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"put 1", "got 1", "put 2", "got 2"});
}

TEST_CASE("getters waiting on an empty queue are served in the order they came", "[queue]") {
  aio::Queue<int> q;
  std::vector<std::string> got;
  auto getter = [&](std::string name) -> aio::Task<> {
    const int x = co_await q.get();
    got.push_back(name + "=" + std::to_string(x));
  };
  auto main = [&]() -> aio::Task<> {
    std::vector<aio::TaskHandle<>> getters;
    for (const char* name : kGetters) getters.push_back(aio::create_task(getter(name)));
    co_await aio::sleep(0s);  // all three wait, in order
    q.put_nowait(1);
    co_await q.put(2);
    // The items went to g1 and g2, which have not run yet: a later caller
    // cannot take one first.
    CHECK(q.empty());
    CHECK_THROWS_AS(q.get_nowait(), aio::QueueEmpty);
    q.put_nowait(3);
    co_await aio::gather(getters);
  };
  aio::run(main());
  CHECK(got == std::vector<std::string>{"g1=1", "g2=2", "g3=3"});
}

TEST_CASE("putters waiting on a full queue are served in the order they came", "[queue]") {
  aio::Queue<int> q(1);
  auto putter = [&](int x) -> aio::Task<> { co_await q.put(x); };
  auto main = [&]() -> aio::Task<> {
    q.put_nowait(0);
    std::vector<aio::TaskHandle<>> putters;
    for (int x = 1; x <= 3; ++x) putters.push_back(aio::create_task(putter(x)));
    co_await aio::sleep(0s);  // all three wait, in order
    CHECK(q.get_nowait() == 0);
    // The slot is reserved for putter 1, which has not run yet.
    CHECK(q.full());
    CHECK_THROWS_AS(q.put_nowait(99), aio::QueueFull);
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
    co_await aio::gather(putters);
    std::vector<int> expected;
    for (int x = 1; x <= 3; ++x) expected.push_back(x);
    CHECK(got == expected);
    CHECK(q.empty());
  };
  aio::run(main());
}

TEST_CASE("a getter cancelled after it was handed an item passes the item to the next getter", "[queue][cancel]") {
  // Interleaving: g1 and g2 wait on the empty queue. main puts "x": it is
  // handed to g1, which is scheduled but has not run yet. main cancels g1
  // before yielding, so g1 resumes with CancelledError and "x" must go to
  // g2, the next in line, ahead of the "y" put after it.
  aio::Queue<std::string> q;
  std::vector<std::string> log;
  auto getter = [&](std::string name) -> aio::Task<> {
    try {
      const std::string item = co_await q.get();
      log.push_back(name + " got " + item);
    } catch (const aio::CancelledError&) {
      log.push_back(name + " cancelled");
      throw;
    }
  };
  auto main = [&]() -> aio::Task<> {
    auto g1 = aio::create_task(getter("g1"));
    auto g2 = aio::create_task(getter("g2"));
    co_await aio::sleep(0s);
    q.put_nowait("x");  // handed to g1
    CHECK(g1.cancel());
    q.put_nowait("y");
    co_await aio::gather_settled(g1, g2);
    CHECK(g1.cancelled());
    CHECK(q.get_nowait() == "y");
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"g1 cancelled", "g2 got x"});
}

TEST_CASE("a getter cancelled after it was handed an item puts it back as the next item out", "[queue][cancel]") {
  // Interleaving: g waits on the empty queue; main puts "x" (handed to g,
  // which has not run yet), then "y" (stored: no one else waits), then
  // cancels g. "x" was put first, so it goes back in front of "y" (for a
  // LifoQueue, under it).
  auto check = [](auto& q, std::vector<std::string> expected) {
    auto main = [&]() -> aio::Task<> {
      auto g = aio::create_task([](auto& q) -> aio::Task<> { (void)co_await q.get(); }(q));
      co_await aio::sleep(0s);
      q.put_nowait("x");
      q.put_nowait("y");
      CHECK(q.qsize() == 1);
      g.cancel();
      CHECK(q.qsize() == 2);  // given back at once
      std::vector<std::string> got;
      got.push_back(q.get_nowait());
      got.push_back(q.get_nowait());
      CHECK(got == expected);
      auto outcome = co_await aio::gather_settled(g);
      CHECK(std::get<0>(outcome).cancelled());
    };
    aio::run(main());
  };
  SECTION("Queue") {
    aio::Queue<std::string> q;
    check(q, {"x", "y"});
  }
  SECTION("LifoQueue") {
    aio::LifoQueue<std::string> q;
    check(q, {"y", "x"});
  }
  SECTION("PriorityQueue") {
    aio::PriorityQueue<std::string> q;
    check(q, {"x", "y"});
  }
}

TEST_CASE("a get cancelled while waiting takes no item", "[queue][cancel]") {
  aio::Queue<int> q;
  auto main = [&]() -> aio::Task<> {
    auto g = aio::create_task([](aio::Queue<int>& q) -> aio::Task<int> { co_return co_await q.get(); }(q));
    co_await aio::sleep(0s);
    g.cancel();
    co_await aio::sleep(0s);
    CHECK(g.cancelled());
    q.put_nowait(7);
    CHECK(q.qsize() == 1);
    CHECK(q.get_nowait() == 7);
  };
  aio::run(main());
}

TEST_CASE("a cancelled put adds nothing, also after a slot was reserved for it", "[queue][cancel]") {
  // Interleaving: the queue (maxsize 1) holds 0; p1 waits to put 1, p2 to
  // put 2. main takes 0: the freed slot is reserved for p1, which is
  // scheduled but has not run. main cancels p1 before yielding: p1 throws
  // CancelledError without adding 1, and its slot passes to p2.
  aio::Queue<int> q(1);
  std::vector<std::string> log;
  auto putter = [&](int x) -> aio::Task<> {
    try {
      co_await q.put(x);
      log.push_back("put " + std::to_string(x));
    } catch (const aio::CancelledError&) {
      log.push_back("cancelled " + std::to_string(x));
      throw;
    }
  };
  auto main = [&]() -> aio::Task<> {
    q.put_nowait(0);
    auto p1 = aio::create_task(putter(1));
    auto p2 = aio::create_task(putter(2));
    auto p3 = aio::create_task(putter(3));
    co_await aio::sleep(0s);
    p3.cancel();  // cancelled while waiting
    CHECK(q.get_nowait() == 0);
    p1.cancel();  // cancelled after its slot was reserved
    co_await aio::gather_settled(p1, p2, p3);
    CHECK(p1.cancelled());
    CHECK(p3.cancelled());
    CHECK(q.qsize() == 1);
    CHECK(q.get_nowait() == 2);
    CHECK(q.empty());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"cancelled 3", "cancelled 1", "put 2"});
}

TEST_CASE("join waits until task_done was called for every item put", "[queue]") {
  aio::Queue<int> q;
  std::vector<std::string> log;
  auto worker = [&]() -> aio::Task<> {
    for (int i = 0; i < 2; ++i) {
      const int x = co_await q.get();
      co_await aio::sleep(0s);  // "process" it
      log.push_back("done " + std::to_string(x));
      q.task_done();
    }
  };
  auto main = [&]() -> aio::Task<> {
    co_await q.join();  // nothing unfinished: at once
    CHECK_THROWS_AS(q.task_done(), aio::ValueError);
    q.put_nowait(1);
    q.put_nowait(2);
    auto w = aio::create_task(worker());
    co_await q.join();
    log.push_back("joined");
    CHECK_THROWS_AS(q.task_done(), aio::ValueError);
    co_await w;
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"done 1", "done 2", "joined"});
}

TEST_CASE("after shutdown put throws QueueShutDown and get drains the items, then throws it", "[queue][shutdown]") {
  auto main = []() -> aio::Task<> {
    aio::Queue<int> q;
    co_await q.put(1);
    q.put_nowait(2);
    q.shutdown();
    CHECK_THROWS_AS(co_await q.put(3), aio::QueueShutDown);
    CHECK_THROWS_AS(q.put_nowait(3), aio::QueueShutDown);
    const int first = co_await q.get();
    CHECK(first == 1);
    CHECK(q.get_nowait() == 2);
    CHECK_THROWS_AS(co_await q.get(), aio::QueueShutDown);
    CHECK_THROWS_AS(q.get_nowait(), aio::QueueShutDown);
  };
  aio::run(main());
}

TEST_CASE("shutdown wakes waiting getters and putters with QueueShutDown", "[queue][shutdown]") {
  const bool immediate = GENERATE(false, true);
  aio::Queue<int> empty;
  aio::Queue<int> full(1);
  int shut_down = 0;
  auto getter = [&]() -> aio::Task<> {
    try {
      (void)co_await empty.get();
    } catch (const aio::QueueShutDown&) {
      ++shut_down;
    }
  };
  auto putter = [&]() -> aio::Task<> {
    try {
      co_await full.put(2);
    } catch (const aio::QueueShutDown&) {
      ++shut_down;
    }
  };
  auto main = [&]() -> aio::Task<> {
    full.put_nowait(1);
    std::vector<aio::TaskHandle<>> waiters;
    for (int i = 0; i < 2; ++i) {
      waiters.push_back(aio::create_task(getter()));
      waiters.push_back(aio::create_task(putter()));
    }
    co_await aio::sleep(0s);
    CHECK(shut_down == 0);
    empty.shutdown(immediate);
    full.shutdown(immediate);
    co_await aio::gather(waiters);
    // The putters added nothing; an immediate shutdown dropped the item.
    CHECK(full.qsize() == (immediate ? 0u : 1u));
  };
  aio::run(main());
  CHECK(shut_down == 4);
}

TEST_CASE("shutdown(immediate) drops the items, counts them done for join, and get throws at once", "[queue][shutdown]") {
  aio::Queue<int> q;
  bool joined = false;
  auto joiner = [&]() -> aio::Task<> {
    co_await q.join();
    joined = true;
  };
  auto main = [&]() -> aio::Task<> {
    for (int i = 1; i <= 3; ++i) q.put_nowait(i);
    CHECK(q.get_nowait() == 1);  // taken, not yet marked done
    auto j = aio::create_task(joiner());
    co_await aio::sleep(0s);
    q.shutdown(true);
    CHECK(q.empty());
    CHECK_THROWS_AS(co_await q.get(), aio::QueueShutDown);
    co_await aio::sleep(0s);
    CHECK_FALSE(joined);  // item 1 is still unfinished
    q.task_done();
    co_await j;
    CHECK(joined);
    CHECK_THROWS_AS(q.task_done(), aio::ValueError);

    // Nothing taken: dropping the items finishes a waiting join at once.
    aio::Queue<int> q2;
    q2.put_nowait(1);
    q2.put_nowait(2);
    auto j2 = aio::create_task([](aio::Queue<int>& q) -> aio::Task<> { co_await q.join(); }(q2));
    co_await aio::sleep(0s);
    CHECK_FALSE(j2.done());
    q2.shutdown(true);
    co_await aio::sleep(0s);
    CHECK(j2.done());
  };
  aio::run(main());
}

TEST_CASE("a queue carries move-only items, through waiting getters and putters too", "[queue]") {
  using Item = std::unique_ptr<int>;
  struct ByValue {
    bool operator()(const Item& a, const Item& b) const { return *a < *b; }
  };
  auto main = []() -> aio::Task<> {
    aio::Queue<Item> q(1);
    auto g = aio::create_task([](aio::Queue<Item>& q) -> aio::Task<int> {
      Item it = co_await q.get();  // waits: handed the item by put
      co_return *it;
    }(q));
    co_await aio::sleep(0s);
    co_await q.put(std::make_unique<int>(1));
    const int handed = co_await g;
    CHECK(handed == 1);

    q.put_nowait(std::make_unique<int>(2));
    auto p = aio::create_task([](aio::Queue<Item>& q) -> aio::Task<> {
      co_await q.put(std::make_unique<int>(3));  // waits: full
    }(q));
    co_await aio::sleep(0s);
    Item a = co_await q.get();
    co_await p;
    Item b = q.get_nowait();
    CHECK(*a == 2);
    CHECK(*b == 3);

    aio::PriorityQueue<Item, ByValue> pq;
    pq.put_nowait(std::make_unique<int>(9));
    co_await pq.put(std::make_unique<int>(4));
    Item first = co_await pq.get();
    CHECK(*first == 4);
  };
  aio::run(main());
}

TEST_CASE("closing the loop with tasks waiting on a queue frees them and leaves the queue usable", "[queue][close]") {
  // Interleaving: g1 and g2 wait on the queue; main puts one item, handed to
  // g1, and returns, so the loop stops with g1 scheduled but not run and g2
  // still linked in the queue. close() destroys both frames: g2 leaves the
  // list, g1's item is freed with its frame (ASan checks both).
  using Item = std::unique_ptr<int>;
  aio::Queue<Item> q;
  aio::TaskHandle<> g1, g2;
  {
    aio::EventLoop loop;
    auto getter = [](aio::Queue<Item>& q) -> aio::Task<> { (void)co_await q.get(); };
    g1 = loop.create_task(getter(q));
    g2 = loop.create_task(getter(q));
    auto main = [&]() -> aio::Task<> {
      co_await aio::sleep(0s);
      q.put_nowait(std::make_unique<int>(1));
    };
    loop.run_until_complete(main());
    loop.close();
  }
  CHECK(g1.cancelled());
  CHECK(g2.cancelled());
  q.put_nowait(std::make_unique<int>(2));  // no getter left linked: stored
  CHECK(q.qsize() == 1);
}

TEST_CASE("closing the loop frees queues that live in a task's frame along with their waiters", "[queue][close]") {
  // The owner task holds two queues in its frame: two putters wait on the
  // full one, two getters on the empty one. close() destroys the owner's
  // frame (the queues) and the waiters' frames, in whichever order.
  aio::TaskHandle<> owner;
  {
    aio::EventLoop loop;
    owner = loop.create_task([]() -> aio::Task<> {
      aio::Queue<std::string> full(1);
      aio::Queue<std::string> empty;
      full.put_nowait("full");
      auto putter = [](aio::Queue<std::string>& q) -> aio::Task<> { co_await q.put("waits"); };
      auto getter = [](aio::Queue<std::string>& q) -> aio::Task<> { (void)co_await q.get(); };
      std::vector<aio::TaskHandle<>> waiters;
      for (int i = 0; i < 2; ++i) {
        waiters.push_back(aio::create_task(putter(full)));
        waiters.push_back(aio::create_task(getter(empty)));
      }
      aio::Event never;
      co_await never.wait();
    }());
    loop.run_until_complete([]() -> aio::Task<> {
      for (int i = 0; i < 3; ++i) co_await aio::sleep(0s);
    }());
  }  // the loop's destructor closes it
  CHECK(owner.cancelled());
}

TEST_CASE("a join made while items are unfinished and awaited after task_done returns at once", "[queue]") {
  auto main = []() -> aio::Task<> {
    aio::Queue<int> q;
    q.put_nowait(1);
    auto t = aio::create_task(aio::wait_for(q.join(), 200ms));
    (void)q.get_nowait();
    q.task_done();
    co_await t;
  };
  aio::run(main());
}
