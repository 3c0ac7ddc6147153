// The loop's life: ring reuse, fresh-ring pacing, faults from the kernel's
// io_uring syscalls (injected through uring::testing), closing in awkward
// places (another thread, tiny rings, destructors that schedule work).

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
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
namespace ut = aio::uring::testing;

namespace {

/// The descriptors of this process that are io_uring rings.
std::set<int> ring_fds() {
  std::set<int> out;
  DIR* d = opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[128] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string(target, static_cast<std::size_t>(n)) == "anon_inode:[io_uring]") {
      out.insert(std::stoi(e->d_name));
    }
  }
  closedir(d);
  return out;
}

using test::in_child;

aio::LoopOptions fresh() {
  aio::LoopOptions o;
  o.reuse_ring = false;
  return o;
}

aio::Task<> noop() { co_return; }

aio::Task<std::size_t> read_some(int fd) {
  std::array<std::byte, 16> buf{};
  co_return co_await aio::read(fd, buf);
}

aio::Task<int> sleep_then(int v) {
  co_await aio::sleep(1ms);
  co_return v;
}

// Runs the loop until every task created so far had its first step (and so
// armed what it waits for).
void run_a_little(aio::EventLoop& loop) {
  loop.run_until_complete([]() -> aio::Task<> { co_await aio::sleep(0s); }());
}

}  // namespace

TEST_CASE("a closed loop's ring is kept for the thread's next loop with the same options", "[lifecycle][reuse]") {
  { aio::EventLoop warm; }  // whatever was cached before: now a default ring
  const std::set<int> cached = ring_fds();
  REQUIRE(!cached.empty());
  {
    aio::EventLoop loop;
    CHECK(ring_fds() == cached);  // the same ring, no new one
    CHECK(loop.run_until_complete(sleep_then(7)) == 7);
  }
  CHECK(ring_fds() == cached);
  {
    aio::LoopOptions small;
    small.entries = 8;
    aio::EventLoop other(small);  // other sizes: a fresh ring next to the cached one
    CHECK(ring_fds().size() == cached.size() + 1);
    CHECK(other.run_until_complete(sleep_then(8)) == 8);
  }
  {
    aio::EventLoop loop(fresh());  // reuse_ring = false: never the cached ring
    const std::set<int> now = ring_fds();
    CHECK(now.size() == cached.size() + 1);
  }
}

TEST_CASE("reuse_ring = false closes the ring with the loop", "[lifecycle][reuse]") {
  { aio::EventLoop warm; }
  const std::size_t before = ring_fds().size();
  {
    aio::EventLoop loop(fresh());
    CHECK(ring_fds().size() == before + 1);
    loop.run_until_complete(sleep_then(1));
  }
  CHECK(ring_fds().size() == before);
}

TEST_CASE("a reused ring delivers no stale completion after a loop closed with cancelled operations pending",
          "[lifecycle][reuse]") {
  { aio::EventLoop warm; }
  const std::set<int> cached = ring_fds();
  std::vector<std::unique_ptr<test::Pipe>> old_pipes;
  {
    aio::EventLoop loop;
    for (int i = 0; i < 50; ++i) {
      old_pipes.push_back(std::make_unique<test::Pipe>());
      (void)loop.create_task(read_some(old_pipes.back()->r));
      (void)loop.create_task([]() -> aio::Task<> { co_await aio::sleep(1h); }());
    }
    loop.call_soon_threadsafe([] {});
    run_a_little(loop);  // 50 reads, the timer and the eventfd read are in flight
    loop.close();
  }
  // The next loop gets the same ring; had a cancelled read survived, it would
  // consume the byte written now and complete into a freed frame.
  aio::EventLoop loop;
  CHECK(ring_fds() == cached);
  for (auto& p : old_pipes) p->put();
  test::Pipe fresh_pipe;
  auto reader = loop.create_task(read_some(fresh_pipe.r));
  auto sleeper = loop.create_task(sleep_then(3));
  run_a_little(loop);
  fresh_pipe.put('y');
  CHECK(loop.run_until_complete(std::move(reader)) == 1);
  CHECK(loop.run_until_complete(std::move(sleeper)) == 3);
  for (auto& p : old_pipes) CHECK(p->drain() == 1);  // nobody read the old pipes
}

