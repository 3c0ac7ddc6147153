// Signals on the ring: add_signal_handler, remove_signal_handler, SigintGuard.
//
// A handler that wakes the ring works whatever thread the kernel picks (a
// signalfd would need the signal blocked in every thread, also in threads
// the program made). The async-signal-safe handler sets the signal's
// pending flag and writes the owning loop's eventfd; a read of that eventfd
// is armed on the loop's ring (an owner-held op), and its completion
// schedules the callbacks of the pending signals with call_soon.
#include "aio/detail/signals.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "aio/detail/io_op.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/event_loop.hpp"
#include "aio/uring/process_id.hpp"
#include "ops/counter_read.hpp"

namespace aio::detail {
namespace {

// Process-wide, read by the signal handler: lock-free atomics only.
struct Slot {
  std::atomic<int> wake_fd{-1};
  std::atomic<bool> pending{false};
  std::atomic<bool> oneshot{false};
};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);
Slot g_slots[NSIG];

void on_signal(int sig) {
  const int saved_errno = errno;
  Slot& s = g_slots[sig];
  if (s.oneshot.load(std::memory_order_relaxed)) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
  }
  s.pending.store(true, std::memory_order_release);
  const int fd = s.wake_fd.load(std::memory_order_acquire);
  if (fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);  // EAGAIN: already woken
  }
  errno = saved_errno;
}

// The Ctrl-C rule of aio::run (SigintGuard): at most one at a time, the
// main thread's. Its handler is one-shot, as the rule wants.
std::atomic<std::atomic<bool>*> g_rule_flag{nullptr};
std::atomic<int> g_rule_fd{-1};

void on_rule_signal(int) {
  const int saved_errno = errno;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);  // a second Ctrl-C ends the program as SIGINT does
  if (std::atomic<bool>* flag = g_rule_flag.load(std::memory_order_relaxed)) flag->store(true, std::memory_order_relaxed);
  const int fd = g_rule_fd.load(std::memory_order_acquire);
  if (fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
  }
  errno = saved_errno;
}

// The main thread is the one whose tid is the pid; cached per thread and
// process (a forked child's forking thread is its main thread).
bool on_main_thread() noexcept {
  thread_local pid_t cached_for = 0;
  thread_local bool is_main = false;
  const pid_t pid = uring::process_id();
  if (cached_for != pid) {
    is_main = ::gettid() == pid;
    cached_for = pid;
  }
  return is_main;
}

struct Registration {
  std::function<void()> callback;
  std::uint64_t id = 0;
  struct sigaction saved {};
};

// One per loop with handlers, created by its first add_signal_handler and
// freed when the loop closes (after its read's final CQE).
struct SignalSet final : LoopResource, OwnedOp {
  explicit SignalSet(LoopCore& l) : OwnedOp(&on_cqe, this), loop(l) {
    loop_closed = &on_loop_closed;
    efd = ::eventfd(0, EFD_CLOEXEC);  // blocking: see RemoteQueue::begin_wait
    if (efd < 0) throw std::system_error(errno, std::system_category(), "aio: eventfd");
  }
  ~SignalSet() { ::close(efd); }

  void arm() {
    prep_counter_read(OwnedOp::arm(loop), efd, &counter);
  }
  static void on_cqe(OwnedOp* op, int res, unsigned, bool final) noexcept;
  static void on_loop_closed(LoopResource* r) noexcept;
  void run(int sig, std::uint64_t id);

  LoopCore& loop;
  int efd = -1;
  std::uint64_t counter = 0;  // written by the kernel
  std::vector<Registration> regs = std::vector<Registration>(NSIG);
};

std::mutex g_mutex;  // the tables below and every sigaction made here
std::vector<std::pair<LoopCore*, SignalSet*>> g_sets;
LoopCore* g_owner[NSIG] = {};
SigintGuard* g_rule = nullptr;  // the Ctrl-C rule in force, if any

