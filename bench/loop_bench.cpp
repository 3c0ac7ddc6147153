// loop_create_close and loop_run_noop (../shared/BENCH.md).
//
// loop_create_close creates an event loop (a fresh io_uring ring each time)
// and closes it, with no work run, and reports the two halves separately.
// The kernel finishes a ring's teardown later, in a workqueue that calls back
// into the creating thread (io_tctx_exit_cb, run at the thread's next
// syscall, usually the next ring's io_uring_setup), so a short run shows a
// cheaper ring than a long one: the iteration counts are fixed and large
// enough that this deferred work is paid inside the figure.

#include <liburing.h>

#include "aio/aio.hpp"
#include "common.hpp"

namespace {

using Feature = aio::LoopOptions::Feature;
using TaskRun = aio::LoopOptions::TaskRun;

constexpr benchmark::IterationCount kCreateCloseIterations = 20000;  // the default loop
constexpr benchmark::IterationCount kVariantIterations = 5000;

struct Variant {
  const char* name;
  aio::LoopOptions options;
};

aio::LoopOptions make(TaskRun taskrun, Feature no_mmap, Feature no_sqarray, unsigned entries = 256) {
  aio::LoopOptions o;
  o.taskrun = taskrun;
  o.no_mmap = no_mmap;
  o.no_sqarray = no_sqarray;
  o.entries = entries;
  return o;
}

void report_create_close(benchmark::State& state, double create_ns, double close_ns, const std::string& flags) {
  const auto n = static_cast<double>(state.iterations());
  state.counters["create_ns"] = create_ns / n;
  state.counters["close_ns"] = close_ns / n;
  state.counters["total_ns"] = (create_ns + close_ns) / n;
  state.SetLabel(flags);
}

void loop_create_close(benchmark::State& state, aio::LoopOptions options) {
  std::string flags;
  {
    aio::EventLoop probe(options);  // first ring of the process: opcode probe, memory block
    flags = probe.ring_flags();
  }
  double create_ns = 0, close_ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    aio::EventLoop loop(options);
    const std::int64_t t1 = bench::now_ns();
    loop.close();
    const std::int64_t t2 = bench::now_ns();
    create_ns += static_cast<double>(t1 - t0);
    close_ns += static_cast<double>(t2 - t1);
  }
  report_create_close(state, create_ns, close_ns, flags);
}

// The floor the issue compares with: liburing's own setup with its defaults
// (io_uring_queue_init(256, &ring, 0): kernel memory, three mmap()s).
void ring_create_close_liburing(benchmark::State& state) {
  double create_ns = 0, close_ns = 0;
  for (auto _ : state) {
    io_uring ring;
    const std::int64_t t0 = bench::now_ns();
    bench::check(io_uring_queue_init(256, &ring, 0) == 0, "io_uring_queue_init");
    const std::int64_t t1 = bench::now_ns();
    io_uring_queue_exit(&ring);
    const std::int64_t t2 = bench::now_ns();
    create_ns += static_cast<double>(t1 - t0);
    close_ns += static_cast<double>(t2 - t1);
  }
  report_create_close(state, create_ns, close_ns, "liburing io_uring_queue_init(256, 0)");
}

aio::Task<> noop() { co_return; }

// asyncio.run(noop()): a new loop, one coroutine that returns at once, close.
void loop_run_noop(benchmark::State& state) {
  const std::int64_t t0 = bench::now_ns();
  for (auto _ : state) aio::run(noop());
  state.counters["ns_per_run"] =
      static_cast<double>(bench::now_ns() - t0) / static_cast<double>(state.iterations());
}

const bool registered = [] {
  // The default loop: the cheapest setup the running kernel accepts.
  benchmark::RegisterBenchmark("loop_create_close", loop_create_close, aio::LoopOptions{})
      ->Iterations(kCreateCloseIterations)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  const Variant variants[] = {
      // One flag at a time on top of the classic setup (kernel memory, mmap()ed).
      {"loop_create_close/plain", make(TaskRun::plain, Feature::disabled, Feature::disabled)},
      {"loop_create_close/coop_taskrun", make(TaskRun::cooperative, Feature::disabled, Feature::disabled)},
      {"loop_create_close/single_issuer_defer_taskrun",
       make(TaskRun::defer, Feature::disabled, Feature::disabled)},
      {"loop_create_close/no_sqarray", make(TaskRun::defer, Feature::disabled, Feature::required)},
      {"loop_create_close/no_mmap", make(TaskRun::defer, Feature::required, Feature::disabled)},
      {"loop_create_close/no_mmap_no_sqarray", make(TaskRun::defer, Feature::required, Feature::required)},
      // Ring sizes, with the default flags.
      {"loop_create_close/entries:8", make(TaskRun::automatic, Feature::automatic, Feature::automatic, 8)},
      {"loop_create_close/entries:4096",
       make(TaskRun::automatic, Feature::automatic, Feature::automatic, 4096)},
      {"loop_create_close/entries:4096_kernel_memory",
       make(TaskRun::automatic, Feature::disabled, Feature::automatic, 4096)},
  };
  for (const Variant& v : variants) {
    benchmark::RegisterBenchmark(v.name, loop_create_close, v.options)
        ->Iterations(kVariantIterations)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("ring_create_close/liburing_defaults", ring_create_close_liburing)
      ->Iterations(kVariantIterations)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("loop_run_noop", loop_run_noop)
      ->Iterations(kCreateCloseIterations)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  return true;
}();

}  // namespace