TEST_CASE("a forked child never uses its parent's cached ring", "[lifecycle][reuse]") {
  { aio::EventLoop warm; }  // cached now, and inherited by the child
  const std::string out = in_child([] {
    // A single-issuer ring refuses any other task: the parent's would fail here.
    const int v = aio::run(sleep_then(5));
    test::Pipe p;
    aio::EventLoop loop;
    auto r = loop.create_task(read_some(p.r));
    run_a_little(loop);
    p.put();
    return std::to_string(v) + "/" + std::to_string(loop.run_until_complete(std::move(r)));
  });
  CHECK(out == "5/1");
}

TEST_CASE("a ring with something registered is not cached", "[lifecycle][reuse]") {
  // Through uring::Ring directly: what the runtime's loops register goes the same way.
  aio::uring::RingOptions o;
  o.reuse = true;
  o.entries = 16;
  std::set<int> with;
  {
    aio::uring::Ring ring(o);
    ring.note_registered();
    CHECK(!ring.quiesced());
    with = ring_fds();
  }
  const std::set<int> after = ring_fds();
  CHECK(after.size() == with.size() - 1);  // closed, not cached
  {
    aio::uring::Ring ring(o);
    CHECK(!ring.reused());
  }
  {
    aio::uring::Ring ring(o);  // the previous one was quiesced: cached, now reused
    CHECK(ring.reused());
  }
}

TEST_CASE("fresh rings back to back: the rings in kernel teardown stay bounded", "[lifecycle][pacing]") {
  // Each closed ring is freed by the kernel later (an RCU grace period per
  // ring): unpaced, the backlog grows with every cycle.
  unsigned most = 0;
  for (int i = 0; i < 4000; ++i) {
    aio::EventLoop loop(fresh());
    loop.close();
    if (i % 500 == 0) most = std::max(most, ut::rings_in_teardown());
  }
  most = std::max(most, ut::rings_in_teardown());
  CHECK(most <= 128 * 17);
}

TEST_CASE("fault injection: io_uring_setup failures give a clear error and leak nothing", "[lifecycle][fault]") {
  const std::string out = in_child([] {
    std::string r;
    const std::set<int> rings_before = ring_fds();
    for (int err : {ENOMEM, ENOSYS, EPERM}) {
      ut::inject_fault(ut::Syscall::setup, err, 1, 1);
      try {
        aio::EventLoop loop(fresh());
        r += "no exception;";
      } catch (const std::system_error& e) {
        r += std::to_string(e.code().value() == err) + ":" + e.what() + ";";
      }
    }
    ut::inject_fault(ut::Syscall::setup, 0);
    std::size_t added = 0;
    for (int fd : ring_fds()) added += rings_before.count(fd) == 0 ? 1 : 0;
    r += "rings leaked " + std::to_string(added);
    return r;
  });
  CHECK_THAT(out, Catch::Contains("1:io_uring_setup(entries=256, cq_entries=1024) failed: out of memory"));
  CHECK_THAT(out, Catch::Contains("1:io_uring_setup(entries=256, cq_entries=1024) failed: io_uring is not available"));
  CHECK_THAT(out, Catch::Contains("1:io_uring_setup(entries=256, cq_entries=1024) failed: io_uring is disabled"));
  CHECK_THAT(out, Catch::EndsWith("rings leaked 0"));
}

TEST_CASE("fault injection: ENOMEM while closed rings are being torn down is waited out", "[lifecycle][fault]") {
  const std::string out = in_child([] {
    { aio::EventLoop closed_one(fresh()); }  // a ring the kernel is still freeing
    ut::inject_fault(ut::Syscall::setup, ENOMEM, 1, 2);
    aio::EventLoop loop(fresh());
    const int v = loop.run_until_complete(sleep_then(4));
    return std::to_string(ut::injected_faults(ut::Syscall::setup)) + "/" + std::to_string(v);
  });
  CHECK(out == "2/4");
}