// With g_mutex held: the rule stops acting (its disposition is the caller's business).
void release_rule_locked() noexcept {
  g_rule_fd.store(-1, std::memory_order_release);
  g_rule_flag.store(nullptr, std::memory_order_relaxed);
  g_rule->loop_core().set_interrupt_hook(nullptr, nullptr);
  g_rule = nullptr;
}
std::uint64_t g_next_id = 1;

SignalSet* find_set(LoopCore& loop) {
  for (auto& [l, s] : g_sets) {
    if (l == &loop) return s;
  }
  return nullptr;
}

void check_signal(int sig) {
  if (sig < 1 || sig >= NSIG) throw ValueError("invalid signal number " + std::to_string(sig));
  if (sig == SIGKILL || sig == SIGSTOP) throw ValueError("sig " + std::to_string(sig) + " cannot be caught");
}

// With g_mutex held: back to the disposition the registration replaced.
void unregister(SignalSet& set, int sig) noexcept {
  Slot& s = g_slots[sig];
  ::sigaction(sig, &set.regs[sig].saved, nullptr);
  s.wake_fd.store(-1, std::memory_order_release);
  s.oneshot.store(false, std::memory_order_relaxed);
  s.pending.store(false, std::memory_order_relaxed);
  set.regs[sig] = Registration{};
  g_owner[sig] = nullptr;
}

void SignalSet::on_cqe(OwnedOp* op, int res, unsigned, bool final) noexcept {
  auto* self = static_cast<SignalSet*>(op);
  if (!final || self->loop.is_closed()) return;
  if (res < 0 && res != -EINTR && res != -ECANCELED && res != -EAGAIN) {
    std::fprintf(stderr, "aio: signal wake-up read failed: %s\n", std::strerror(-res));
    return;
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    const Registration& r = self->regs[sig];
    if (r.id == 0 || !g_slots[sig].pending.exchange(false, std::memory_order_acq_rel)) continue;
    const std::uint64_t id = r.id;
    try {
      self->loop.owner().call_soon([self, sig, id] { self->run(sig, id); });
    } catch (...) {
      g_slots[sig].pending.store(true, std::memory_order_relaxed);  // retried at the next wake-up
    }
  }
  try {
    self->arm();
  } catch (...) {
    std::fputs("aio: cannot re-arm the signal wake-up read\n", stderr);
  }
}

void SignalSet::run(int sig, std::uint64_t id) {
  // Removed or replaced since it arrived: the callback it was for is gone.
  if (regs[sig].id != id) return;
  std::function<void()> f = regs[sig].callback;  // the callback may remove itself
  f();
}

void SignalSet::on_loop_closed(LoopResource* r) noexcept {
  auto* self = static_cast<SignalSet*>(r);
  {
    std::lock_guard lock(g_mutex);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (self->regs[sig].id != 0) unregister(*self, sig);
    }
    std::erase_if(g_sets, [self](const auto& p) { return p.second == self; });
  }
  delete self;
}

}  // namespace

std::uint64_t add_signal_handler(LoopCore& loop, int sig, std::function<void()> f, bool oneshot) {
  check_signal(sig);
  if (loop.is_closed()) throw RuntimeError("aio: the event loop is closed");
  std::lock_guard lock(g_mutex);
  if (g_owner[sig] != nullptr && g_owner[sig] != &loop) {
    throw RuntimeError("aio: signal " + std::to_string(sig) + " is handled by another event loop");
  }
  SignalSet* set = find_set(loop);
  if (set == nullptr) {
    auto owned = std::make_unique<SignalSet>(loop);
    g_sets.reserve(g_sets.size() + 1);
    owned->arm();
    set = owned.release();
    g_sets.emplace_back(&loop, set);
    loop.add_resource(set);
  }
  Registration& r = set->regs[sig];
  Slot& s = g_slots[sig];
  if (r.id == 0) {
    struct sigaction sa {};
    sa.sa_handler = &on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    s.pending.store(false, std::memory_order_relaxed);
    s.wake_fd.store(set->efd, std::memory_order_release);
    s.oneshot.store(oneshot, std::memory_order_relaxed);
    if (::sigaction(sig, &sa, &r.saved) != 0) {
      const int e = errno;
      s.wake_fd.store(-1, std::memory_order_release);
      throw std::system_error(e, std::system_category(), "aio: sigaction");
    }
    if (sig == SIGINT && g_rule != nullptr) {
      // The loop's own SIGINT handler replaces aio::run's Ctrl-C rule; removing
      // it later restores what the rule found (SIG_DFL), not the rule.
      release_rule_locked();
      r.saved = {};
      r.saved.sa_handler = SIG_DFL;
    }
    g_owner[sig] = &loop;
  } else {
    s.oneshot.store(oneshot, std::memory_order_relaxed);
  }
  r.callback = std::move(f);
  r.id = g_next_id++;
  return r.id;
}

