#include "aio/detail/task_base.hpp"

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <typeinfo>
#include <utility>
#include <vector>

#include "aio/detail/loop_core.hpp"
#include "aio/errors.hpp"
#include "aio/task.hpp"

namespace aio::detail {
namespace {

// The tasks whose waits the outermost TaskBase::cancel on this thread still
// has to cancel (reused: no allocation per cancel; constant-initialised, so
// no TLS guard on the path), and whether such a cancel is running.
thread_local std::vector<TaskBase*> tls_cancel_queue;
thread_local bool tls_in_cancel = false;

std::string demangle(const char* mangled) {
  int status = 0;
  char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && name != nullptr ? name : mangled;
  std::free(name);
  return out;
}

// asyncio's repr of an exception: "ValueError('boom')"; here the C++ type,
// and what() for a std::exception.
std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return demangle(type->name()) + "('" + ex.what() + "')";
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type != nullptr ? demangle(type->name()) : std::string("unknown exception");
  }
}

}  // namespace

bool handling_cancelled_error() noexcept {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type != nullptr && *type == typeid(CancelledError);
}

TaskBase::TaskBase(LoopCore& loop, std::coroutine_handle<> frame, Runnable::Perform perform) noexcept
    : frame_(frame), loop_(&loop), resume_point_(frame), id_(static_cast<std::uint32_t>(loop.next_task_id())) {
  Runnable::perform = perform;
}

bool TaskBase::cancel(std::string_view message) {
  if (done()) return false;
  if (cancel_requests_ < UINT16_MAX) ++cancel_requests_;
  if (!message.empty() || extra_ != nullptr) {
    if (extra_ == nullptr) extra_ = std::make_unique<Extra>();
    extra_->cancel_message.assign(message);
  }
  must_cancel_ = true;
  if (wait_ == nullptr || forwarding_) return true;
  // A wait may forward the cancellation to other tasks (a handle's awaiter,
  // gather, a group): those are queued and handled by the outermost cancel,
  // so that a chain of 100,000 tasks awaiting each other does not recurse
  // 100,000 deep. forwarding_ stays set until the queue is done: a cycle of
  // tasks awaiting each other is not forwarded around forever.
  if (tls_in_cancel) {
    tls_cancel_queue.push_back(this);
    forwarding_ = true;
    return true;
  }
  forwarding_ = true;
  tls_in_cancel = true;
  // The hooks are noexcept: this always completes.
  wait_->cancel(wait_);
  std::vector<TaskBase*>& queue = tls_cancel_queue;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    TaskBase* t = queue[i];
    if (t->wait_ != nullptr) t->wait_->cancel(t->wait_);
  }
  tls_in_cancel = false;
  forwarding_ = false;
  for (TaskBase* t : queue) t->forwarding_ = false;
  queue.clear();
  return true;
}

std::string TaskBase::cancel_message() const {
  return extra_ != nullptr ? extra_->cancel_message : std::string();
}

void TaskBase::throw_cancelled() const { throw CancelledError(cancel_message()); }

std::string TaskBase::name() const {
  if (extra_ != nullptr && !extra_->name.empty()) return extra_->name;
  return "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) {
  if (extra_ == nullptr) extra_ = std::make_unique<Extra>();
  extra_->name = std::move(name);
}

void TaskBase::set_creation_site(const char* file, unsigned line) {
  if (extra_ == nullptr) extra_ = std::make_unique<Extra>();
  extra_->created_file = file;
  extra_->created_line = line;
}

void TaskBase::step_or_drop(Runnable* self, Action action) noexcept {
  // Dropped tasks are ended by LoopCore::close through the live list.
  if (action == Action::run) static_cast<TaskBase*>(self)->step();
}

void TaskBase::step() noexcept {
  LoopCore& loop = *loop_;
  if (!started_) {
    started_ = true;
    if (must_cancel_) {
      // Cancelled before its first step: the body never runs.
      std::coroutine_handle<> f = std::exchange(frame_, nullptr);
      f.destroy();
      status_ = TaskStatus::cancelled;
      complete();
      release();
      return;
    }
  }
  wait_ = nullptr;
  loop.current_ = this;
  if (loop.debug()) {
    const std::int64_t start = LoopCore::now();
    // The co_await the step resumes from, read now: the frame may end in the step.
    const AwaitSite resumed_from = promise_of(resume_point_.address()).site;
    run_frames();
    report_if_slow(loop, start, this, &resumed_from);
  } else {
    run_frames();
  }
  loop.current_ = nullptr;
  if (done()) release();  // the loop's reference
}

