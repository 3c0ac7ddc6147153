// spawn_gather, yield_pingpong, cancel_sleepers, cancel_reverse (../shared/BENCH.md).
// Every run checks that it did all the work the workload defines.

#include <chrono>
#include <cstdint>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

using namespace std::chrono_literals;

namespace {

// -- spawn_gather/N: gather N coroutines, each returning its index; check the sum.

aio::Task<std::uint64_t> index_of(std::uint64_t i) { co_return i; }

aio::Task<std::uint64_t> spawn_gather_main(std::uint64_t n) {
  std::vector<aio::Task<std::uint64_t>> tasks;
  tasks.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) tasks.push_back(index_of(i));
  const std::vector<std::uint64_t> results = co_await aio::gather(std::move(tasks));
  std::uint64_t sum = 0;
  for (std::uint64_t v : results) sum += v;
  co_return sum;
}

void spawn_gather(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::uint64_t sum = loop.run_until_complete(spawn_gather_main(n));
    ns += bench::now_ns() - t0;
    bench::check(sum == n * (n - 1) / 2, "spawn_gather: wrong sum");
  }
  const double tasks = static_cast<double>(n) * static_cast<double>(state.iterations());
  state.counters["ns_per_task"] = static_cast<double>(ns) / tasks;
  state.counters["tasks_per_s"] = tasks / (static_cast<double>(ns) / 1e9);
}

// -- yield_pingpong: two tasks each yield to the loop (sleep(0)) 1,000,000 times.

constexpr int kYields = 1'000'000;

aio::Task<int> yielder(int n) {
  int done = 0;
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(0s);
    ++done;
  }
  co_return done;
}

aio::Task<int> pingpong_main() {
  auto [a, b] = co_await aio::gather(yielder(kYields), yielder(kYields));
  co_return a + b;
}

void yield_pingpong(benchmark::State& state) {
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const int switches = loop.run_until_complete(pingpong_main());
    ns += bench::now_ns() - t0;
    bench::check(switches == 2 * kYields, "yield_pingpong: yields missing");
  }
  const double switches = 2.0 * kYields * static_cast<double>(state.iterations());
  state.counters["ns_per_switch"] = static_cast<double>(ns) / switches;
  state.counters["switches_per_s"] = switches / (static_cast<double>(ns) / 1e9);
}

// -- cancel_sleepers/N and cancel_reverse/N: N tasks sleeping 10 s, each
// cancelled (oldest first, or newest first), then all awaited; every one must
// end cancelled. Timed: from the first cancel() until the await returns.

aio::Task<> sleeper() { co_await aio::sleep(10s); }

aio::Task<std::int64_t> cancel_main(std::size_t n, bool newest_first) {
  std::vector<aio::TaskHandle<>> tasks;
  tasks.reserve(n);
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(aio::create_task(sleeper()));
  co_await aio::sleep(0s);  // every task runs its first step and parks on its timer
  const std::int64_t t0 = bench::now_ns();
  if (newest_first) {
    for (std::size_t i = n; i-- > 0;) tasks[i].cancel();
  } else {
    for (std::size_t i = 0; i < n; ++i) tasks[i].cancel();
  }
  const auto outcomes = co_await aio::gather_settled(tasks);
  const std::int64_t elapsed = bench::now_ns() - t0;
  bench::check(outcomes.size() == n, "cancel: outcomes missing");
  for (const auto& t : tasks) bench::check(t.cancelled(), "cancel: a task did not end cancelled");
  co_return elapsed;
}

void cancel_bench(benchmark::State& state, bool newest_first) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) ns += loop.run_until_complete(cancel_main(n, newest_first));
  const double cancels = static_cast<double>(n) * static_cast<double>(state.iterations());
  state.counters["ns_per_cancel"] = static_cast<double>(ns) / cancels;
  state.counters["cancels_per_s"] = cancels / (static_cast<double>(ns) / 1e9);
}

const bool registered = [] {
  benchmark::RegisterBenchmark("spawn_gather", spawn_gather)->Arg(100'000)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("yield_pingpong", yield_pingpong)->Unit(benchmark::kMillisecond);
  // In-order cancellation at every N, so that cancel_reverse/N has its reference.
  struct Order {
    const char* name;
    bool newest_first;
  };
  for (const Order o : {Order{"cancel_sleepers", false}, Order{"cancel_reverse", true}}) {
    benchmark::RegisterBenchmark(o.name, cancel_bench, o.newest_first)
        ->Arg(1'000)
        ->Arg(10'000)
        ->Arg(100'000)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
