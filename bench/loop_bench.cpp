// loop_create_close and loop_run_noop (../shared/BENCH.md).
//
// loop_create_close creates an event loop (a fresh io_uring ring each time)
// and closes it, with no work run, and reports the two halves separately.
// The kernel finishes a ring's teardown later, in a workqueue that calls back
// into the creating thread (io_tctx_exit_cb, run at the thread's next
// syscall, usually the next ring's io_uring_setup), so a short run shows a
// cheaper ring than a long one: each benchmark iteration is a batch of
// 20,000 loops (5,000 for the variants), large enough that this deferred
// work is paid inside the figure. Figures are per loop. These rows ask for
// fresh rings (LoopOptions::reuse_ring = false), paced so that the kernel's
// teardown backlog stays bounded; loop_create_close/reused_ring and
// loop_run_noop use the default options (the thread's cached ring).
//
// loop_create_close_sustained/N: N create+close cycles back to back, then
// the wait until the kernel has freed the rings (the pacing's tracers all
// answered); any setup failure aborts the benchmark.

#include <liburing.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "aio/aio.hpp"
#include "aio/uring/ring.hpp"
#include "common.hpp"

namespace {

using Feature = aio::LoopOptions::Feature;
using TaskRun = aio::LoopOptions::TaskRun;

constexpr int kBatch = 20000;        // loops per benchmark iteration: the default loop
constexpr int kVariantBatch = 5000;  // the setup variants

struct Variant {
  const char* name;
  aio::LoopOptions options;
  int batch;
};

aio::LoopOptions make(TaskRun taskrun, Feature no_mmap, Feature no_sqarray, unsigned entries = 256) {
  aio::LoopOptions o;
  o.taskrun = taskrun;
  o.no_mmap = no_mmap;
  o.no_sqarray = no_sqarray;
  o.entries = entries;
  o.reuse_ring = false;
  return o;
}

aio::LoopOptions fresh_defaults() {
  aio::LoopOptions o;
  o.reuse_ring = false;
  return o;
}

void report_create_close(benchmark::State& state, int batch, double create_ns, double close_ns,
                         const std::string& flags) {
  const double n = static_cast<double>(state.iterations()) * batch;
  state.counters["create_ns"] = create_ns / n;
  state.counters["close_ns"] = close_ns / n;
  state.counters["total_ns"] = (create_ns + close_ns) / n;
  state.SetLabel(flags);
}

void loop_create_close(benchmark::State& state, aio::LoopOptions options, int batch) {
  std::string flags;
  {
    aio::EventLoop probe(options);  // first ring of the process: opcode probe, memory block
    flags = probe.ring_flags();
  }
  double create_ns = 0, close_ns = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      const std::int64_t t0 = bench::now_ns();
      aio::EventLoop loop(options);
      const std::int64_t t1 = bench::now_ns();
      loop.close();
      const std::int64_t t2 = bench::now_ns();
      create_ns += static_cast<double>(t1 - t0);
      close_ns += static_cast<double>(t2 - t1);
    }
  }
  report_create_close(state, batch, create_ns, close_ns, flags);
}

// The floor the issue compares with: liburing's own setup with its defaults
// (io_uring_queue_init(256, &ring, 0): kernel memory, three mmap()s).
void ring_create_close_liburing(benchmark::State& state) {
  double create_ns = 0, close_ns = 0;
  for (auto _ : state) {
    for (int i = 0; i < kVariantBatch; ++i) {
      io_uring ring;
      const std::int64_t t0 = bench::now_ns();
      bench::check(io_uring_queue_init(256, &ring, 0) == 0, "io_uring_queue_init");
      const std::int64_t t1 = bench::now_ns();
      io_uring_queue_exit(&ring);
      const std::int64_t t2 = bench::now_ns();
      create_ns += static_cast<double>(t1 - t0);
      close_ns += static_cast<double>(t2 - t1);
    }
  }
  report_create_close(state, kVariantBatch, create_ns, close_ns, "liburing io_uring_queue_init(256, 0)");
}