TEST_CASE("fault injection: io_uring_register failures reach the caller; a failed tracer does not stop fresh rings",
          "[lifecycle][fault]") {
  aio::uring::RingOptions o;
  o.entries = 16;
  aio::uring::Ring ring(o);
  ut::inject_fault(ut::Syscall::register_, EBUSY, 1, 1);
  alignas(8) unsigned char probe[4096] = {};
  CHECK(ring.register_raw(IORING_REGISTER_PROBE, probe, 64) == -EBUSY);
  CHECK(ring.register_raw(IORING_REGISTER_PROBE, probe, 64) == 0);
  // Every tracer registration of the fresh rings below fails: they still work.
  ut::inject_fault(ut::Syscall::register_, ENOMEM, 1, 1000);
  for (int i = 0; i < 300; ++i) {
    aio::EventLoop loop(fresh());
    if (i % 100 == 0) CHECK(loop.run_until_complete(sleep_then(i)) == i);
  }
  CHECK(ut::injected_faults(ut::Syscall::register_) >= 2);
  ut::inject_fault(ut::Syscall::register_, 0);
}

TEST_CASE("fault injection: EBUSY, EAGAIN and EINTR from io_uring_enter are retried", "[lifecycle][fault]") {
  for (int err : {EBUSY, EAGAIN, EINTR}) {
    aio::EventLoop loop;
    test::Pipe p;
    auto r = loop.create_task(read_some(p.r));
    run_a_little(loop);
    ut::inject_fault(ut::Syscall::enter, err, 1, 3);
    p.put();
    CHECK(loop.run_until_complete(std::move(r)) == 1);
    std::vector<aio::TaskHandle<int>> hs;
    for (int i = 0; i < 10; ++i) hs.push_back(loop.create_task(sleep_then(i)));
    int sum = 0;
    for (auto& h : hs) sum += loop.run_until_complete(std::move(h));
    CHECK(sum == 45);
    CHECK(ut::injected_faults(ut::Syscall::enter) == 3);
    ut::inject_fault(ut::Syscall::enter, 0);
  }
}

TEST_CASE("a CQ far smaller than the work: 100,000 completions pending drain with nothing lost",
          "[lifecycle][fault]") {
  aio::LoopOptions o;
  o.entries = 8;
  o.cq_entries = 8;
  aio::EventLoop loop(o);
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE(devnull >= 0);
  static const std::array<std::byte, 1> one{};
  const auto writer = [](int fd) -> aio::Task<std::size_t> { co_return co_await aio::write(fd, one); };
  std::vector<aio::TaskHandle<std::size_t>> hs;
  hs.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) hs.push_back(loop.create_task(writer(devnull)));
  std::size_t total = 0;
  for (auto& h : hs) total += loop.run_until_complete(std::move(h));
  ::close(devnull);
  CHECK(total == 100'000);
}

TEST_CASE("close() of a loop with entries = 1, cq_entries = 1 and many reads pending returns", "[lifecycle][close]") {
  aio::LoopOptions o;
  o.entries = 1;
  o.cq_entries = 1;
  std::vector<std::unique_ptr<test::Pipe>> pipes;
  aio::EventLoop loop(o);
  std::vector<aio::TaskHandle<std::size_t>> hs;
  for (int i = 0; i < 100; ++i) {
    pipes.push_back(std::make_unique<test::Pipe>());
    hs.push_back(loop.create_task(read_some(pipes.back()->r)));
  }
  run_a_little(loop);
  loop.close();  // spun for ever before: one cancel-all per reaped CQE
  for (auto& h : hs) CHECK(h.cancelled());
}

TEST_CASE("a kernel without IORING_ASYNC_CANCEL_ANY or IORING_TIMEOUT_UPDATE is refused at loop creation",
          "[lifecycle][setup]") {
  for (unsigned f : {ut::kFeatureCancelAny, ut::kFeatureTimeoutUpdate}) {
    const std::string out = in_child([f] {
      ut::simulate_missing_features(f);
      try {
        aio::EventLoop loop;
      } catch (const std::system_error& e) {
        return std::to_string(e.code().value() == EOPNOTSUPP) + ":" + e.what();
      }
      return std::string("no exception");
    });
    if (f == ut::kFeatureCancelAny) {
      CHECK_THAT(out, Catch::StartsWith("1:") && Catch::Contains("IORING_ASYNC_CANCEL_ANY") &&
                          Catch::Contains("Linux 5.19"));
    } else {
      CHECK_THAT(out, Catch::StartsWith("1:") && Catch::Contains("IORING_TIMEOUT_UPDATE") &&
                          Catch::Contains("Linux 5.11"));
    }
  }
}

