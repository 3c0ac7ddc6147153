// sleep_fanout/N (../shared/BENCH.md): N tasks, each sleep(10 ms) then
// return, all gathered. Its own executable, and meant to be run one N per
// process (--benchmark_filter='^sleep_fanout/1000000$'), so that the peak RSS
// it reports is the workload's and not another benchmark's.
//
// Reported: wall time (ideal 10 ms, from the first task created until the
// gather returns), wake-ups per second, lateness p50/p99 of each wake-up
// (actual wake-up minus requested: sleep start + 10 ms) — for the warm runs
// when Google Benchmark ran more than one, and for the first run of the
// process (first_*, which also pays the first touch of its memory) — peak
// RSS of the process after its first run (what `/usr/bin/time -v` reports
// for a process that runs the workload once), and per task. Later runs can
// raise the process's peak further through glibc's heap (its mmap threshold
// adapts after the first large free); that figure is peak_rss_all_runs_MB.

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
  // The first run of the process pays for its memory's first touch (page
  // faults); later runs reuse it. Both are reported: first_* is the cold
  // run, the plain figures are the warm runs when there are any.
  std::int64_t first_ns = 0, warm_ns = 0;
  std::int64_t runs = 0;
  // Google Benchmark may call this function more than once: the process's
  // very first run is the one whose peak counts.
  static double first_peak = 0;
  bench::Histogram first, warm;
  for (auto _ : state) {
    bench::Histogram& lateness = runs == 0 ? first : warm;
    const std::int64_t t0 = bench::now_ns();
    const std::size_t done = loop.run_until_complete(fanout_main(n, &lateness));
    const std::int64_t ns = bench::now_ns() - t0;
    (runs == 0 ? first_ns : warm_ns) += ns;
    if (first_peak == 0) first_peak = bench::peak_rss_bytes();
    ++runs;
    bench::check(done == n, "sleep_fanout: tasks missing");
  }
  bench::check(first.count() + warm.count() == n * static_cast<std::size_t>(runs),
               "sleep_fanout: wake-ups missing");
  const bool has_warm = runs > 1;
  const bench::Histogram& lateness = has_warm ? warm : first;
  const double wall_ns = has_warm ? static_cast<double>(warm_ns) / static_cast<double>(runs - 1)
                                  : static_cast<double>(first_ns);
  const double peak = first_peak;
  state.counters["wall_ms"] = wall_ns / 1e6;
  state.counters["wakeups_per_s"] = static_cast<double>(n) / (wall_ns / 1e9);
  state.counters["lateness_p50_ms"] = lateness.quantile(0.50) / 1e6;
  state.counters["lateness_p99_ms"] = lateness.quantile(0.99) / 1e6;
  state.counters["first_wall_ms"] = static_cast<double>(first_ns) / 1e6;
  state.counters["first_lateness_p99_ms"] = first.quantile(0.99) / 1e6;
  state.counters["peak_rss_MB"] = peak / 1e6;
  state.counters["peak_rss_B_per_task"] = peak / static_cast<double>(n);
  state.counters["peak_rss_all_runs_MB"] = bench::peak_rss_bytes() / 1e6;
}

const bool registered = [] {
  for (long n : {100'000L, 1'000'000L}) {
    benchmark::RegisterBenchmark("sleep_fanout", sleep_fanout)->Arg(n)->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
