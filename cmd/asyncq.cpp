// asyncq.py of the asyncio tutorial: producers and consumers on a Queue.
//
//   async def produce(name, q):
//       n = random.randint(0, 10)
//       for _ in it.repeat(None, n):
//           await randsleep(caller=f"Producer {name}")
//           i = await makeitem()
//           t = time.perf_counter()
//           await q.put((i, t))
//           print(f"Producer {name} added <{i}> to queue.")
//
//   async def consume(name, q):
//       while True:
//           await randsleep(caller=f"Consumer {name}")
//           i, t = await q.get()
//           now = time.perf_counter()
//           print(f"Consumer {name} got element <{i}> in {now-t:0.5f} seconds.")
//           q.task_done()
//
//   async def main(nprod, ncon):
//       q = asyncio.Queue()
//       producers = [asyncio.create_task(produce(n, q)) for n in range(nprod)]
//       consumers = [asyncio.create_task(consume(n, q)) for n in range(ncon)]
//       await asyncio.gather(*producers)
//       await q.join()
//       for c in consumers:
//           c.cancel()
//
// Sleeps are scheduled on each task's own timeline of whole (scaled)
// seconds with aio::sleep_until, so ties are exact and resolved in start
// order: the same --seed prints the same lines in the same order.

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

using clock = std::chrono::steady_clock;

struct Options {
  int nprod = 5;
  int ncon = 10;
  unsigned seed = 444;
  double time_scale = 1.0;
};

struct Item {
  std::string hex;
  clock::time_point put_at;    // real time, for the "in 0.00012 seconds" figure
  clock::time_point timeline;  // the producer's schedule when it put the item
};

struct Shared {
  std::mt19937 rng;
  double scale;
  int randint(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  std::string makeitem(int size = 5) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < size; ++i) {
      const int byte = randint(0, 255);
      s += digits[byte >> 4];
      s += digits[byte & 15];
    }
    return s;
  }
};

/// randsleep(caller): sleeps a random 0-10 (scaled) seconds on the caller's timeline.
aio::Task<> randsleep(Shared& sh, clock::time_point& timeline, const std::string& caller) {
  const int i = sh.randint(0, 10);
  std::printf("%s sleeping for %d seconds.\n", caller.c_str(), i);
  if (i == 0) {
    co_await aio::sleep(std::chrono::seconds(0));  // asyncio.sleep(0) yields to the other tasks
    co_return;
  }
  timeline += std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(i * sh.scale));
  co_await aio::sleep_until(timeline);
}

aio::Task<> produce(int name, aio::Queue<Item>& q, Shared& sh, clock::time_point timeline) {
  const int n = sh.randint(0, 10);
  const std::string caller = "Producer " + std::to_string(name);
  for (int k = 0; k < n; ++k) {
    co_await randsleep(sh, timeline, caller);
    std::string i = sh.makeitem();
    Item item{i, clock::now(), timeline};  // named: g++ 12 mishandles an aggregate temporary in co_await
    co_await q.put(std::move(item));
    std::printf("Producer %d added <%s> to queue.\n", name, i.c_str());
  }
}

aio::Task<> consume(int name, aio::Queue<Item>& q, Shared& sh, clock::time_point timeline) {
  const std::string caller = "Consumer " + std::to_string(name);
  for (;;) {
    co_await randsleep(sh, timeline, caller);
    Item item = co_await q.get();
    if (item.timeline > timeline) timeline = item.timeline;  // it waited for the producer
    const std::chrono::duration<double> waited = clock::now() - item.put_at;
    std::printf("Consumer %d got element <%s> in %0.5f seconds.\n", name, item.hex.c_str(), waited.count());
    q.task_done();
  }
}

aio::Task<> main_(Options o) {
  Shared sh{std::mt19937(o.seed), o.time_scale};
  aio::Queue<Item> q;
  const clock::time_point start = aio::get_running_loop().time();
  std::vector<aio::TaskHandle<>> producers, consumers;
  for (int n = 0; n < o.nprod; ++n) producers.push_back(aio::create_task(produce(n, q, sh, start)));
  for (int n = 0; n < o.ncon; ++n) consumers.push_back(aio::create_task(consume(n, q, sh, start)));
  co_await aio::gather(producers);
  co_await q.join();  // implicitly awaits consumers, too
  for (auto& c : consumers) c.cancel();
}

}  // namespace

Scenario asyncq_scenario() {
  return {"asyncq", "producers and consumers on an aio::Queue (asyncq.py), reproducible with --seed",
          [](CLI::App& app) -> std::function<int()> {
            auto o = std::make_shared<Options>();
            app.add_option("-p,--nprod", o->nprod, "number of producers")
                ->check(CLI::Range(0, 10'000))
                ->capture_default_str();
            app.add_option("-c,--ncon", o->ncon, "number of consumers")
                ->check(CLI::Range(0, 10'000))
                ->capture_default_str();
            app.add_option("--seed", o->seed, "random seed: the same seed prints the same lines in the same order")
                ->capture_default_str();
            app.add_option("--time-scale", o->time_scale, "multiplies every sleep (0.01: a hundred times faster)")
                ->check(CLI::PositiveNumber)
                ->capture_default_str();
            return [o] {
              const auto start = std::chrono::steady_clock::now();
              aio::run(main_(*o));
              const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
              std::printf("Program completed in %0.5f seconds.\n", elapsed.count());
              return 0;
            };
          }};
}

}  // namespace demo