bool remove_signal_handler(LoopCore& loop, int sig, std::uint64_t id) {
  if (sig < 1 || sig >= NSIG) throw ValueError("invalid signal number " + std::to_string(sig));
  std::lock_guard lock(g_mutex);
  SignalSet* set = find_set(loop);
  if (set == nullptr || set->regs[sig].id == 0) return false;
  if (id != 0 && set->regs[sig].id != id) return false;
  unregister(*set, sig);
  return true;
}

SigintGuard::SigintGuard(LoopCore& loop, TaskBase& main) : loop_(&loop), main_(&main) {
  if (!on_main_thread()) return;  // asyncio: only the main thread
  std::lock_guard lock(g_mutex);
  if (g_owner[SIGINT] != nullptr) return;  // a loop's own handler stays in charge
  struct sigaction cur {};
  if (::sigaction(SIGINT, nullptr, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) != 0 || cur.sa_handler != SIG_DFL) {
    return;
  }
  // No SignalSet (an eventfd, a read on the ring, a table) for a rule that
  // every aio::run sets up: the handler raises the loop's interrupt flag and
  // writes the loop's own wake-up eventfd.
  g_rule_flag.store(&loop.interrupt_flag(), std::memory_order_relaxed);
  g_rule_fd.store(loop.wake_fd(), std::memory_order_release);
  loop.set_interrupt_hook(&SigintGuard::fire, this);
  struct sigaction sa {};
  sa.sa_handler = &on_rule_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGINT, &sa, nullptr) != 0) {  // the program runs without the rule rather than not at all
    g_rule_fd.store(-1, std::memory_order_release);
    g_rule_flag.store(nullptr, std::memory_order_relaxed);
    loop.set_interrupt_hook(nullptr, nullptr);
    return;
  }
  g_owner[SIGINT] = &loop;
  g_rule = this;
}

void SigintGuard::fire(void* self) {
  auto* g = static_cast<SigintGuard*>(self);
  g->interrupted_ = true;
  if (!g->main_->done()) g->main_->cancel({});
}

void SigintGuard::restore() noexcept {
  std::lock_guard lock(g_mutex);
  if (g_rule != this) return;  // never installed, already restored, or replaced by a handler of the loop's
  release_rule_locked();
  g_owner[SIGINT] = nullptr;
  // Back to SIG_DFL, unless something else took SIGINT meanwhile (asyncio:
  // only if getsignal() is still the runner's handler).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction was {};
  if (::sigaction(SIGINT, &dfl, &was) == 0 && (was.sa_flags & SA_SIGINFO) == 0 && was.sa_handler != &on_rule_signal &&
      was.sa_handler != SIG_DFL) {
    ::sigaction(SIGINT, &was, nullptr);
  }
}

void SigintGuard::rethrow_if_interrupted(TaskBase& main) {
  if (!interrupted_ || main.status() != TaskStatus::cancelled) return;
  if (main.uncancel() == 0) throw KeyboardInterrupt{};
}

}  // namespace aio::detail