// The kernel's floor for a fresh ring: the two syscalls alone, with the
// default loop's flags and ring memory that is already mapped (one huge
// page, its io_rings header cleared before each setup; safe here only
// because no ring ever posts a CQE: a real loop cannot reuse the header
// page at once, see uring/src/ring_memory.hpp). What is left above this in
// loop_create_close is the loop's own work.
void ring_create_close_floor(benchmark::State& state) {
  constexpr std::size_t kBlock = std::size_t{2} << 20;
  void* raw = mmap(nullptr, 2 * kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bench::check(raw != MAP_FAILED, "mmap");
  char* block = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(raw) + kBlock - 1) & ~(kBlock - 1));
  madvise(block, kBlock, MADV_HUGEPAGE);
  std::memset(block, 0, kBlock);
  char* sqes = block;
  char* rings = block + 64 * 1024;
  const unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
                         IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE | aio::uring::kSetupNoMmap |
                         aio::uring::kSetupNoSqArray;
  double create_ns = 0, close_ns = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      std::memset(rings, 0, 4096);
      io_uring_params p{};
      p.flags = flags;
      p.cq_entries = 1024;
      p.sq_off.resv2 = reinterpret_cast<std::uintptr_t>(sqes);
      p.cq_off.resv2 = reinterpret_cast<std::uintptr_t>(rings);
      const std::int64_t t0 = bench::now_ns();
      const int fd = static_cast<int>(syscall(__NR_io_uring_setup, 256, &p));
      const std::int64_t t1 = bench::now_ns();
      bench::check(fd >= 0, "io_uring_setup (NO_MMAP needs Linux 6.5)");
      close(fd);
      const std::int64_t t2 = bench::now_ns();
      create_ns += static_cast<double>(t1 - t0);
      close_ns += static_cast<double>(t2 - t1);
    }
  }
  munmap(raw, 2 * kBlock);
  report_create_close(state, kBatch, create_ns, close_ns, "io_uring_setup + close only, default loop flags");
}

aio::Task<> noop() { co_return; }

// asyncio.run(noop()): a new loop, one coroutine that returns at once, close.
void loop_run_noop(benchmark::State& state, aio::LoopOptions options) {
  const std::int64_t t0 = bench::now_ns();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) aio::run(noop(), options);
  }
  state.counters["ns_per_run"] =
      static_cast<double>(bench::now_ns() - t0) / (static_cast<double>(state.iterations()) * kBatch);
}

void loop_create_close_sustained(benchmark::State& state, aio::LoopOptions options) {
  const auto n = static_cast<int>(state.range(0));
  double cycle_ns = 0, drain_ns = 0;
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    for (int i = 0; i < n; ++i) {
      aio::EventLoop loop(options);  // a setup failure throws: the benchmark aborts
      loop.close();
    }
    const std::int64_t t1 = bench::now_ns();
    // Until every traced ring is freed (fewer than one tracer's worth left).
    while (aio::uring::testing::rings_in_teardown() >= 128) usleep(1000);
    const std::int64_t t2 = bench::now_ns();
    cycle_ns += static_cast<double>(t1 - t0);
    drain_ns += static_cast<double>(t2 - t1);
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["ns_per_cycle"] = cycle_ns / (iters * n);
  state.counters["drain_ms"] = drain_ns / iters / 1e6;
  state.counters["ns_per_cycle_with_drain"] = (cycle_ns + drain_ns) / (iters * n);
  state.counters["failures"] = 0;
}

const bool registered = [] {
  // The default loop: the cheapest setup the running kernel accepts.
  benchmark::RegisterBenchmark("loop_create_close", loop_create_close, fresh_defaults(), kBatch)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loop_create_close/reused_ring", loop_create_close, aio::LoopOptions{}, kBatch)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loop_create_close_sustained", loop_create_close_sustained, fresh_defaults())
      ->Arg(100000)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loop_create_close_sustained/reused_ring", loop_create_close_sustained,
                               aio::LoopOptions{})
      ->Arg(100000)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  const Variant variants[] = {
      // One flag at a time on top of the classic setup (kernel memory, mmap()ed).
      {"loop_create_close/plain", make(TaskRun::plain, Feature::disabled, Feature::disabled), kVariantBatch},
      {"loop_create_close/coop_taskrun", make(TaskRun::cooperative, Feature::disabled, Feature::disabled),
       kVariantBatch},
      {"loop_create_close/single_issuer_defer_taskrun",
       make(TaskRun::defer, Feature::disabled, Feature::disabled), kVariantBatch},
      {"loop_create_close/no_sqarray", make(TaskRun::defer, Feature::disabled, Feature::required),
       kVariantBatch},
      {"loop_create_close/no_mmap", make(TaskRun::defer, Feature::required, Feature::disabled), kVariantBatch},
      {"loop_create_close/no_mmap_no_sqarray", make(TaskRun::defer, Feature::required, Feature::required),
       kVariantBatch},
      // Ring sizes, with the default flags.
      {"loop_create_close/entries:8", make(TaskRun::automatic, Feature::automatic, Feature::automatic, 8),
       kVariantBatch},
      {"loop_create_close/entries:4096",
       make(TaskRun::automatic, Feature::automatic, Feature::automatic, 4096), kVariantBatch},
      {"loop_create_close/entries:4096_kernel_memory",
       make(TaskRun::automatic, Feature::disabled, Feature::automatic, 4096), kVariantBatch},
  };
  for (const Variant& v : variants) {
    benchmark::RegisterBenchmark(v.name, loop_create_close, v.options, v.batch)->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("ring_create_close/liburing_defaults", ring_create_close_liburing)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("ring_create_close/kernel_floor", ring_create_close_floor)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loop_run_noop", loop_run_noop, aio::LoopOptions{})->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loop_run_noop/fresh_ring", loop_run_noop, fresh_defaults())
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
