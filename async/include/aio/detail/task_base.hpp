#pragma once
// The untyped part of a task: scheduling, the cancellation protocol and the
// completion notification. TaskState<T> adds the result.

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "aio/detail/call_site.hpp"
#include "aio/detail/intrusive_list.hpp"
#include "aio/detail/runnable.hpp"

namespace aio::detail {

class LoopCore;

/// What a parked task waits on. `TaskBase::cancel` calls `cancel` while the
/// task is parked here (also after the wait was satisfied but before the task
/// resumed, so that a wait can hand back what it was given). It must be
/// idempotent. A wait that forwards the cancellation elsewhere (to the tasks
/// it awaits) calls `TaskBase::forward_cancel()`; otherwise the request stays
/// pending on the task and the awaiter's `await_resume` decides where it is
/// thrown.
struct Wait {
  void (*cancel)(Wait* self) noexcept = nullptr;
};

class TaskBase;
struct DoneWaiter;

/// Told when a task it waits for finishes. Several nodes may share one
/// target (a gather's children), so the target is given the node that was
/// told and the task.
struct DoneTarget {
  void (*on_done)(DoneTarget* self, DoneWaiter* node, TaskBase* finished) noexcept = nullptr;
  /// The task that waits through this target, once known (a handle's
  /// awaiter, a gather, a group's parent): the call graph's "awaited by".
  /// Null for a done callback.
  TaskBase* waiting = nullptr;
};

/// A node in a task's list of waiters. The task holds a single pointer (an
/// hlist: `pprev` points at whatever points at this node), so leaving the
/// list is O(1) and an unfinished task pays 8 bytes for the list.
struct DoneWaiter {
  DoneWaiter* next = nullptr;
  DoneWaiter** pprev = nullptr;
  DoneTarget* target = nullptr;

  DoneWaiter() noexcept = default;
  explicit DoneWaiter(DoneTarget* t) noexcept : target(t) {}
  DoneWaiter(const DoneWaiter&) = delete;
  DoneWaiter& operator=(const DoneWaiter&) = delete;

  bool linked() const noexcept { return pprev != nullptr; }
  void unlink() noexcept {
    *pprev = next;
    if (next != nullptr) next->pprev = pprev;
    next = nullptr;
    pprev = nullptr;
  }
};

enum class TaskStatus : std::uint8_t { pending, succeeded, failed, cancelled };

/// The coroutine the current step resumes next: a trampoline, so that a
/// coroutine awaiting a Task, and a Task handing control back to its awaiter,
/// never nest stack frames. Symmetric transfer would do the same only where
/// the compiler makes it a tail call, which g++ does not at -O0/-O1 or under
/// the sanitizers.
inline thread_local std::coroutine_handle<> tls_next_resume = nullptr;

inline void drive(std::coroutine_handle<> h) {
  do {
    tls_next_resume = nullptr;
    h.resume();
    h = tls_next_resume;
  } while (h);
}

/// True inside a catch handler whose exception is an aio::CancelledError
/// (checked by type, without a rethrow).
bool handling_cancelled_error() noexcept;

class TaskBase;
/// Debug mode: reports on stderr a task step (or, with a null task, a
/// callback) that held the loop at least its slow_callback_duration since
/// `start` ("Executing <Task name=...> took 3.004 seconds"); `resumed_from`,
/// the site of the co_await the step resumed from, names it on a second line
/// (unknown on a task's first step).
void report_if_slow(const LoopCore& loop, std::int64_t start, const TaskBase* task,
                    const AwaitSite* resumed_from = nullptr);

class TaskBase : public Runnable, public ListHook /* the loop's live tasks */ {
 public:
  /// `perform` is the ready-queue hook (Action::run / drop) and also the
  /// typed operations of TaskState<T> (Action::harvest / destroy): one
  /// pointer for all keeps a task's state at 112 bytes.
  explicit TaskBase(LoopCore& loop, std::coroutine_handle<> frame, Runnable::Perform perform) noexcept;
  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;

  LoopCore& loop() const noexcept { return *loop_; }
  bool done() const noexcept { return status_ != TaskStatus::pending; }
  TaskStatus status() const noexcept { return status_; }
  std::exception_ptr error() const noexcept { return error_; }
  void mark_retrieved() noexcept { retrieved_ = true; }

  // -- references: the loop holds one while the task is unfinished, each
  // TaskHandle one. The state is freed with the last.
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_release();
  }
  /// True if no reference but `own` of them is held: nobody else can read the result.
  bool sole_reader(std::uint32_t own) const noexcept { return refs_ <= own; }

