#include "aio/detail/loop_core.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "aio/event_loop.hpp"
#include "driver.hpp"
#include "net/net_context.hpp"
#include "thread_pool.hpp"

namespace aio::detail {
namespace {

bool debug_from_env() {
  const char* v = std::getenv("AIO_DEBUG");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

// Marks the loop as the one running on this thread for a scope.
class LoopCore::RunningScope {
 public:
  explicit RunningScope(LoopCore& loop) : loop_(loop) {
    if (loop.closed_) throw RuntimeError("Event loop is closed");
    if (loop.running_) throw RuntimeError("This event loop is already running");
    if (std::this_thread::get_id() != loop.creator_ &&
        (loop.driver_->ring.setup_flags() & IORING_SETUP_SINGLE_ISSUER) != 0) {
      throw RuntimeError(
          "aio: this event loop's ring accepts work only from the thread that created it "
          "(IORING_SETUP_SINGLE_ISSUER): run it there, or create it with "
          "LoopOptions::TaskRun::cooperative");
    }
    if (tls_running_loop != nullptr) {
      throw RuntimeError("Cannot run the event loop while another loop is running");
    }
    loop.running_ = true;
    loop.running_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    tls_running_loop = &loop;
  }
  ~RunningScope() {
    loop_.running_thread_.store(std::thread::id(), std::memory_order_relaxed);
    loop_.running_ = false;
    tls_running_loop = nullptr;
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  LoopCore& loop_;
};

LoopCore::LoopCore(const LoopOptions& options, EventLoop* owner) : owner_(owner) {
  uring::RingOptions ring_options;
  ring_options.entries = options.entries;
  ring_options.cq_entries = options.cq_entries;
  ring_options.taskrun = options.taskrun;
  ring_options.no_mmap = options.no_mmap;
  ring_options.no_sqarray = options.no_sqarray;
  ring_options.reuse = options.reuse_ring;
  driver_ = std::make_unique<Driver>(ring_options);
  remote_.open(options.reuse_ring && driver_->ring.reused());
  debug_ = options.debug ? *options.debug : debug_from_env();
}

LoopCore::~LoopCore() { close(); }

void LoopCore::run_once() {
  check_interrupt();  // a SIGINT that woke the wait
  if (remote_.pending()) remote_.take_into(ready_);
  Runnable* batch = ready_.take_all();
  for (Runnable* r = batch; r != nullptr;) {
    Runnable* next = r->next_ready;  // r may be freed or rescheduled by its step
    r->perform(r, Runnable::Action::run);
    // A SIGINT raised during that step acts before the next one, as Python
    // runs its handler at once (asyncio's Runner cancels main right there).
    check_interrupt();
    r = next;
  }
  if (presubmit_ != nullptr) run_presubmit();

  uring::Ring& ring = driver_->ring;
  if (!ready_.empty() || goal_reached() || (!timers_.empty() && timers_.earliest() <= now())) {
    ring.submit();  // no syscall unless SQEs are queued or the kernel holds completions
  } else {
    wait_for_work();
  }
  ring.reap();

  if (!timers_.empty()) {
    const std::int64_t t = now();
    while (TimerNode* n = timers_.pop_due(t)) n->on_due(n, TimerNode::Action::fire);
  }
}

void LoopCore::run_presubmit() noexcept {
  while (PreSubmit* p = presubmit_) {
    presubmit_ = p->next_presubmit;
    p->presubmit_queued = false;
    p->run(p);
  }
}

void LoopCore::wait_for_work() {
  uring::Ring& ring = driver_->ring;
  if (!timers_.empty()) driver_->arm_timer(timers_.earliest());
  const int wake_fd = remote_.begin_wait();
  if (wake_fd < 0) {  // another thread posted meanwhile: no wait
    ring.submit();
    return;
  }
  try {
    driver_->arm_wake(wake_fd);
    ring.submit_and_wait();
  } catch (...) {
    remote_.end_wait();
    throw;
  }
  remote_.end_wait();
}

void LoopCore::run_until_done(TaskBase& task) {
  RunningScope scope(*this);
  goal_ = &task;
  while (!task.done()) run_once();
}

void LoopCore::cancel_remaining() {
  if (closed_ || live_.empty()) return;
  live_.for_each([](TaskBase* t) { t->cancel({}); });
  RunningScope scope(*this);
  goal_ = nullptr;
  while (!live_.empty()) run_once();
}

void LoopCore::drop_ready() noexcept {
  for (Runnable* r = ready_.take_all(); r != nullptr;) {
    Runnable* next = r->next_ready;
    r->perform(r, Runnable::Action::drop);
    r = next;
  }
}

void LoopCore::cancel_in_flight() {
  // The in-flight rule: until its CQE arrives the kernel may write into an
  // operation's memory (a frame of some task), so every operation is
  // cancelled and reaped before any frame is destroyed. One cancel-all,
  // then waits that also flush overflowed CQEs (a CQ of one entry drains one
  // CQE per wait); the cancel is repeated only when a wait brings nothing
  // (an operation that was being set up when it came).
  uring::Ring& ring = driver_->ring;
  if (ring.in_flight() == 0) return;
  ring.cancel_all();
  constexpr std::int64_t kPollNs = 100'000'000;
  int idle = 0;
  while (ring.in_flight() > 0) {
    const bool got = ring.submit_and_wait_for(kPollNs);
    ring.reap();
    if (got || ring.in_flight() == 0) {
      idle = 0;
      continue;
    }
    if (++idle % 50 == 0) {
      std::fprintf(stderr,
                   "aio: close() has waited %d s for %llu io_uring operation(s) that did not end when "
                   "cancelled (e.g. a read on a kernel worker thread); their memory must stay alive "
                   "until they end\n",
                   idle / 10, static_cast<unsigned long long>(ring.in_flight()));
    }
    ring.cancel_all();
  }
}

void LoopCore::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  uring::Ring& ring = driver_->ring;
  if (std::this_thread::get_id() != creator_) {
    // The ring is not this thread's to cache; a single-issuer ring refuses
    // this thread's cancels (io_uring_enter: EEXIST).
    ring.forbid_reuse();
    if (ring.in_flight() > 0 && (ring.setup_flags() & IORING_SETUP_SINGLE_ISSUER) != 0) {
      throw RuntimeError(
          "aio: close(): the loop has io_uring operations in flight and its ring accepts work only "
          "from the thread that created it (IORING_SETUP_SINGLE_ISSUER): close it on that thread");
    }
  }
  closed_ = true;
  closing_ = true;
  // run_coroutine_threadsafe's futures still pending end cancelled now, before
  // the workers are joined below: a to_thread call blocked in get() returns.
  concurrent_.close();
  cancel_in_flight();
  // Sockets and listeners close their descriptors now that no operation of
  // theirs is in flight, and forget the loop (they may outlive it).
  while (LoopResource* r = resources_.pop_front()) r->loop_closed(r);
  presubmit_ = nullptr;
  // A worker thread cannot be stopped, and a running call may use its task's
  // frame (`std::ref(local)`, a `[&]` lambda): wait for the calls still
  // running and join the workers before any frame is freed. Calls still
  // queued are handed back unrun; their outcomes are dropped below.
  if (pool_ != nullptr) pool_->shutdown();
  drop_ready();
  timers_.drain([](TimerNode* n) { n->on_due(n, TimerNode::Action::drop); });
  // Every frame is destroyed before any task is freed: a destructor in one
  // frame may wake (schedule) another task, which must still exist when the
  // ready queue is dropped.
  IntrusiveList<TaskBase> abandoned;
  while (TaskBase* t = live_.pop_front()) {
    t->abandon();
    abandoned.push_back(t);
  }
  drop_ready();
  while (TaskBase* t = abandoned.pop_front()) t->release();
  // What a destructor scheduled meanwhile (call_later, create_task) is dropped too.
  while (!live_.empty() || !timers_.empty() || !ready_.empty()) {
    timers_.drain([](TimerNode* n) { n->on_due(n, TimerNode::Action::drop); });
    while (TaskBase* t = live_.pop_front()) {
      t->abandon();
      abandoned.push_back(t);
    }
    drop_ready();
    while (TaskBase* t = abandoned.pop_front()) t->release();
  }
  closing_ = false;
  // A destructor may have started an operation (it is cancelled like the rest).
  cancel_in_flight();
  // The buffer ring is unregistered now that no recv can draw from it, so a
  // loop that used sockets still leaves a quiesced ring to reuse.
  driver_->net.reset();
  const bool reuse = ring.quiesced() && std::this_thread::get_id() == creator_;
  // From here on call_soon_threadsafe throws; what was posted is dropped.
  for (Runnable* r = remote_.close(reuse); r != nullptr;) {
    Runnable* next = r->next_ready;
    r->perform(r, Runnable::Action::drop);
    r = next;
  }
  driver_.reset();
}

void LoopCore::leak() noexcept {
  closed_ = true;
  concurrent_.close();  // no future of this loop is left waiting
  if (pool_ != nullptr) pool_->shutdown();
  (void)remote_.close();  // posts refused from here on; what was posted is leaked
  (void)driver_.release();
  live_.clear();
}

ThreadPool& LoopCore::pool() {
  if (pool_ == nullptr) pool_ = std::make_unique<ThreadPool>(remote_);
  return *pool_;
}

void submit_cancel(LoopCore& loop, const uring::Completion* target) {
  loop.driver().ring.cancel(target);
}

}  // namespace aio::detail
