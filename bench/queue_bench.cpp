// queue_pipeline (../shared/BENCH.md): Queue(maxsize=1024), 2 producers,
// 5 consumers, 1,000,000 items in all; consumers call task_done; main awaits
// join(), then cancels the consumers.

#include <chrono>
#include <cstdint>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

namespace {

constexpr std::uint64_t kItems = 1'000'000;
constexpr int kProducers = 2;
constexpr int kConsumers = 5;

struct Tally {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
};

aio::Task<> producer(aio::Queue<std::uint64_t>* q, std::uint64_t begin, std::uint64_t end) {
  for (std::uint64_t i = begin; i < end; ++i) co_await q->put(i);
}

aio::Task<> consumer(aio::Queue<std::uint64_t>* q, Tally* tally) {
  for (;;) {
    const std::uint64_t v = co_await q->get();
    tally->sum += v;
    ++tally->count;
    q->task_done();
  }
}

aio::Task<Tally> pipeline_main() {
  aio::Queue<std::uint64_t> q(1024);
  Tally tally;
  std::vector<aio::TaskHandle<>> consumers;
  for (int i = 0; i < kConsumers; ++i) consumers.push_back(aio::create_task(consumer(&q, &tally)));
  std::vector<aio::Task<>> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.push_back(producer(&q, kItems * p / kProducers, kItems * (p + 1) / kProducers));
  }
  co_await aio::gather(std::move(producers));
  co_await q.join();
  for (auto& c : consumers) c.cancel();
  co_await aio::gather_settled(consumers);
  for (const auto& c : consumers) bench::check(c.cancelled(), "queue_pipeline: a consumer was not cancelled");
  co_return tally;
}

void queue_pipeline(benchmark::State& state) {
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const Tally t = loop.run_until_complete(pipeline_main());
    ns += bench::now_ns() - t0;
    bench::check(t.count == kItems && t.sum == kItems * (kItems - 1) / 2, "queue_pipeline: items lost");
  }
  const double items = static_cast<double>(kItems) * static_cast<double>(state.iterations());
  state.counters["ns_per_item"] = static_cast<double>(ns) / items;
  state.counters["items_per_s"] = items / (static_cast<double>(ns) / 1e9);
}

const bool registered = [] {
  benchmark::RegisterBenchmark("queue_pipeline", queue_pipeline)->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
