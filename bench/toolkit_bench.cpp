// timeout_fast/N, as_completed/N, barrier/N and the throw_catch reference row
// (issue 11; ../shared/BENCH.md names).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

using namespace std::chrono_literals;

namespace {

// -- throw_catch: one C++ exception thrown and caught through one frame, the
// reference cancel_sleepers and cancel_reverse are measured against in the
// same run (a cancellation must cost about one unwinding).

[[gnu::noinline]] void thrower(int i) {
  if (i >= 0) throw std::runtime_error("x");
}

void throw_catch(benchmark::State& state) {
  std::int64_t caught = 0;
  const std::int64_t t0 = bench::now_ns();
  for (auto _ : state) {
    try {
      thrower(static_cast<int>(caught));
    } catch (const std::exception&) {
      ++caught;
    }
  }
  const std::int64_t ns = bench::now_ns() - t0;
  bench::check(caught == static_cast<std::int64_t>(state.iterations()), "throw_catch: not every throw was caught");
  state.counters["ns_per_throw"] = static_cast<double>(ns) / static_cast<double>(state.iterations());
}

// -- timeout_fast/N: wait_for_fast through aio::timeout: N sequential
// `timeout(1 s, body)` whose body yields once and wins.

aio::Task<int> yield_once() {
  co_await aio::sleep(0s);
  co_return 1;
}

aio::Task<std::size_t> timeout_fast_main(std::size_t n) {
  std::size_t won = 0;
  for (std::size_t i = 0; i < n; ++i) {
    won += static_cast<std::size_t>(co_await aio::timeout(1s, [](aio::Timeout&) { return yield_once(); }));
  }
  co_return won;
}

void timeout_fast(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::size_t won = loop.run_until_complete(timeout_fast_main(n));
    ns += bench::now_ns() - t0;
    bench::check(won == n, "timeout_fast: the body did not always win");
  }
  state.counters["ns_per_timeout"] =
      static_cast<double>(ns) / (static_cast<double>(n) * static_cast<double>(state.iterations()));
}

// -- as_completed/N: N tasks finishing in random order (each yields a random
// number of times, 0..63), consumed through as_completed.

aio::Task<std::size_t> finish_after(std::size_t yields, std::size_t v) {
  for (std::size_t i = 0; i < yields; ++i) co_await aio::sleep(0s);
  co_return v;
}

aio::Task<std::size_t> as_completed_main(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<aio::TaskHandle<std::size_t>> tasks;
  tasks.reserve(n);
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(aio::create_task(finish_after(rng() % 64, i)));
  std::size_t sum = 0, count = 0;
  for (auto next : aio::as_completed(tasks)) {
    sum += co_await next;
    ++count;
  }
  bench::check(count == n, "as_completed: not every task was handed out");
  co_return sum;
}

void as_completed(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  std::uint32_t seed = 1;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::size_t sum = loop.run_until_complete(as_completed_main(n, seed++));
    ns += bench::now_ns() - t0;
    bench::check(sum == n * (n - 1) / 2, "as_completed: wrong sum");
  }
  state.counters["ns_per_task"] =
      static_cast<double>(ns) / (static_cast<double>(n) * static_cast<double>(state.iterations()));
}

// -- barrier/N: N tasks through one Barrier(N), 100 rounds.

constexpr int kBarrierRounds = 100;

aio::Task<std::size_t> barrier_party(aio::Barrier* b) {
  std::size_t sum = 0;
  for (int r = 0; r < kBarrierRounds; ++r) sum += co_await b->wait();
  co_return sum;
}

aio::Task<std::size_t> barrier_main(std::size_t n) {
  aio::Barrier b(n);
  std::vector<aio::Task<std::size_t>> parties;
  parties.reserve(n);
  for (std::size_t i = 0; i < n; ++i) parties.push_back(barrier_party(&b));
  const auto sums = co_await aio::gather(std::move(parties));
  co_return std::accumulate(sums.begin(), sums.end(), std::size_t{0});
}

void barrier(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::size_t sum = loop.run_until_complete(barrier_main(n));
    ns += bench::now_ns() - t0;
    bench::check(sum == kBarrierRounds * n * (n - 1) / 2, "barrier: arrival indices do not add up");
  }
  state.counters["ns_per_pass"] = static_cast<double>(ns) /
                                  (static_cast<double>(n) * kBarrierRounds * static_cast<double>(state.iterations()));
}

const bool registered = [] {
  benchmark::RegisterBenchmark("throw_catch", throw_catch);
  benchmark::RegisterBenchmark("timeout_fast", timeout_fast)->Arg(100'000)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("as_completed", as_completed)->Arg(100'000)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("barrier", barrier)->Arg(1'000)->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
