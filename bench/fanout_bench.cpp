// sleep_fanout/N (../shared/BENCH.md): N tasks, each sleep(10 ms) then
// return, all gathered. Its own executable, and meant to be run one N per
// process (--benchmark_filter=sleep_fanout/1000000$), so that the peak RSS
// it reports is the workload's and not another benchmark's.
//
// Reported: wall time (ideal 10 ms, from the first task created until the
// gather returns), wake-ups per second, lateness p50/p99 of each wake-up
// (actual wake-up minus requested: sleep start + 10 ms), peak RSS of the
// process, and peak RSS per task.

#include <chrono>
#include <cstdint>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kSleepNs = 10'000'000;

aio::Task<> fanout_child(bench::Histogram* lateness) {
  const std::int64_t start = bench::now_ns();
  co_await aio::sleep(std::chrono::nanoseconds(kSleepNs));
  lateness->record(bench::now_ns() - (start + kSleepNs));
}

aio::Task<std::size_t> fanout_main(std::size_t n, bench::Histogram* lateness) {
  std::vector<aio::Task<>> tasks;
  tasks.reserve(n);
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(fanout_child(lateness));
  const auto results = co_await aio::gather(std::move(tasks));
  co_return results.size();
}

void sleep_fanout(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  bench::Histogram lateness;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::size_t done = loop.run_until_complete(fanout_main(n, &lateness));
    ns += bench::now_ns() - t0;
    bench::check(done == n, "sleep_fanout: tasks missing");
  }
  bench::check(lateness.count() == n * static_cast<std::size_t>(state.iterations()),
               "sleep_fanout: wake-ups missing");
  const double iters = static_cast<double>(state.iterations());
  const double peak = bench::peak_rss_bytes();
  state.counters["wall_ms"] = static_cast<double>(ns) / 1e6 / iters;
  state.counters["wakeups_per_s"] = static_cast<double>(n) * iters / (static_cast<double>(ns) / 1e9);
  state.counters["lateness_p50_ms"] = lateness.quantile(0.50) / 1e6;
  state.counters["lateness_p99_ms"] = lateness.quantile(0.99) / 1e6;
  state.counters["peak_rss_MB"] = peak / 1e6;
  state.counters["peak_rss_B_per_task"] = peak / static_cast<double>(n);
}

const bool registered = [] {
  for (long n : {100'000L, 1'000'000L}) {
    benchmark::RegisterBenchmark("sleep_fanout", sleep_fanout)
        ->Arg(n)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace
