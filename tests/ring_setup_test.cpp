// Ring setup failures become one clear exception naming the cause. The
// kernel's refusals are produced for real: a child process installs a seccomp
// filter that makes io_uring_setup fail as a kernel without io_uring
// (ENOSYS) or with it disabled (EPERM) does.

#include <catch2/catch.hpp>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "process_util.hpp"
#include "aio/uring/ring.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

void forbid_io_uring_setup(int err) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    _exit(77);
  }
}

using test::in_child;

/// Creates an EventLoop in a child whose io_uring_setup fails with `err`;
/// returns "<errno>:<what()>" of the exception the child caught.
std::string loop_error_without_io_uring(int err) {
  return in_child([err] {
    forbid_io_uring_setup(err);
    try {
      aio::EventLoop loop;
    } catch (const std::system_error& e) {
      return std::to_string(e.code().value()) + ":" + e.what();
    }
    return std::string("no exception");
  });
}

}  // namespace

TEST_CASE("a kernel without io_uring gives a clear ENOSYS error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(ENOSYS);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(ENOSYS) + ":") &&
                      Catch::Contains("io_uring is not available in this kernel"));
}

TEST_CASE("io_uring disabled by sysctl or seccomp gives a clear EPERM error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(EPERM);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(EPERM) + ":") &&
                      Catch::Contains("kernel.io_uring_disabled"));
}

TEST_CASE("a ring the kernel cannot allocate gives a clear ENOMEM error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(ENOMEM);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(ENOMEM) + ":") && Catch::Contains("RLIMIT_MEMLOCK"));
}

// -- setup variants: NO_MMAP with loop-provided memory, NO_SQARRAY, task-run modes

namespace {

bool has_flag(const std::string& flags, const std::string& name) {
  return ("|" + flags + "|").find("|" + name + "|") != std::string::npos;
}

/// A little of everything: a pipe written after a sleep and read, yields
/// across a gather of tasks, one timer each.
aio::Task<int> workout(int rfd, int wfd) {
  auto writer = [](int fd) -> aio::Task<std::size_t> {
    co_await aio::sleep(1ms);
    std::array<std::byte, 64> data{};
    co_return co_await aio::write(fd, std::span<const std::byte>(data));
  };
  auto reader = [](int fd) -> aio::Task<std::size_t> {
    std::array<std::byte, 128> buf{};
    co_return co_await aio::read(fd, std::span<std::byte>(buf));
  };
  auto yielders = []() -> aio::Task<int> {
    auto yielder = [](int i) -> aio::Task<int> {
      for (int k = 0; k < 10; ++k) co_await aio::sleep(0ms);
      co_await aio::sleep(std::chrono::microseconds(100 * i));
      co_return i;
    };
    std::vector<aio::Task<int>> ys;
    for (int i = 0; i < 20; ++i) ys.push_back(yielder(i));
    auto values = co_await aio::gather(std::move(ys));
    int total = 0;
    for (int v : values) total += v;
    co_return total;
  };
  auto [got, put, total] = co_await aio::gather(reader(rfd), writer(wfd), yielders());
  co_return static_cast<int>(got) + static_cast<int>(put) + total;  // 64 + 64 + 190
}

constexpr int kWorkout = 64 + 64 + 190;

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

}  // namespace

TEST_CASE("every ring setup variant the kernel accepts runs tasks; a required one it refuses is a clear error",
          "[uring][setup]") {
  using F = aio::LoopOptions::Feature;
  using TR = aio::LoopOptions::TaskRun;
  for (F mm : {F::automatic, F::required, F::disabled}) {
    for (F sa : {F::automatic, F::required, F::disabled}) {
      for (TR tr : {TR::automatic, TR::cooperative}) {
        for (unsigned entries : {4u, 256u}) {
          aio::LoopOptions options;
          options.no_mmap = mm;
          options.no_sqarray = sa;
          options.taskrun = tr;
          options.entries = entries;
          INFO("no_mmap " << int(mm) << " no_sqarray " << int(sa) << " taskrun " << int(tr) << " entries "
                          << entries);
          std::unique_ptr<aio::EventLoop> loop;
          try {
            loop = std::make_unique<aio::EventLoop>(options);
          } catch (const std::system_error& e) {
            // Only a kernel older than 6.5/6.6 refuses, and only a required flag is an error.
            REQUIRE((mm == F::required || sa == F::required));
            CHECK(e.code().value() == EINVAL);
            CHECK_THAT(e.what(), Catch::Contains("refuses") && Catch::Contains("IORING_SETUP_NO_"));
            continue;
          }
          const std::string flags = loop->ring_flags();
          INFO("flags: " << flags);
          if (mm == F::required) CHECK(has_flag(flags, "NO_MMAP"));
          if (mm == F::disabled) CHECK_FALSE(has_flag(flags, "NO_MMAP"));
          if (sa == F::required) CHECK(has_flag(flags, "NO_SQARRAY"));
          if (sa == F::disabled) CHECK_FALSE(has_flag(flags, "NO_SQARRAY"));
          test::Pipe p;
          CHECK(loop->run_until_complete(workout(p.r, p.w)) == kWorkout);
          loop->close();
        }
      }
    }
  }
}

TEST_CASE("a kernel that refuses NO_MMAP and NO_SQARRAY: automatic falls back, required is a clear error",
          "[uring][setup]") {
  const std::string out = in_child([] {
    aio::uring::testing::simulate_refused_setup_flags(aio::uring::kSetupNoMmap | aio::uring::kSetupNoSqArray);
    std::string r;
    {
      aio::EventLoop loop;
      const std::string flags = loop.ring_flags();
      r += has_flag(flags, "NO_MMAP") || has_flag(flags, "NO_SQARRAY") ? "[flags " + flags + "]" : "fallback ";
      test::Pipe p;
      r += loop.run_until_complete(workout(p.r, p.w)) == kWorkout ? "ran " : "wrong ";
    }
    for (int which = 0; which < 2; ++which) {
      aio::LoopOptions options;
      (which == 0 ? options.no_mmap : options.no_sqarray) = aio::LoopOptions::Feature::required;
      try {
        aio::EventLoop loop(options);
        r += "[created] ";
      } catch (const std::system_error& e) {
        r += std::to_string(e.code().value()) + ":" + e.what() + " ";
      }
    }
    return r;
  });
  CHECK_THAT(out, Catch::StartsWith("fallback ran "));
  CHECK_THAT(out, Catch::Contains(std::to_string(EINVAL) + ":") &&
                      Catch::Contains("refuses IORING_SETUP_NO_MMAP (ring memory provided by the application, "
                                      "Linux 6.5 or later)"));
  CHECK_THAT(out, Catch::Contains("refuses IORING_SETUP_NO_SQARRAY (Linux 6.6 or later)"));
}

TEST_CASE("loops created one after another each get a clean ring and leak nothing", "[uring][setup]") {
  // The kernel tears a ring down after close() returned and still writes its
  // CQ tail then: ring memory handed to the next loop too early shows up
  // here as garbage completions or a loop that never ends.
  {
    aio::EventLoop warm;  // the thread's memory block, the opcode probe
  }
  const std::size_t fds = open_fds();
  for (int i = 0; i < 200; ++i) {
    aio::EventLoop loop;
    test::Pipe p;
    REQUIRE(loop.run_until_complete(workout(p.r, p.w)) == kWorkout);
  }
  CHECK(open_fds() == fds);
}

TEST_CASE("loops alive at once on one thread each have their own ring memory", "[uring][setup]") {
  std::vector<std::unique_ptr<aio::EventLoop>> loops;
  for (unsigned entries : {256u, 8u, 1024u, 256u, 4096u, 16384u /* larger than the arena block */}) {
    aio::LoopOptions options;
    options.entries = entries;
    loops.push_back(std::make_unique<aio::EventLoop>(options));
  }
  for (int round = 0; round < 2; ++round) {
    for (auto& loop : loops) {
      test::Pipe p;
      CHECK(loop->run_until_complete(workout(p.r, p.w)) == kWorkout);
    }
  }
  while (!loops.empty()) loops.erase(loops.begin() + static_cast<std::ptrdiff_t>(loops.size() / 2));
  aio::EventLoop after;
  test::Pipe p;
  CHECK(after.run_until_complete(workout(p.r, p.w)) == kWorkout);
}

TEST_CASE("a ring torn down with an operation in flight does not hand its memory to the next ring",
          "[uring][setup]") {
  struct Hit : aio::uring::Completion {
    int count = 0;
    int res = 0;
  };
  test::Pipe p;
  Hit orphan;
  orphan.complete = [](aio::uring::Completion* c, int res, unsigned) noexcept {
    static_cast<Hit*>(c)->count++;
    static_cast<Hit*>(c)->res = res;
  };
  {
    aio::uring::Ring first;
    first.poll_add(p.r, POLLIN, &orphan);
    first.submit();
    CHECK(first.in_flight() == 1);
  }  // the kernel cancels the poll in its deferred teardown; nobody reaps it
  for (int i = 0; i < 3; ++i) {
    aio::uring::Ring next;
    Hit nop;
    nop.complete = orphan.complete;
    next.nop(&nop);
    next.submit_and_wait();
    CHECK(next.reap() == 1);
    CHECK(nop.count == 1);
    p.put();
    CHECK(p.drain() == 1);
  }
  CHECK(orphan.count == 0);
}

TEST_CASE("a loop may outlive the thread that created it", "[uring][setup]") {
  std::unique_ptr<aio::EventLoop> loop;
  std::thread t([&] {
    aio::LoopOptions options;
    options.taskrun = aio::LoopOptions::TaskRun::plain;  // used by another thread afterwards
    loop = std::make_unique<aio::EventLoop>(options);
    test::Pipe p;
    CHECK(loop->run_until_complete(workout(p.r, p.w)) == kWorkout);
  });
  t.join();
  test::Pipe p;
  CHECK(loop->run_until_complete(workout(p.r, p.w)) == kWorkout);
  loop.reset();
  aio::EventLoop mine;
  CHECK(mine.run_until_complete(workout(p.r, p.w)) == kWorkout);
}
