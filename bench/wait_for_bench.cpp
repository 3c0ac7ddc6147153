// wait_for_timeout/N and wait_for_fast/N (../shared/BENCH.md).

#include <chrono>
#include <cstdint>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

using namespace std::chrono_literals;

namespace {

// -- wait_for_timeout/N: N concurrent wait_for(sleep(10 s), timeout=10 ms);
// every one times out and its inner sleep is cancelled. wait_for throws
// TimeoutError only when its inner ended by that cancellation, so the count
// of TimeoutErrors is the count of cancelled sleeps.
// wait_for_timeout_coroutine/N: the same with a coroutine around the sleep,
// which the cancellation unwinds (asyncio's shape: Python's sleep is a
// coroutine); it counts the unwindings with a guard rather than a
// catch-and-rethrow, which would add a third exception to every timeout.

aio::Task<> long_sleep(std::size_t* cancelled) {
  struct Guard {
    std::size_t* cancelled;
    bool finished = false;
    ~Guard() {
      if (!finished) ++*cancelled;
    }
  } guard{cancelled};
  co_await aio::sleep(10s);
  guard.finished = true;
}

aio::Task<int> times_out(std::size_t* cancelled) {
  try {
    if (cancelled == nullptr) {
      co_await aio::wait_for(aio::sleep(10s), 10ms);
    } else {
      co_await aio::wait_for(long_sleep(cancelled), 10ms);
    }
  } catch (const aio::TimeoutError&) {
    co_return 1;
  }
  co_return 0;
}

aio::Task<std::size_t> timeout_main(std::size_t n, std::size_t* cancelled) {
  std::vector<aio::Task<int>> tasks;
  tasks.reserve(n);
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(times_out(cancelled));
  const std::vector<int> results = co_await aio::gather(std::move(tasks));
  std::size_t timeouts = 0;
  for (int r : results) timeouts += static_cast<std::size_t>(r);
  co_return timeouts;
}

void wait_for_timeout(benchmark::State& state, bool coroutine_inner) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    std::size_t cancelled = 0;
    const std::int64_t t0 = bench::now_ns();
    const std::size_t timeouts = loop.run_until_complete(timeout_main(n, coroutine_inner ? &cancelled : nullptr));
    ns += bench::now_ns() - t0;
    bench::check(timeouts == n, "wait_for_timeout: not every wait_for timed out");
    bench::check(!coroutine_inner || cancelled == n, "wait_for_timeout: not every inner coroutine was cancelled");
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["wall_ms"] = static_cast<double>(ns) / 1e6 / iters;
  state.counters["cancels_per_s"] = static_cast<double>(n) * iters / (static_cast<double>(ns) / 1e9);
}

// -- wait_for_fast/N: N sequential wait_for(sleep(0), timeout=1 s); the inner always wins.

aio::Task<int> yield_once() {
  co_await aio::sleep(0s);
  co_return 1;
}

aio::Task<std::size_t> fast_main(std::size_t n) {
  std::size_t won = 0;
  for (std::size_t i = 0; i < n; ++i) won += static_cast<std::size_t>(co_await aio::wait_for(yield_once(), 1s));
  co_return won;
}

void wait_for_fast(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aio::EventLoop loop;
  std::int64_t ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    const std::size_t won = loop.run_until_complete(fast_main(n));
    ns += bench::now_ns() - t0;
    bench::check(won == n, "wait_for_fast: the inner awaitable did not always win");
  }
  state.counters["ns_per_wait_for"] =
      static_cast<double>(ns) / (static_cast<double>(n) * static_cast<double>(state.iterations()));
}

const bool registered = [] {
  benchmark::RegisterBenchmark("wait_for_timeout", wait_for_timeout, false)->Arg(10'000)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("wait_for_timeout_coroutine", wait_for_timeout, true)
      ->Arg(10'000)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("wait_for_fast", wait_for_fast)->Arg(100'000)->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