// detail::drive, also keeping resume_point_ at the frame running now, so that
// a call graph taken inside the step starts from there (one store a frame).
inline void TaskBase::run_frames() noexcept {
  std::coroutine_handle<> h = resume_point_;
  do {
    tls_next_resume = nullptr;
    resume_point_ = h;
    h.resume();
    h = tls_next_resume;
  } while (h);
}

void TaskBase::finish_root() noexcept {
  perform(this, Action::harvest);
  std::coroutine_handle<> f = std::exchange(frame_, nullptr);
  f.destroy();
  complete();
}

void TaskBase::complete() noexcept {
  if (ListHook::linked()) ListHook::unlink();  // off the loop's live list
  // asyncio reports a failure nobody looked at always, not only in debug mode.
  if (status_ == TaskStatus::failed) report_unretrieved_ = true;
  wait_ = nullptr;
  // The list is newest first: reverse it to tell the waiters in the order
  // they came, marking every node unlinked before any target runs.
  DoneWaiter* ordered = nullptr;
  for (DoneWaiter* w = std::exchange(waiters_, nullptr); w != nullptr;) {
    DoneWaiter* next = w->next;
    w->next = ordered;
    w->pprev = nullptr;
    ordered = w;
    w = next;
  }
  while (ordered != nullptr) {
    DoneWaiter* w = ordered;
    ordered = w->next;
    w->next = nullptr;
    w->target->on_done(w->target, w, this);
  }
}

void TaskBase::abandon() noexcept {
  wait_ = nullptr;
  if (frame_) {
    std::coroutine_handle<> f = std::exchange(frame_, nullptr);
    f.destroy();
  }
  status_ = TaskStatus::cancelled;
  if (ListHook::linked()) ListHook::unlink();
  while (waiters_ != nullptr) waiters_->unlink();  // their awaiters live in frames the loop destroys too
}

void TaskBase::last_release() noexcept {
  if (report_unretrieved_ && status_ == TaskStatus::failed && !retrieved_) {
    // Debug mode recorded where the task was created (asyncio's "created at").
    std::string site;
    if (extra_ != nullptr && extra_->created_file != nullptr) {
      site = " created at " + std::string(extra_->created_file) + ":" + std::to_string(extra_->created_line);
    }
    std::fprintf(stderr, "Task exception was never retrieved: <Task finished name=%s exception=%s%s>\n",
                 name().c_str(), describe(error_).c_str(), site.c_str());
  }
  perform(this, Action::destroy);
}

void report_if_slow(const LoopCore& loop, std::int64_t start, const TaskBase* task, const AwaitSite* resumed_from) {
  const std::int64_t took = LoopCore::now() - start;
  if (took < loop.slow_step().count()) return;  // asyncio's test: dt >= slow_callback_duration
  const double seconds = static_cast<double>(took) / 1e9;
  if (task != nullptr) {
    std::fprintf(stderr, "Executing <Task name=%s> took %.3f seconds\n", task->name().c_str(), seconds);
    // Where the step began: the co_await the task resumed from (none on its
    // first step).
    if (resumed_from != nullptr) {
      const AwaitSite& site = *resumed_from;
      if (site.known()) {
        std::fprintf(stderr, "  the step resumed from File '%s', line %u, in %s()\n", site.file(), site.line(),
                     std::string(short_function_name(site.function())).c_str());
      }
    }
  } else {
    std::fprintf(stderr, "Executing <Handle> took %.3f seconds\n", seconds);
  }
}

LoopCore& running_loop() {
  if (tls_running_loop == nullptr) throw RuntimeError("no running event loop");
  return *tls_running_loop;
}

TaskBase& current_task() {
  LoopCore& loop = running_loop();
  if (loop.current() == nullptr) throw RuntimeError("aio: this await must run inside a task");
  return *loop.current();
}

}  // namespace aio::detail
