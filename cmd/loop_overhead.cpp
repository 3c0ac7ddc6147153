// The tutorial's event-loop overhead benchmark:
//
//   for _ in range(N):
//       t0 = perf_counter(); loop = asyncio.new_event_loop()
//       t1 = perf_counter(); loop.close(); t2 = perf_counter()
//   print(f"Average event loop creation overhead: {create / N * 1000:.4f} ms")
//   print(f"Average event loop closing overhead: {close / N * 1000:.4f} ms")
//
// By default a closed loop's ring is kept for the next loop of the thread
// (LoopOptions::reuse_ring), as asyncio's loops are cheap Python objects;
// --fresh-ring sets up and tears down a new io_uring ring each time, mostly
// the kernel's work (paced so that its teardown backlog stays bounded).

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "aio/aio.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

struct Options {
  long iterations = 10'000;
  unsigned entries = 256;
  aio::LoopOptions::TaskRun taskrun = aio::LoopOptions::TaskRun::automatic;
  bool fresh_ring = false;
};

int run(const Options& o) {
  aio::LoopOptions options;
  options.entries = o.entries;
  options.taskrun = o.taskrun;
  options.reuse_ring = !o.fresh_ring;
  using clock = std::chrono::steady_clock;
  clock::duration create{}, close{};
  std::string flags;
  for (long i = 0; i < o.iterations; ++i) {
    const auto t0 = clock::now();
    aio::EventLoop loop(options);
    const auto t1 = clock::now();
    if (i == 0) flags = loop.ring_flags();
    loop.close();
    const auto t2 = clock::now();
    create += t1 - t0;
    close += t2 - t1;
  }
  const auto avg_ms = [&](clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count() / static_cast<double>(o.iterations);
  };
  std::printf("Average event loop creation overhead: %.4f ms\n", avg_ms(create));
  std::printf("Average event loop closing overhead: %.4f ms\n", avg_ms(close));
  std::printf("Ring: %u entries, flags %s, %s\n", o.entries, flags.c_str(),
              o.fresh_ring ? "a fresh ring per loop" : "reused from loop to loop");
  return 0;
}

}  // namespace

Scenario loop_overhead_scenario() {
  return {"loop-overhead", "create and close N event loops and print the average costs",
          [](CLI::App& app) -> std::function<int()> {
            auto o = std::make_shared<Options>();
            app.add_option("-n,--iterations", o->iterations, "how many loops to create and close")
                ->check(CLI::Range(1L, 100'000'000L))
                ->capture_default_str();
            app.add_option("--entries", o->entries, "submission queue entries of each ring")
                ->check(CLI::Range(1u, 32768u))
                ->capture_default_str();
            const std::map<std::string, aio::LoopOptions::TaskRun> modes{
                {"auto", aio::LoopOptions::TaskRun::automatic},
                {"defer", aio::LoopOptions::TaskRun::defer},
                {"coop", aio::LoopOptions::TaskRun::cooperative},
                {"plain", aio::LoopOptions::TaskRun::plain}};
            app.add_option("--taskrun", o->taskrun,
                           "ring task-run mode: auto, defer (SINGLE_ISSUER|DEFER_TASKRUN), coop (COOP_TASKRUN) or plain")
                // The transformer would print the map's enum values (as raw bytes) in
                // the help and the error: the names are checked first, by IsMember.
                ->transform(CLI::CheckedTransformer(modes).description(""))
                ->transform(CLI::IsMember({"auto", "coop", "defer", "plain"}))
                ->default_str("auto");
            app.add_flag("--fresh-ring", o->fresh_ring,
                         "set up a fresh io_uring ring for every loop (LoopOptions::reuse_ring = false)");
            return [o] { return run(*o); };
          }};
}

}  // namespace demo