  // -- cancellation (asyncio's Task.cancel / cancelling / uncancel)
  bool cancel(std::string_view message);
  int cancelling() const noexcept { return static_cast<int>(cancel_requests_); }
  int uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
    return static_cast<int>(cancel_requests_);
  }
  /// Consumes a pending cancellation: true when the caller must now throw it.
  bool take_cancel() noexcept {
    const bool pending = must_cancel_;
    must_cancel_ = false;
    return pending;
  }
  /// A composite wait passed the cancellation on to the tasks it awaits.
  void forward_cancel() noexcept { must_cancel_ = false; }
  [[noreturn]] void throw_cancelled() const;
  std::string cancel_message() const;

  // -- suspension
  /// Records where the task resumes and what it waits on; a cancellation
  /// that is already pending is applied to the new wait at once.
  void park(std::coroutine_handle<> h, Wait* w) noexcept {
    resume_point_ = h;
    wait_ = w;
    if (must_cancel_) w->cancel(w);
  }

  /// Links `w`; its target is told once, when the task finishes, in the
  /// order the waiters were added.
  void add_done_waiter(DoneWaiter* w) noexcept {
    w->next = waiters_;
    if (waiters_ != nullptr) waiters_->pprev = &w->next;
    w->pprev = &waiters_;
    waiters_ = w;
  }

  /// Unlinks `w` if it is one of this task's waiters whose target is told
  /// by `on_done`; returns whether it was.
  bool remove_done_waiter(DoneWaiter* w, void (*on_done)(DoneTarget*, DoneWaiter*, TaskBase*) noexcept) noexcept {
    for (DoneWaiter* n = waiters_; n != nullptr; n = n->next) {
      if (n == w && n->target->on_done == on_done) {
        n->unlink();
        return true;
      }
    }
    return false;
  }

  std::uint32_t id() const noexcept { return id_; }
  std::string name() const;
  void set_name(std::string name);
  /// Debug mode: the file and line of the create_task call, for reports.
  void set_creation_site(const char* file, unsigned line);

  // -- introspection (call graphs, EventLoop::dump_tasks)
  /// The innermost coroutine frame: where the task is parked, or, during
  /// its step, the frame running now. Null once the task is done. From it
  /// the call graph walks outwards through each promise's parent link.
  void* innermost_frame() const noexcept { return frame_ ? resume_point_.address() : nullptr; }
  bool started() const noexcept { return started_; }
  /// Parked on a wait (false while ready to run or running).
  bool parked() const noexcept { return wait_ != nullptr; }
  /// Calls `f(waiter)` for each node waiting for this task, oldest first is
  /// not promised (newest first).
  template <class F>
  void for_each_done_waiter(F&& f) const {
    for (DoneWaiter* n = waiters_; n != nullptr; n = n->next) f(n);
  }

  // -- the loop's side
  /// From the root coroutine's final suspend point: store the outcome, free
  /// the frame, wake the awaiters.
  void finish_root() noexcept;
  /// The step function: runs the task at the front of the ready queue.
  static void step_or_drop(Runnable* self, Action action) noexcept;
  /// The loop closes while this task is unfinished (no kernel operation of
  /// it is in flight any more): destroy its frame and end it cancelled.
  void abandon() noexcept;

 protected:
  ~TaskBase() = default;

  std::coroutine_handle<> frame_;  // the root coroutine, until it finishes
  std::exception_ptr error_;       // failed: the exception; cancelled: the CancelledError thrown, if any

 private:
  struct Extra {
    std::string name;
    std::string cancel_message;
    const char* created_file = nullptr;
    unsigned created_line = 0;
  };

  void step() noexcept;
  void run_frames() noexcept;
  void complete() noexcept;
  void last_release() noexcept;

  LoopCore* loop_;
  std::coroutine_handle<> resume_point_;  // innermost coroutine to resume
  Wait* wait_ = nullptr;                  // what the task is parked on
  DoneWaiter* waiters_ = nullptr;         // newest first
  std::unique_ptr<Extra> extra_;
  std::uint32_t id_;
  std::uint32_t refs_ = 1;  // the loop's
  std::uint16_t cancel_requests_ = 0;

 protected:
  TaskStatus status_ = TaskStatus::pending;
  bool must_cancel_ = false;

 private:
  bool started_ : 1 = false;
  bool forwarding_ : 1 = false;  // inside wait_->cancel
  bool retrieved_ : 1 = false;
  bool report_unretrieved_ : 1 = false;
};

}  // namespace aio::detail
