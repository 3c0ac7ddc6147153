// The files and subprocesses workloads of ../shared/BENCH.md:
//
//   file_read/10000         10,000 reads of 4 KiB at random (4 KiB-aligned)
//                           offsets of a 64 MiB file in the page cache, 64 in
//                           flight, with aio::File::read_at
//   file_read_pread/10000   the same offsets read by a plain pread(2) loop:
//                           the reference file_read is measured against
//   subprocess_spawn/1000   1,000 x create_subprocess_exec("/bin/true") +
//                           wait(), 16 at a time
//
// The 64 MiB file is written once per process under $TMPDIR (default /tmp)
// and read through once before any timing, so every read hits the page
// cache. Every run checks that it did all the work it defines.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

namespace {

constexpr std::size_t kFileBytes = 64u << 20;
constexpr std::size_t kBlock = 4096;
constexpr std::size_t kInFlight = 64;
constexpr std::size_t kSpawnsAtOnce = 16;

/// The 64 MiB file, created and cached on first use, removed at exit.
struct CachedFile {
  std::string path;
  int fd = -1;

  CachedFile() {
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/aio-bench-file_read-XXXXXX";
    fd = ::mkstemp(path.data());
    bench::check(fd >= 0, "file_read: mkstemp");
    std::vector<unsigned char> chunk(1 << 20);
    std::mt19937_64 rng(1);
    for (std::size_t off = 0; off < kFileBytes; off += chunk.size()) {
      for (auto& b : chunk) b = static_cast<unsigned char>(rng());
      bench::check(::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) ==
                       static_cast<ssize_t>(chunk.size()),
                   "file_read: writing the file");
    }
    // Read it all once: from here every 4 KiB page is in the page cache.
    for (std::size_t off = 0; off < kFileBytes; off += chunk.size()) {
      bench::check(::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) ==
                       static_cast<ssize_t>(chunk.size()),
                   "file_read: reading the file");
    }
  }
  ~CachedFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
};

CachedFile& cached_file() {
  static CachedFile f;
  return f;
}

/// N random block-aligned offsets, the same for aio and the pread loop.
std::vector<std::uint64_t> offsets(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> block(0, kFileBytes / kBlock - 1);
  std::vector<std::uint64_t> v(n);
  for (auto& o : v) o = block(rng) * kBlock;
  return v;
}

struct ReadRun {
  const std::vector<std::uint64_t>* offsets = nullptr;
  std::size_t next = 0;  // the next offset to read
  std::size_t bytes = 0;
};

aio::Task<> reader(const aio::File& f, ReadRun& run) {
  std::vector<std::byte> buf(kBlock);
  while (run.next < run.offsets->size()) {
    const std::uint64_t off = (*run.offsets)[run.next++];
    run.bytes += co_await f.read_at(buf, off);
  }
}

aio::Task<> read_all(ReadRun& run) {
  aio::File f(cached_file().fd);
  std::vector<aio::Task<>> readers;
  for (std::size_t i = 0; i < kInFlight; ++i) readers.push_back(reader(f, run));
  try {
    co_await aio::gather(std::move(readers));
  } catch (...) {
    bench::fail("file_read: a read failed");
  }
  f.release();  // the file stays open for the next run
}

void report_reads(benchmark::State& state, std::size_t n, std::int64_t ns) {
  const double secs = static_cast<double>(ns) / 1e9;
  state.counters["reads_per_s"] = static_cast<double>(n) / secs;
  state.counters["ns_per_read"] = static_cast<double>(ns) / static_cast<double>(n);
}

void file_read(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint64_t> offs = offsets(n);
  cached_file();
  std::int64_t total = 0;
  std::size_t reads = 0;
  for (auto _ : state) {
    ReadRun run{&offs};
    const std::int64_t t0 = bench::now_ns();
    aio::run(read_all(run));
    total += bench::now_ns() - t0;
    bench::check(run.next == n && run.bytes == n * kBlock, "file_read: not every read was a full 4 KiB");
    reads += n;
  }
  report_reads(state, reads, total);
}

void file_read_pread(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint64_t> offs = offsets(n);
  const int fd = cached_file().fd;
  std::vector<std::byte> buf(kBlock);
  std::int64_t total = 0;
  std::size_t reads = 0;
  for (auto _ : state) {
    std::size_t bytes = 0;
    const std::int64_t t0 = bench::now_ns();
    for (const std::uint64_t off : offs) {
      const ssize_t r = ::pread(fd, buf.data(), kBlock, static_cast<off_t>(off));
      if (r > 0) bytes += static_cast<std::size_t>(r);
    }
    total += bench::now_ns() - t0;
    benchmark::DoNotOptimize(buf.data());
    bench::check(bytes == n * kBlock, "file_read_pread: not every read was a full 4 KiB");
    reads += n;
  }
  report_reads(state, reads, total);
}

struct SpawnRun {
  std::size_t n = 0;
  std::size_t started = 0;
  std::size_t ok = 0;  // children that exited 0
};

aio::Task<> spawner(SpawnRun& run) {
  const std::vector<std::string> no_args;
  while (run.started < run.n) {
    ++run.started;
    aio::Process p = co_await aio::create_subprocess_exec("/bin/true", no_args);
    if (co_await p.wait() == 0) ++run.ok;
  }
}

aio::Task<> spawn_all(SpawnRun& run) {
  std::vector<aio::Task<>> spawners;
  for (std::size_t i = 0; i < kSpawnsAtOnce; ++i) spawners.push_back(spawner(run));
  try {
    co_await aio::gather(std::move(spawners));
  } catch (...) {
    bench::fail("subprocess_spawn: a spawn failed");
  }
}

void subprocess_spawn(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::int64_t total = 0;
  std::size_t spawns = 0;
  for (auto _ : state) {
    SpawnRun run{n};
    const std::int64_t t0 = bench::now_ns();
    aio::run(spawn_all(run));
    total += bench::now_ns() - t0;
    bench::check(run.ok == n, "subprocess_spawn: not every child ran and exited 0");
    spawns += n;
  }
  const double secs = static_cast<double>(total) / 1e9;
  state.counters["spawns_per_s"] = static_cast<double>(spawns) / secs;
  state.counters["us_per_spawn"] = secs * 1e6 / static_cast<double>(spawns);
}

}  // namespace

BENCHMARK(file_read)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(file_read_pread)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(subprocess_spawn)->Arg(1'000)->UseRealTime()->Unit(benchmark::kMillisecond);