TEST_CASE("closing a loop on another thread with reads pending is a RuntimeError, then closes on its own",
          "[lifecycle][thread]") {
  test::Pipe p;
  aio::EventLoop loop;
  auto r = loop.create_task(read_some(p.r));
  run_a_little(loop);
  bool threw = false;
  std::thread([&] {
    try {
      loop.close();
    } catch (const aio::RuntimeError& e) {
      threw = std::string(e.what()).find("thread that created it") != std::string::npos;
    }
  }).join();
  CHECK(threw);
  CHECK(!loop.is_closed());
  std::thread([&] { CHECK_THROWS_AS(loop.run_until_complete(noop()), aio::RuntimeError); }).join();
  loop.close();
  CHECK(r.cancelled());
}

TEST_CASE("a loop destroyed on another thread with reads pending reports and does not terminate",
          "[lifecycle][thread]") {
  const std::string out = in_child([] {
    auto p = std::make_unique<test::Pipe>();
    auto loop = std::make_unique<aio::EventLoop>();
    (void)loop->create_task(read_some(p->r));
    run_a_little(*loop);
    test::StderrCapture err;
    std::thread([&] { loop.reset(); }).join();
    return err.text();
  });
  CHECK_THAT(out, Catch::Contains("~EventLoop") && Catch::Contains("leaked"));
}

TEST_CASE("a loop with nothing in flight, or not single-issuer, can be closed on another thread",
          "[lifecycle][thread]") {
  aio::EventLoop idle;
  idle.run_until_complete(noop());  // never waited: nothing armed on the ring
  std::thread([&] { idle.close(); }).join();
  CHECK(idle.is_closed());

  aio::LoopOptions coop;
  coop.taskrun = aio::LoopOptions::TaskRun::cooperative;
  test::Pipe p;
  aio::EventLoop loop(coop);
  auto r = loop.create_task(read_some(p.r));
  run_a_little(loop);
  std::thread([&] { loop.close(); }).join();  // any thread may cancel on a cooperative ring
  CHECK(r.cancelled());
}

// UBSan's vptr check reads /proc/self/maps when the exception is made: with no
// descriptor left it reports a false error. Run in the plain builds only.
#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("the wake-up eventfd is made at loop creation: no descriptor left is a creation error",
          "[lifecycle][setup]") {
  const std::string out = in_child([] {
    { aio::EventLoop drop_inherited(fresh()); }  // the parent's cached ring goes (not the child's)
    std::vector<int> held;
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      held.push_back(fd);
    }
    ::close(held.back());  // room for the ring, none for the eventfd
    held.pop_back();
    std::string r;
    const auto release = [&] {
      for (int fd : held) ::close(fd);  // first: the sanitizers' checks need descriptors too
      held.clear();
    };
    try {
      aio::EventLoop loop(fresh());
      release();
      r = "no exception";
    } catch (const std::system_error& e) {
      release();
      r = std::to_string(e.code().value() == EMFILE) + ":" + e.what();
    }
    r += "|" + std::to_string(aio::run(sleep_then(6)));
    return r;
  });
  CHECK_THAT(out, Catch::StartsWith("1:") && Catch::Contains("eventfd") && Catch::EndsWith("|6"));
}

#endif

TEST_CASE("a cancelled call_later drops its callable at once and leaves the timers", "[lifecycle][timers]") {
  aio::EventLoop loop;
  auto token = std::make_shared<int>(0);
  std::vector<aio::CallbackHandle> hs;
  for (int i = 0; i < 1000; ++i) hs.push_back(loop.call_later(1h, [token] {}));
  CHECK(token.use_count() == 1001);
  CHECK(aio::detail::core_of(loop).timer_count() == 1000);
  for (auto& h : hs) h.cancel();
  CHECK(token.use_count() == 1);  // the handles are still held
  CHECK(aio::detail::core_of(loop).timer_count() == 0);
  CHECK(aio::detail::core_of(loop).timer_footprint() <= 1);
  bool ran = false;
  aio::CallbackHandle self;
  auto witness = std::make_shared<int>(1);
  self = loop.call_soon([&ran, &self, witness] {
    self.cancel();  // cancelling itself while it runs keeps the callable alive until it returns
    ran = *witness == 1;
  });
  loop.run_until_complete(noop());
  CHECK(ran);
  CHECK(hs.front().cancelled());
}

TEST_CASE("a primitive destroyed while a task waits on it, the task cancelled later", "[lifecycle][waiters]") {
  aio::EventLoop loop;
  auto q = std::make_unique<aio::Queue<int>>();
  auto ev = std::make_unique<aio::Event>();
  auto lock = std::make_unique<aio::Lock>();
  auto cond = std::make_unique<aio::Condition>();
  loop.run_until_complete([](aio::Lock& l) -> aio::Task<> { co_await l.acquire(); }(*lock));
  auto a = loop.create_task([](aio::Queue<int>& q) -> aio::Task<> { (void)co_await q.get(); }(*q));
  auto b = loop.create_task([](aio::Event& e) -> aio::Task<> { co_await e.wait(); }(*ev));
  auto c = loop.create_task([](aio::Lock& l) -> aio::Task<> { co_await l.acquire(); }(*lock));
  auto d = loop.create_task([](aio::Condition& cv) -> aio::Task<> {
    co_await cv.acquire();
    co_await cv.wait();
  }(*cond));
  run_a_little(loop);
  q.reset();
  ev.reset();
  lock.reset();
  cond.reset();
  a.cancel();
  b.cancel();
  c.cancel();
  d.cancel();
  for (auto* h : {&a, &b, &c, &d}) CHECK_THROWS_AS(loop.run_until_complete(std::move(*h)), aio::CancelledError);
}

TEST_CASE("aio::run's shutdown cancels a task waiting on an Event main's frame destroyed", "[lifecycle][waiters]") {
  const int v = aio::run([]() -> aio::Task<int> {
    auto ev = std::make_unique<aio::Event>();
    (void)aio::get_running_loop().create_task([](aio::Event& e) -> aio::Task<> { co_await e.wait(); }(*ev));
    co_await aio::sleep(0s);
    co_return 9;  // ev goes with main's frame; the waiter is cancelled at shutdown
  }());
  CHECK(v == 9);
}

namespace {
struct SchedulesOnDestroy {
  aio::EventLoop* loop;
  int* destroyed;
  ~SchedulesOnDestroy() {
    loop->call_soon([] {});
    (void)loop->call_later(1s, [] {});
    (void)loop->create_task(noop());
    ++*destroyed;
  }
};
}  // namespace

TEST_CASE("a frame destructor that schedules work during close() does not throw", "[lifecycle][close]") {
  int destroyed = 0;
  test::Pipe p;
  {
    aio::EventLoop loop;
    (void)loop.create_task([](aio::EventLoop& l, int& n, int fd) -> aio::Task<> {
      SchedulesOnDestroy guard{&l, &n};
      (void)co_await read_some(fd);
    }(loop, destroyed, p.r));
    run_a_little(loop);
    loop.close();
    CHECK_THROWS_AS(loop.call_soon([] {}), aio::RuntimeError);
  }
  CHECK(destroyed == 1);
}

// The engine's state is reachable only through its operations: a user's
// EventLoop gives no handle on it, and LoopCore's fields are private.
template <class L>
concept ExposesCore = requires(L& l) { l.core(); };
template <class C>
concept ExposesClosedFlag = requires(C& c) { c.closed = true; };
template <class C>
concept ExposesTimerHeap = requires(C& c) { c.timers; };
static_assert(!ExposesCore<aio::EventLoop>);
static_assert(!ExposesClosedFlag<aio::detail::LoopCore>);
static_assert(!ExposesTimerHeap<aio::detail::LoopCore>);

TEST_CASE("a closed loop refuses work through the core's one check", "[lifecycle]") {
  aio::EventLoop loop;
  aio::detail::LoopCore& core = aio::detail::core_of(loop);
  CHECK(core.accepts_work());
  CHECK_FALSE(core.is_closed());
  loop.close();
  CHECK(core.is_closed());
  CHECK_FALSE(core.accepts_work());
  CHECK_FALSE(core.has_driver());
  CHECK_THROWS_AS(loop.call_soon([] {}), aio::RuntimeError);
}
